//! Request and response types shared by the routes: percent-decoding, query strings, and a
//! response description that the server turns into bytes on the wire.

use crate::json;
use serde_json::Value;
use std::time::Duration;

/// Decodes `%XX` escapes (and `+` as a space when `plus_as_space`), lossily as UTF-8.
pub fn percent_decode(s: &str, plus_as_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hexval = |c: u8| (c as char).to_digit(16);
                match (hexval(b[i + 1]), hexval(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' if plus_as_space => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but unreserved characters and `/` (for paths in links).
pub fn encode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes a query component (everything but unreserved characters).
pub fn encode_component(s: &str) -> String {
    encode_path(s).replace('/', "%2F")
}

/// One `key=value` pair of a query string, raw (as sent) and decoded.
#[derive(Clone, Debug)]
pub struct QueryPair {
    /// The raw text of the pair, as sent.
    pub raw: String,
    /// The decoded key.
    pub key: String,
    /// The decoded value.
    pub value: String,
}

/// A parsed query string that remembers its raw form.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// The pairs in the order sent.
    pub pairs: Vec<QueryPair>,
}

impl Query {
    /// Parses a raw query string (without the `?`).
    pub fn parse(raw: &str) -> Query {
        let pairs = raw
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                QueryPair {
                    raw: p.to_string(),
                    key: percent_decode(k, true),
                    value: percent_decode(v, true),
                }
            })
            .collect();
        Query { pairs }
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.value.as_str())
    }

    /// All values of `key` (for repeatable parameters).
    pub fn get_all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|p| p.key == key)
            .map(|p| p.value.as_str())
            .collect()
    }

    /// The raw query with the position parameter `name` set to `value` (percent-encoded),
    /// replacing any `page` and `name`; every other parameter is repeated exactly as sent.
    pub fn with_position(&self, name: &str, value: &str) -> String {
        let mut parts: Vec<String> = self
            .pairs
            .iter()
            .filter(|p| p.key != "page" && p.key != name)
            .map(|p| p.raw.clone())
            .collect();
        parts.push(format!("{name}={}", encode_component(value)));
        parts.join("&")
    }

    /// The raw query with `page` set to `page`: replaced in place if present, else appended.
    /// Every other parameter is repeated exactly as sent.
    pub fn with_page(&self, page: &str) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut replaced = false;
        for p in &self.pairs {
            if p.key == "page" {
                if !replaced {
                    parts.push(format!("page={page}"));
                    replaced = true;
                }
            } else {
                parts.push(p.raw.clone());
            }
        }
        if !replaced {
            parts.push(format!("page={page}"));
        }
        parts.join("&")
    }
}

/// A request as the routes see it.
#[derive(Clone, Debug)]
pub struct ApiRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The raw path as sent, without the query.
    pub raw_path: String,
    /// The percent-decoded path (`%2F` becomes `/`, as Bitbucket does).
    pub path: String,
    /// The query string.
    pub query: Query,
    /// The headers (name, value).
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
}

impl ApiRequest {
    /// Builds a request from the raw request target (`/path?query`).
    pub fn new(method: &str, url: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        let (raw_path, raw_query) = url.split_once('?').unwrap_or((url, ""));
        ApiRequest {
            method: method.to_string(),
            raw_path: raw_path.to_string(),
            path: percent_decode(raw_path, false),
            query: Query::parse(raw_query),
            headers,
            body,
        }
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a response body is.
#[derive(Debug)]
pub enum Body {
    /// These bytes.
    Bytes(Vec<u8>),
    /// `len` bytes generated on the fly (a huge body), starting like a JSON page.
    Generated(u64),
    /// Never answer: hold the request for this long (or until the server stops).
    Stall(Duration),
}

/// A response to send.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
}

/// The JSON content type of the API.
pub const JSON_TYPE: &str = "application/json; charset=utf-8";

impl Reply {
    /// A JSON response.
    pub fn json(status: u16, value: &Value) -> Reply {
        Reply::bytes(status, JSON_TYPE, json::to_bytes(value))
    }

    /// A response with the given content type and body.
    pub fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: Body::Bytes(body),
        }
    }

    /// A JSON error envelope with only a message.
    pub fn error(status: u16, message: &str) -> Reply {
        Reply::json(status, &json::error(message))
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply {
            status,
            headers: vec![
                ("Location".into(), location.into()),
                ("Content-Type".into(), "text/html; charset=utf-8".into()),
            ],
            body: Body::Bytes(Vec::new()),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        assert_eq!(percent_decode("feature%2Flogin", false), "feature/login");
        assert_eq!(percent_decode("a+b%2Bc", true), "a b+c");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("100%", false), "100%");
        assert_eq!(percent_decode("%7Bx%7D", false), "{x}");
    }

    #[test]
    fn next_page_keeps_other_params_raw() {
        let q = Query::parse("fields=%2Bvalues.reviewers&state=OPEN&page=2&state=MERGED");
        assert_eq!(
            q.with_page("3"),
            "fields=%2Bvalues.reviewers&state=OPEN&page=3&state=MERGED"
        );
        let q = Query::parse("q=name+~+%22a%22");
        assert_eq!(q.get("q"), Some("name ~ \"a\""));
        assert_eq!(q.with_page("2"), "q=name+~+%22a%22&page=2");
    }
}
