//! The MCP text of every tool loses nothing: on the sample workspace (including a file with
//! tabs and trailing spaces, and names with spaces and unicode), every value of the JSON
//! result that is not derivable from others appears in the text rendering, in the lines of
//! its own item; and the text is smaller than the JSON.
//!
//! The JSON comes from the real component (`host-demo call`); the text is what `host-demo
//! mcp` and the Spin component send for it (`mcp_protocol::tool_result`, checked against a
//! live MCP session in `e2e_mcp.rs`).

mod common;

use common::Host;
use common::lossless::{Rules, missing, nothing_derived};
use fake_bitbucket::FakeBitbucket;
use fake_bitbucket::sample::*;
use fake_bitbucket::sample_review::{FAILED_LOG_LAST_LINE, HUGE_LOG_BUILD};
use host_demo::mcp::{CallOutcome, tool_result};
use serde_json::{Value, json};

const WS: &str = "acme";

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

fn repositories() -> Rules {
    fn derived(field: &str, r: &Value, _: &Value, block: &str, text: &str) -> Option<bool> {
        let (slug, full) = (s(r, "slug"), s(r, "full_name"));
        match field {
            "full_name" => Some(full == format!("{WS}/{slug}") && text.starts_with("acme: ")),
            "name" if s(r, "name") == slug => Some(true),
            // Private unless the word after the main branch is `public`.
            "is_private" => {
                let public = block.split(' ').nth(3) == Some("public");
                Some(
                    public != (r["is_private"] == true)
                        && text.contains("private unless marked public"),
                )
            }
            "url" if text.contains("; web page ") => {
                let base = s(r, "url").strip_suffix(&format!("/{full}"))?;
                Some(text.contains(&format!("; web page {base}/{WS}/<slug>\n")))
            }
            _ => None,
        }
    }
    Rules {
        lists: &[("repositories", |r| format!("{} ", s(r, "slug")))],
        derived,
        bools: &[],
    }
}

fn directory() -> Rules {
    fn derived(field: &str, e: &Value, result: &Value, block: &str, text: &str) -> Option<bool> {
        let path = s(e, "path");
        let dir = s(result, "path");
        // The listing's own `repo`, `ref` and `path` (no `type`) are in the header.
        e.get("type")?;
        match field {
            // The header names the directory; the line, the entry's name in it.
            "path" => {
                let shown = if dir.is_empty() {
                    "/".to_string()
                } else {
                    format!("{dir}/")
                };
                let name = path.strip_prefix(&shown).unwrap_or(path);
                Some(
                    text.lines().next()?.contains(&format!(", {shown}: "))
                        && block.starts_with(name)
                        && (dir.is_empty() || path.starts_with(&shown)),
                )
            }
            "type" => Some(block.starts_with(&format!(
                "{}{}",
                path.rsplit('/').next()?,
                if s(e, "type") == "directory" {
                    "/"
                } else {
                    " "
                }
            ))),
            _ => None,
        }
    }
    Rules {
        lists: &[("entries", |e| {
            s(e, "path").rsplit('/').next().unwrap().to_string()
        })],
        derived,
        bools: &[],
    }
}

fn file() -> Rules {
    fn derived(field: &str, _: &Value, result: &Value, _: &str, _: &str) -> Option<bool> {
        let binary = result["binary"] == true;
        let no_lines = result["lines"].as_array().is_some_and(Vec::is_empty);
        match field {
            // A binary file has no lines: there is no range to show.
            "start_line" | "end_line" if binary => Some(true),
            // 0 stands for "no line returned", which the header says in words.
            "end_line" if no_lines => Some(result["end_line"] == 0),
            _ => None,
        }
    }
    Rules {
        lists: &[("lines", |l| format!("{}| ", l["number"]))],
        derived,
        bools: &[("binary", "binary", ""), ("truncated", "truncated", "")],
    }
}

fn search() -> Rules {
    fn derived(field: &str, hit: &Value, _: &Value, block: &str, text: &str) -> Option<bool> {
        let slug = s(hit, "repo").strip_prefix("acme/")?;
        (field == "repo").then(|| {
            text.starts_with("code search in acme: ") && block.starts_with(&format!("{slug}:"))
        })
    }
    Rules {
        lists: &[("results", |r| {
            let repo = s(r, "repo");
            format!(
                "{}:{}",
                repo.strip_prefix("acme/").unwrap_or(repo),
                s(r, "path")
            )
        })],
        derived,
        bools: &[],
    }
}

