//! URL and credential encodings, through the `percent-encoding`, `form_urlencoded` and
//! `base64` crates, with the exact sets the API needs: percent-encoding for URL parts, query
//! parsing for `next` links, and base64 for Basic credentials and page cursors.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`).
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one URL path segment or query value: everything but RFC 3986 unreserved
/// characters is escaped, so `/`, `?`, `#`, `%`, `+` and spaces can never change the URL's shape.
pub fn percent_encode(text: &str) -> String {
    utf8_percent_encode(text, NOT_UNRESERVED).to_string()
}

/// Percent-encodes a repository path, keeping the `/` between its segments.
pub fn percent_encode_path(path: &str) -> String {
    path.split('/')
        .map(percent_encode)
        .collect::<Vec<_>>()
        .join("/")
}

/// The query pairs of `url` (after `?`, before `#`), decoded.
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or(query);
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The value of query parameter `name` in `url`, decoded.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    query_pairs(url)
        .into_iter()
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// An absolute http(s) URL split for a request: scheme, `host[:port]`, path and query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbsoluteUrl {
    /// `true` for https.
    pub https: bool,
    /// `host[:port]`.
    pub authority: String,
    /// The path and query as given (already encoded), starting with `/`.
    pub path_and_query: String,
}

impl AbsoluteUrl {
    /// Parses a `Location` value: an absolute http(s) URL, or a path on `base`'s origin.
    /// Refuses user information, fragments' content is dropped, and anything with spaces or
    /// control characters.
    pub fn resolve(location: &str, base: &crate::config::BaseUrl) -> Option<AbsoluteUrl> {
        let location = location.trim();
        if location.is_empty()
            || location
                .chars()
                .any(|c| c.is_control() || c == ' ' || c == '\\')
        {
            return None;
        }
        let location = location.split('#').next().unwrap_or(location);
        let (https, rest) = if let Some(rest) = location.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = location.strip_prefix("http://") {
            (false, rest)
        } else if location.starts_with('/') && !location.starts_with("//") {
            return Some(AbsoluteUrl {
                https: base.https,
                authority: base.authority.clone(),
                path_and_query: location.to_owned(),
            });
        } else {
            return None;
        };
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(split);
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let path_and_query = if tail.starts_with('/') {
            tail.to_owned()
        } else {
            format!("/{tail}")
        };
        Some(AbsoluteUrl {
            https,
            authority: authority.to_ascii_lowercase(),
            path_and_query,
        })
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.path_and_query
            .split('?')
            .next()
            .unwrap_or(&self.path_and_query)
    }

    /// `scheme://host[:port]`, safe to show (no path or query: those may be signed).
    pub fn origin(&self) -> String {
        format!(
            "{}://{}",
            if self.https { "https" } else { "http" },
            self.authority
        )
    }
}

/// Standard base64 with padding (for `Authorization: Basic`).
pub fn base64(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// URL-safe base64 without padding (for page cursors).
pub fn base64_url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Decodes URL-safe base64 without padding; `None` for anything else.
pub fn base64_url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
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
    fn query_pairs_decode_and_keep_bad_escapes() {
        let pairs = query_pairs("https://x/p?a=feature%2Flogin&b=a+b%2&c=%zz&d=x%2By%2F%3D#f");
        let values: Vec<&str> = pairs.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(values, ["feature/login", "a b%2", "%zz", "x+y/="]);
        let round = format!("?k={}", percent_encode("x/ y?é&+="));
        assert_eq!(query_param(&round, "k").as_deref(), Some("x/ y?é&+="));
        assert!(query_pairs("https://x/p").is_empty());
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
