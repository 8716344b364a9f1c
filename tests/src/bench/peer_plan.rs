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

/// The raw answer for `path_and_query` (below `/2.0`), as the peer's `GET` tool sees it: it
/// follows redirects (the pull request's diffstat answers 302, a step log 307 to the storage
/// host, which gets no credentials).
fn get_bytes(fake: &FakeBitbucket, path_and_query: &str) -> Vec<u8> {
    let mut origin = format!("127.0.0.1:{}", fake.port());
    let mut target = format!("/2.0{path_and_query}");
    for _ in 0..5 {
        let api = origin == format!("127.0.0.1:{}", fake.port());
        let addr = origin.parse().expect("an address");
        let mut connection = Connection::open(addr).expect("connect to the fake");
        let mut headers = vec![
            ("host", origin.as_str()),
            ("accept", "*/*"),
            ("connection", "close"),
        ];
        if api {
            headers.push(("authorization", "Bearer test-token-valid"));
        }
        let reply = connection
            .send("GET", &target, &headers, b"")
            .expect("the fake answers");
        match reply.status {
            200 => return reply.body,
            301 | 302 | 307 => {
                let location = reply.header("location").expect("a Location").to_string();
                let rest = location
                    .strip_prefix("http://")
                    .expect("the fake redirects over http");
                let at = rest.find('/').unwrap_or(rest.len());
                origin = rest[..at].to_string();
                target = rest[at..].to_string();
            }
            status => panic!("{path_and_query}: {status}"),
        }
    }
    panic!("{path_and_query}: too many redirects")
}

fn get(fake: &FakeBitbucket, path_and_query: &str) -> Value {
    serde_json::from_slice(&get_bytes(fake, path_and_query)).expect("JSON")
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

/// The peer plan's answer for "review pull request `id`": the pull request, its
/// participants, build statuses, files changed and comments, each projected and tabled.
pub fn pull_request(fake: &FakeBitbucket, repo: &str, id: u64) -> usize {
    let base = format!("/repositories/acme/{repo}/pullrequests/{id}");
    let pr = get(fake, &base);
    let mut out = table(
        "pullrequest",
        std::slice::from_ref(&pr),
        &[
            ("id", "/id"),
            ("title", "/title"),
            ("state", "/state"),
            ("draft", "/draft"),
            ("author", "/author/display_name"),
            ("source", "/source/branch/name"),
            ("source_commit", "/source/commit/hash"),
            ("destination", "/destination/branch/name"),
            ("destination_commit", "/destination/commit/hash"),
            ("merge_commit", "/merge_commit/hash"),
            ("comment_count", "/comment_count"),
            ("task_count", "/task_count"),
            ("created_on", "/created_on"),
            ("updated_on", "/updated_on"),
            ("description", "/description"),
        ],
    );
    let participants = pr["participants"].as_array().cloned().unwrap_or_default();
    out.push('\n');
    out.push_str(&table(
        "participants",
        &participants,
        &[
            ("name", "/user/display_name"),
            ("role", "/role"),
            ("state", "/state"),
        ],
    ));
    let statuses = get(fake, &format!("{base}/statuses?pagelen=100"));
    out.push('\n');
    out.push_str(&table(
        "statuses",
        statuses["values"].as_array().map_or(&[][..], Vec::as_slice),
        &[("name", "/name"), ("state", "/state"), ("url", "/url")],
    ));
    let diffstat = get(fake, &format!("{base}/diffstat?pagelen=500"));
    out.push('\n');
    out.push_str(&table(
        "files",
        diffstat["values"].as_array().map_or(&[][..], Vec::as_slice),
        &[
            ("status", "/status"),
            ("path", "/new/path"),
            ("old_path", "/old/path"),
            ("added", "/lines_added"),
            ("removed", "/lines_removed"),
        ],
    ));
    let comments = get(
        fake,
        &format!("{base}/comments?pagelen=100&q=deleted%20%3D%20false"),
    );
    out.push('\n');
    out.push_str(&table(
        "comments",
        comments["values"].as_array().map_or(&[][..], Vec::as_slice),
        &[
            ("id", "/id"),
            ("author", "/user/display_name"),
            ("created_on", "/created_on"),
            ("path", "/inline/path"),
            ("line", "/inline/to"),
            ("parent", "/parent/id"),
            ("text", "/content/raw"),
        ],
    ));
    out.len()
}

/// The peer plan's answer for "why did run `build` fail": the run, its steps, and the log
/// of each failed step (a generic `GET` reads a log whole: it has no `Range`).
pub fn pipeline(fake: &FakeBitbucket, repo: &str, build: u64) -> usize {
    let base = format!("/repositories/acme/{repo}/pipelines/{build}");
    let run = get(fake, &base);
    let mut out = table(
        "pipeline",
        std::slice::from_ref(&run),
        &[
            ("build", "/build_number"),
            ("state", "/state/name"),
            ("result", "/state/result/name"),
            ("branch", "/target/ref_name"),
            ("commit", "/target/commit/hash"),
            ("trigger", "/trigger/name"),
            ("creator", "/creator/display_name"),
            ("created_on", "/created_on"),
            ("completed_on", "/completed_on"),
            ("seconds", "/duration_in_seconds"),
            ("uuid", "/uuid"),
        ],
    );
    let steps = get(fake, &format!("{base}/steps?pagelen=100"));
    let steps = steps["values"].as_array().cloned().unwrap_or_default();
    out.push('\n');
    out.push_str(&table(
        "steps",
        &steps,
        &[
            ("name", "/name"),
            ("state", "/state/name"),
            ("result", "/state/result/name"),
            ("started_on", "/started_on"),
            ("completed_on", "/completed_on"),
            ("seconds", "/duration_in_seconds"),
            ("uuid", "/uuid"),
        ],
    ));
    let mut bytes = out.len();
    for step in &steps {
        let result = step.pointer("/state/result/name").and_then(Value::as_str);
        if matches!(result, Some("FAILED" | "ERROR")) {
            let uuid = step["uuid"].as_str().unwrap_or_default();
            let encoded = uuid.replace('{', "%7B").replace('}', "%7D");
            bytes += get_bytes(fake, &format!("{base}/steps/{encoded}/log")).len() + 1;
        }
    }
    bytes
}