fn commits() -> Rules {
    Rules {
        lists: &[("commits", |c| format!("{} ", s(c, "hash")))],
        derived: nothing_derived,
        bools: &[],
    }
}

fn letter(status: &str) -> &str {
    match status {
        "added" => "A",
        "removed" => "D",
        "modified" => "M",
        "renamed" => "R",
        other => other,
    }
}

/// A diffstat line (get_commit, get_pull_request): `M +3 -1 path`.
fn file_line(f: &Value) -> String {
    format!(
        "{} +{} -{} ",
        letter(s(f, "status")),
        f["lines_added"],
        f["lines_removed"]
    )
}

/// In a diffstat line the letter is the status, and an unchanged path is not repeated.
fn file_derived(field: &str, f: &Value, _: &Value, block: &str, _: &str) -> Option<bool> {
    match field {
        "old_path" if f["old_path"] == f["path"] => Some(true),
        "status" if f.get("lines_added").is_some() => {
            Some(block.starts_with(&format!("{} ", letter(s(f, "status")))))
        }
        _ => None,
    }
}

fn commit() -> Rules {
    Rules {
        bools: &[("diff_truncated", "diff (truncated", "")],
        lists: &[("files", file_line)],
        derived: file_derived,
    }
}

fn pull_requests() -> Rules {
    fn derived(field: &str, p: &Value, _: &Value, _: &str, text: &str) -> Option<bool> {
        if field != "url" || !text.contains("; web page ") {
            return None;
        }
        let base = s(p, "url").strip_suffix(&format!("/{}", p["id"]))?;
        Some(text.contains(&format!("; web page {base}/<id>;")))
    }
    Rules {
        lists: &[("pull_requests", |p| format!("#{} ", p["id"]))],
        derived,
        bools: &[("draft", "(draft)", "")],
    }
}

fn pipelines() -> Rules {
    Rules {
        lists: &[("pipelines", |p| format!("#{} ", p["build_number"]))],
        derived: nothing_derived,
        bools: &[],
    }
}

fn branches() -> Rules {
    fn derived(field: &str, b: &Value, _: &Value, block: &str, _: &str) -> Option<bool> {
        (field == "is_default").then(|| block.starts_with("* ") == (b["is_default"] == true))
    }
    Rules {
        lists: &[("branches", |b| {
            let mark = if b["is_default"] == true { "* " } else { "" };
            format!("{mark}{} ", s(b, "name"))
        })],
        derived,
        bools: &[],
    }
}

fn pull_request() -> Rules {
    Rules {
        lists: &[
            ("statuses", |b| {
                format!("{} {} ", s(b, "state"), s(b, "name"))
            }),
            ("files", file_line),
            ("comments", |c| format!("#{} ", c["id"])),
        ],
        derived: file_derived,
        bools: &[
            ("draft", "(draft)", ""),
            ("diff_truncated", "diff (truncated", ""),
        ],
    }
}

fn pipeline() -> Rules {
    Rules {
        lists: &[("steps", |step| {
            format!(
                "{} {} ",
                s(step, "state"),
                step["result"].as_str().unwrap_or("-")
            )
        })],
        derived: nothing_derived,
        bools: &[("log_truncated", "(earlier lines left out)", "")],
    }
}

fn rules(tool: &str) -> Rules {
    match tool {
        "list_repositories" => repositories(),
        "browse_repository" => directory(),
        "read_file" => file(),
        "search_code" => search(),
        "list_commits" => commits(),
        "get_commit" => commit(),
        "list_pull_requests" => pull_requests(),
        "list_pipelines" => pipelines(),
        "list_branches" => branches(),
        "get_pull_request" => pull_request(),
        "get_pipeline" => pipeline(),
        other => panic!("no rules for {other}"),
    }
}

/// The MCP text of a JSON result.
fn mcp_text(tool: &str, result: &Value) -> String {
    let r = tool_result(tool, &CallOutcome::Success(result.clone()));
    r["content"][0]["text"].as_str().unwrap().to_string()
}

/// Calls the tool, renders its result and checks that nothing is lost; the text.
fn check(host: &Host, tool: &str, args: Value) -> String {
    let result = host.call(tool, args.clone());
    let text = mcp_text(tool, &result);
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "{tool} {args}: not rendered: {text}"
    );
    let lost = missing(&result, &text, &rules(tool));
    assert!(
        lost.is_empty(),
        "{tool} {args} loses values:\n{}\ntext:\n{text}",
        lost.join("\n")
    );
    let json = result.to_string();
    assert!(
        text.len() < json.len(),
        "{tool} {args}: text {} bytes, JSON {} bytes",
        text.len(),
        json.len()
    );
    text
}

