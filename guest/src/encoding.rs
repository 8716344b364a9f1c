//! Small encoders the component needs without extra dependencies: percent-encoding for URL
//! parts, and base64 for Basic credentials and page cursors.

/// Percent-encodes one URL path segment or query value: everything but RFC 3986 unreserved
/// characters is escaped, so `/`, `?`, `#`, `%`, `+` and spaces can never change the URL's shape.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0f));
        }
    }
    out
}

/// Percent-encodes a repository path, keeping the `/` between its segments.
pub fn percent_encode_path(path: &str) -> String {
    path.split('/')
        .map(percent_encode)
        .collect::<Vec<_>>()
        .join("/")
}

/// Decodes `%XX` escapes (and `+` as space, as in query strings). Invalid escapes stay as they are.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi << 4 | lo);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of query parameter `name` in `url`, decoded.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(key) == name).then(|| percent_decode(value))
    })
}

fn hex_digit(nibble: u8) -> char {
    b"0123456789ABCDEF"[nibble as usize] as char
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Standard base64 with padding (for `Authorization: Basic`).
pub fn base64(data: &[u8]) -> String {
    encode64(data, STANDARD, true)
}

/// URL-safe base64 without padding (for page cursors).
pub fn base64_url(data: &[u8]) -> String {
    encode64(data, URL_SAFE, false)
}

/// Decodes URL-safe base64 without padding; `None` for anything else.
pub fn base64_url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in text.bytes() {
        let value = URL_SAFE.iter().position(|&c| c == byte)? as u32;
        buffer = buffer << 6 | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero padding, and a lone 6-bit group cannot occur.
    (bits < 6 && buffer == 0).then_some(out)
}

fn encode64(data: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk.len();
        let group = (chunk[0] as u32) << 16
            | (chunk.get(1).copied().unwrap_or(0) as u32) << 8
            | chunk.get(2).copied().unwrap_or(0) as u32;
        for i in 0..4 {
            if i <= n {
                out.push(alphabet[(group >> (18 - 6 * i) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encode_escapes_everything_that_shapes_a_url() {
        assert_eq!(percent_encode("feature/login"), "feature%2Flogin");
        assert_eq!(percent_encode("a b?c#d%e+f"), "a%20b%3Fc%23d%25e%2Bf");
        assert_eq!(percent_encode("Ok-._~9"), "Ok-._~9");
        assert_eq!(percent_encode("é"), "%C3%A9");
        assert_eq!(percent_encode_path("src/a b/c.rs"), "src/a%20b/c.rs");
    }

    #[test]
    fn percent_decode_round_trips_and_keeps_bad_escapes() {
        assert_eq!(percent_decode("feature%2Flogin"), "feature/login");
        assert_eq!(percent_decode("a+b%2"), "a b%2");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode(&percent_encode("x/ y?é")), "x/ y?é");
    }

    #[test]
    fn query_param_finds_decoded_values() {
        let url = "https://api.bitbucket.org/2.0/r/commits?pagelen=30&page=abc%3D&q=x#frag";
        assert_eq!(query_param(url, "page").as_deref(), Some("abc="));
        assert_eq!(query_param(url, "q").as_deref(), Some("x"));
        assert_eq!(query_param(url, "missing"), None);
        assert_eq!(query_param("no-query", "page"), None);
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    }

    #[test]
    fn base64_url_round_trips_and_rejects_garbage() {
        for data in [&b""[..], b"a", b"ab", b"abc", b"\xff\xfe\x00{json}"] {
            let encoded = base64_url(data);
            assert!(!encoded.contains('='));
            assert_eq!(base64_url_decode(&encoded).as_deref(), Some(data));
        }
        assert_eq!(base64_url_decode("a+b"), None);
        assert_eq!(base64_url_decode("A"), None);
    }
}
