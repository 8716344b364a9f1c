//! The best peer plan of issue 11, re-enacted on this project's sample so that its bytes can
//! be compared on the same data: a generic `GET` of the Bitbucket API, a JMESPath-style
//! projection to the fields an agent needs, and a compact tabular output (TOON's table form:
//! a header naming the fields once, one comma-separated row per item, a value quoted only
//! when it holds a delimiter, a quote, a colon, a line break or edge spaces).
//!
//! The projection keeps what our MCP text keeps (the same information, so neither side wins
//! by dropping something): derivable values (`full_name`, the web URL) are left out on both.

use fake_bitbucket::FakeBitbucket;
use fake_bitbucket::served::Connection;
use serde_json::Value;

/// The raw API answer for `path_and_query` (below `/2.0`), as the peer's `GET` tool sees it.
fn get(fake: &FakeBitbucket, path_and_query: &str) -> Value {
    let addr = format!("127.0.0.1:{}", fake.port())
        .parse()
        .expect("an address");
    let mut connection = Connection::open(addr).expect("connect to the fake");
    let reply = connection
        .send(
            "GET",
            &format!("/2.0{path_and_query}"),
            &[
                ("host", &format!("127.0.0.1:{}", fake.port())),
                ("authorization", "Bearer test-token-valid"),
                ("connection", "close"),
            ],
            b"",
        )
        .expect("the fake answers");
    assert_eq!(reply.status, 200, "{path_and_query}");
    serde_json::from_slice(&reply.body).expect("JSON")
}

/// A value in a table row.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => {
            let plain =
                !s.is_empty() && !s.contains([',', '"', ':', '\\', '\n', '\r']) && s.trim() == s;
            if plain {
                s.clone()
            } else {
                serde_json::to_string(s).expect("a string serializes")
            }
        }
        other => other.to_string(),
    }
}

/// `name[N]{fields}:` and one row per item of `items`, each field read at its JSON pointer.
fn table(name: &str, items: &[Value], fields: &[(&str, &str)]) -> String {
    let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
    let mut out = format!("{name}[{}]{{{}}}:", items.len(), names.join(","));
    for item in items {
        let row: Vec<String> = fields
            .iter()
            .map(|(_, pointer)| cell(item.pointer(pointer).unwrap_or(&Value::Null)))
            .collect();
        out.push_str("\n  ");
        out.push_str(&row.join(","));
    }
    out
}

/// The peer plan's answer for "list the workspace's repositories" (`limit` of them, most
/// recently updated first), in bytes, and the number of repositories it holds.
pub fn repositories(fake: &FakeBitbucket, limit: usize) -> (usize, usize) {
    let page = get(
        fake,
        &format!("/repositories/acme?pagelen={limit}&sort=-updated_on"),
    );
    let items = page["values"].as_array().cloned().unwrap_or_default();
    let text = table(
        "repositories",
        &items,
        &[
            ("slug", "/slug"),
            ("name", "/name"),
            ("language", "/language"),
            ("is_private", "/is_private"),
            ("mainbranch", "/mainbranch/name"),
            ("updated_on", "/updated_on"),
            ("description", "/description"),
        ],
    );
    (text.len(), items.len())
}