#[test]
fn every_tool_text_carries_every_value() {
    let fake = FakeBitbucket::start();
    let host = Host::new(&fake);
    let ws = fake.workspace();
    let widgets = ws.repository(WIDGETS).unwrap();
    let mixed = widgets
        .commits
        .iter()
        .find(|c| c.subject() == MIXED_COMMIT_SUBJECT)
        .unwrap();
    let merge = widgets
        .commits
        .iter()
        .find(|c| c.parents.len() == 2)
        .unwrap();
    let website = ws.repository(WEBSITE).unwrap();
    let unicode_commit = website.main_head().unwrap();

    let text = check(&host, "list_repositories", json!({"limit": 100}));
    assert!(text.contains(WEBSITE_NAME), "{text}");
    check(&host, "list_repositories", json!({"limit": 2}));

    check(&host, "browse_repository", json!({"repo": WIDGETS}));
    check(
        &host,
        "browse_repository",
        json!({"repo": WIDGETS, "path": "src/widgets"}),
    );
    check(
        &host,
        "browse_repository",
        json!({"repo": WIDGETS, "path": GENERATED_DIR, "limit": 100}),
    );
    let text = check(
        &host,
        "browse_repository",
        json!({"repo": WEBSITE, "path": "docs"}),
    );
    assert!(text.contains("Anleitung für Anfänger.md"), "{text}");
    check(
        &host,
        "browse_repository",
        json!({"repo": WEBSITE, "limit": 2}),
    );

    let text = check(
        &host,
        "read_file",
        json!({"repo": WEBSITE, "path": TABS_FILE}),
    );
    let body: Vec<&str> = text.lines().skip(1).collect();
    let expected: Vec<String> = TABS_TEXT
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{}| {l}", i + 1))
        .collect();
    assert_eq!(body, expected, "tabs and trailing spaces are kept");
    check(
        &host,
        "read_file",
        json!({"repo": WEBSITE, "path": UNICODE_FILE}),
    );
    check(
        &host,
        "read_file",
        json!({"repo": WIDGETS, "path": "README.md"}),
    );
    check(
        &host,
        "read_file",
        json!({"repo": WIDGETS, "path": NESTED_FILE, "start_line": 3, "end_line": 6}),
    );
    check(
        &host,
        "read_file",
        json!({"repo": WIDGETS, "path": BINARY_FILE}),
    );
    check(
        &host,
        "read_file",
        json!({"repo": WIDGETS, "path": CRLF_FILE}),
    );
    let text = check(
        &host,
        "read_file",
        json!({"repo": WIDGETS, "path": BIG_FILE}),
    );
    assert!(
        text.lines().next().unwrap().contains("truncated"),
        "{}",
        &text[..300]
    );

    check(
        &host,
        "search_code",
        json!({"query": SEARCH_WORD, "limit": 100}),
    );
    check(
        &host,
        "search_code",
        json!({"query": SEARCH_WORD, "limit": 1}),
    );

    check(
        &host,
        "list_commits",
        json!({"repo": WIDGETS, "branch": "main"}),
    );
    check(
        &host,
        "list_commits",
        json!({"repo": WIDGETS, "path": "docs", "limit": 100}),
    );
    let text = check(&host, "list_commits", json!({"repo": WEBSITE}));
    assert!(text.contains("Zoë Ölund-Åberg"), "{text}");

    check(
        &host,
        "get_commit",
        json!({"repo": WIDGETS, "commit": mixed.hash}),
    );
    check(
        &host,
        "get_commit",
        json!({"repo": WIDGETS, "commit": merge.hash}),
    );
    check(
        &host,
        "get_commit",
        json!({"repo": WEBSITE, "commit": unicode_commit.hash}),
    );

    check(&host, "list_pull_requests", json!({"repo": WIDGETS}));
    check(
        &host,
        "list_pull_requests",
        json!({"repo": WIDGETS, "state": ["OPEN", "MERGED", "DECLINED", "SUPERSEDED"], "limit": 100}),
    );
    check(
        &host,
        "list_pull_requests",
        json!({"repo": LEGACY_APP, "state": "MERGED"}),
    );

    check(
        &host,
        "list_pipelines",
        json!({"repo": WIDGETS, "limit": 100}),
    );
    check(&host, "list_pipelines", json!({"repo": WEBSITE}));

    check(
        &host,
        "list_branches",
        json!({"repo": WIDGETS, "limit": 100}),
    );
    check(&host, "list_branches", json!({"repo": WEBSITE}));

    // A commit whose diff the cap cuts (one file of 3000 lines, cut inside it).
    let big = widgets
        .commits
        .iter()
        .find(|c| c.diffstat.iter().any(|d| d.path() == BIG_FILE))
        .unwrap();
    let text = check(
        &host,
        "get_commit",
        json!({"repo": WIDGETS, "commit": big.hash, "diff": true}),
    );
    assert!(
        text.contains("\ndiff (truncated at the 100 KB cap"),
        "{}",
        &text[..text.len().min(2000)]
    );
    check(
        &host,
        "get_commit",
        json!({"repo": WIDGETS, "commit": mixed.hash, "diff": true}),
    );

    // Pull requests: 79 (inline comments, statuses), 60 (more comments than returned,
    // replies), merged and declined ones, with and without the diff.
    let prs = host.call(
        "list_pull_requests",
        json!({"repo": WIDGETS, "state": ["OPEN", "MERGED", "DECLINED", "SUPERSEDED"], "limit": 100}),
    );
    let ids: Vec<u64> = prs["pull_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    assert!(ids.contains(&79) && ids.contains(&60), "{ids:?}");
    for id in ids.iter().take(12) {
        check(
            &host,
            "get_pull_request",
            json!({"repo": WIDGETS, "id": id}),
        );
    }
    let text = check(
        &host,
        "get_pull_request",
        json!({"repo": WIDGETS, "id": 60}),
    );
    assert!(text.contains("; 7 older left out:"), "{text}");
    check(
        &host,
        "get_pull_request",
        json!({"repo": WIDGETS, "id": 79, "diff": true}),
    );
    check(
        &host,
        "get_pull_request",
        json!({"repo": LEGACY_APP, "id": 2}),
    );

    // Pipelines: every run on the first page (failed steps with log tails, runs without
    // steps), and a huge log read by its end.
    let runs = host.call("list_pipelines", json!({"repo": WIDGETS, "limit": 20}));
    for run in runs["pipelines"].as_array().unwrap() {
        let number = run["build_number"].to_string();
        check(
            &host,
            "get_pipeline",
            json!({"repo": WIDGETS, "pipeline": number}),
        );
    }
    let text = check(
        &host,
        "get_pipeline",
        json!({"repo": WIDGETS, "pipeline": HUGE_LOG_BUILD.to_string(), "log_lines": 20}),
    );
    assert!(
        text.contains(FAILED_LOG_LAST_LINE) || text.contains("log: "),
        "{text}"
    );
}

/// The checker itself finds a lost value: a rendering that drops a field fails.
#[test]
fn the_check_notices_a_lost_value() {
    let result = json!({"commits": [{"hash": "ab12", "author": "Zoë <z@x>", "date": "2024-01-01T00:00:00+00:00",
        "message": "Subject\n\nBody line"}], "next_page": null});
    let full = "1 commit\nab12 2024-01-01T00:00:00Z Zoë <z@x>: Subject\n\n    Body line";
    assert!(missing(&result, full, &commits()).is_empty());
    for lossy in [
        "1 commit\nab12 2024-01-01T00:00:00Z Zoë <z@x>: Subject",
        "1 commit\nab12 2024-01-01 Zoë <z@x>: Subject\n\n    Body line",
        "1 commit\nab1 2024-01-01T00:00:00Z Zoë <z@x>: Subject\n\n    Body line",
    ] {
        assert!(!missing(&result, lossy, &commits()).is_empty(), "{lossy}");
    }
    let file = json!({"repo": "a/b", "ref": "main", "path": "t.txt", "size": 9, "binary": false,
        "truncated": false, "total_lines": 1, "start_line": 1, "end_line": 1,
        "lines": [{"number": 1, "text": "\tx  "}]});
    assert!(
        missing(
            &file,
            "a/b at main, t.txt: lines 1-1 of 1, 9 bytes\n1| \tx  ",
            &rules("read_file")
        )
        .is_empty()
    );
    assert!(
        !missing(
            &file,
            "a/b at main, t.txt: lines 1-1 of 1, 9 bytes\n1| \tx",
            &rules("read_file")
        )
        .is_empty()
    );
    assert!(
        !missing(
            &file,
            "a/b at main, t.txt: lines 1-1 of 1, 9 bytes; truncated\n1| \tx  ",
            &rules("read_file")
        )
        .is_empty()
    );
}
