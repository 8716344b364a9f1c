//! Each rendering on hand-made results: the exact text for the plain cases, and the edge
//! cases (next page, nulls, URLs off the pattern, multi-line text, tabs, unicode).

use serde_json::{Value, json};

use super::render;

fn text(tool: &str, value: Value) -> String {
    render(tool, &value).unwrap_or_else(|| panic!("{tool} renders {value}"))
}

#[test]
fn repositories() {
    let repo = |slug: &str, name: &str, desc: &str, lang: &str, private: bool, branch: Value| {
        json!({"slug": slug, "full_name": format!("acme/{slug}"), "name": name,
               "description": desc, "language": lang, "is_private": private,
               "default_branch": branch, "updated_on": "2024-05-20T10:00:00.654321+00:00",
               "url": format!("https://bitbucket.org/acme/{slug}")})
    };
    let v = json!({"repositories": [
        repo("widgets", "widgets", "Widgets.", "rust", true, json!("main")),
        repo("café-app", "Café app ☕", "Line one\nline two", "", false, Value::Null),
    ], "next_page": "Mg"});
    assert_eq!(
        text("list_repositories", v),
        "acme: 2 repositories, most recently updated first; more: call again with page=\"Mg\"\n\
         slug language main-branch [public] updated [name:] description; private unless marked public; web page https://bitbucket.org/acme/<slug>\n\
         widgets rust main 2024-05-20T10:00:00.654321Z Widgets.\n\
         café-app - - public 2024-05-20T10:00:00.654321Z Café app ☕: Line one\n    line two"
    );
    // A URL off the pattern is shown on its line.
    let mut odd = repo("w", "w", "", "go", true, json!("main"));
    odd["url"] = json!("https://example.com/w");
    let t = text(
        "list_repositories",
        json!({"repositories": [odd], "next_page": null}),
    );
    assert!(
        t.ends_with("w go main 2024-05-20T10:00:00.654321Z https://example.com/w"),
        "{t}"
    );
    assert!(t.contains("; last page"), "{t}");
}

#[test]
fn directory() {
    let v = json!({"repo": "acme/widgets", "ref": "main", "path": "src", "entries": [
        {"path": "src/widgets", "type": "directory", "size": null},
        {"path": "src/my file.rs", "type": "file", "size": 58},
    ], "next_page": null});
    assert_eq!(
        text("browse_repository", v),
        "acme/widgets at main, src/: 2 entries (files with their size in bytes, directories end in /); last page\nwidgets/\nmy file.rs 58"
    );
    let root = json!({"repo": "acme/w", "ref": "v1", "path": "", "entries": [
        {"path": "README.md", "type": "file", "size": 3}], "next_page": "x"});
    assert!(text("browse_repository", root).starts_with("acme/w at v1, /: 1 entry"));
}

#[test]
fn file_lines_keep_tabs_and_trailing_spaces() {
    let v = json!({"repo": "acme/widgets", "ref": "main", "path": "src/lib.rs", "size": 120,
        "binary": false, "truncated": false, "total_lines": 12, "start_line": 9, "end_line": 10,
        "lines": [{"number": 9, "text": "fn main() {  "}, {"number": 10, "text": "\t\"x\"\t}"}]});
    assert_eq!(
        text("read_file", v),
        "acme/widgets at main, src/lib.rs: lines 9-10 of 12, 120 bytes\n 9| fn main() {  \n10| \t\"x\"\t}"
    );
}

#[test]
fn file_flags() {
    let base = json!({
        "repo": "acme/w", "ref": "abc123", "path": "big.txt", "size": 500_000,
        "binary": false, "truncated": true, "total_lines": null, "start_line": 1,
        "end_line": 2, "lines": [{"number": 1, "text": "a"}, {"number": 2, "text": "b"}],
    });
    let header = text("read_file", base.clone())
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        header,
        "acme/w at abc123, big.txt: lines 1-2 of ? (too large to count), 500000 bytes; truncated at the 100 KB cap: continue with start_line=3"
    );
    let mut binary = base.clone();
    binary["binary"] = json!(true);
    binary["truncated"] = json!(false);
    binary["lines"] = json!([]);
    assert_eq!(
        text("read_file", binary),
        "acme/w at abc123, big.txt: a binary file of 500000 bytes, no text shown"
    );
    let mut past_end = base;
    past_end["truncated"] = json!(false);
    past_end["lines"] = json!([]);
    past_end["start_line"] = json!(40);
    past_end["total_lines"] = json!(12);
    assert_eq!(
        text("read_file", past_end),
        "acme/w at abc123, big.txt: no lines returned from line 40 (the file has 12 lines, 500000 bytes)"
    );
    assert_eq!(render("read_file", &json!({"repo": "x"})), None);
}

#[test]
fn search_hits_are_grouped_by_file() {
    let v = json!({"results": [
        {"repo": "acme/widgets", "path": "src/spur.rs", "matches": [
            {"line": 4, "text": "pub fn frobnicate(x: u32) -> u32 {"}]},
        {"repo": "acme/legacy-app", "path": "app/utils.py", "matches": [
            {"line": 4, "text": "def frobnicate(value):"},
            {"line": 11, "text": "    return frobnicate(frobnicate(value))"}]},
    ], "next_page": null});
    assert_eq!(
        text("search_code", v),
        "code search in acme: 2 files (repo:path, then line: text); last page\n\
         widgets:src/spur.rs\n  4: pub fn frobnicate(x: u32) -> u32 {\n\
         legacy-app:app/utils.py\n  4: def frobnicate(value):\n  11:     return frobnicate(frobnicate(value))"
    );
}

const HASH: &str = "8371578a0b6f3a0e4d43c7b9f3f4e1d2c3b4a596";
const PARENT: &str = "1f2e3d4c5b6a79880716253443526170819a0b1c";

#[test]
fn commits_read_like_git_log() {
    let v = json!({"commits": [
        {"hash": HASH, "author": "Zoë Österberg <zoe@acme.example>",
         "date": "2024-01-09T01:00:00+01:00", "message": "Improve gears\n\nStep 4.\nSame behaviour.\n"},
        {"hash": PARENT, "author": "bot <ci@acme.example>", "date": "2024-01-08T09:00:00+00:00",
         "message": "Initial commit"},
    ], "next_page": "3"});
    assert_eq!(
        text("list_commits", v),
        format!(
            "2 commits, newest first (hash date author: subject, body indented); more: call again with page=\"3\"\n\
             {HASH} 2024-01-09T01:00:00+01:00 Zoë Österberg <zoe@acme.example>: Improve gears\n\n    Step 4.\n    Same behaviour.\n\
             {PARENT} 2024-01-08T09:00:00Z bot <ci@acme.example>: Initial commit"
        )
    );
}

#[test]
fn commit_with_its_diffstat() {
    let v = json!({"hash": HASH, "author": "A <a@x>", "date": "2024-01-09T01:00:00+01:00",
        "message": "Reorganise docs\n", "parents": [PARENT],
        "files": [
            {"path": "README.md", "old_path": null, "status": "modified", "lines_added": 3, "lines_removed": 1},
            {"path": "docs/user guide.md", "old_path": "docs/guide.md", "status": "renamed", "lines_added": 0, "lines_removed": 0},
            {"path": "docs/old.md", "old_path": "docs/old.md", "status": "removed", "lines_added": 0, "lines_removed": 1},
            {"path": "x.bin", "old_path": null, "status": "copied", "lines_added": 0, "lines_removed": 0},
        ], "lines_added": 3, "lines_removed": 2});
    assert_eq!(
        text("get_commit", v),
        format!(
            "{HASH} 2024-01-09T01:00:00+01:00 A <a@x>: Reorganise docs\nparents: {PARENT}\n\
             4 files changed, +3 -2:\nM +3 -1 README.md\nR +0 -0 docs/guide.md -> docs/user guide.md\n\
             D +0 -1 docs/old.md\ncopied +0 -0 x.bin"
        )
    );
}

#[test]
fn pull_requests() {
    let pr = |id: u64, reviewers: Value, url: String| {
        json!({"id": id, "title": "Fix | gears", "state": "MERGED", "author": "Carol Chen",
               "source_branch": "feature/x", "destination_branch": "main", "reviewers": reviewers,
               "comment_count": 3, "created_on": "2024-04-01T10:00:00.000001+00:00",
               "updated_on": "2024-04-02T11:00:00.000002+00:00", "url": url})
    };
    let url = |id: u64| format!("https://bitbucket.org/acme/widgets/pull-requests/{id}");
    let v = json!({"pull_requests": [
        pr(56, json!(["Alice Anders", "Bob Baker"]), url(56)),
        pr(7, json!([]), url(7)),
    ], "next_page": null});
    assert_eq!(
        text("list_pull_requests", v),
        "2 pull requests, most recently updated first (id state source -> destination created updated comments | author | reviewers, ✓ approved, ✗ changes requested | title); web page https://bitbucket.org/acme/widgets/pull-requests/<id>; last page\n\
         #56 MERGED feature/x -> main 2024-04-01T10:00:00.000001Z 2024-04-02T11:00:00.000002Z 3 | Carol Chen | Alice Anders, Bob Baker | Fix | gears\n\
         #7 MERGED feature/x -> main 2024-04-01T10:00:00.000001Z 2024-04-02T11:00:00.000002Z 3 | Carol Chen | - | Fix | gears"
    );
    let odd = json!({"pull_requests": [pr(1, json!([]), "https://elsewhere/1x".into())]});
    assert!(text("list_pull_requests", odd).ends_with("| Fix | gears https://elsewhere/1x"));
}

#[test]
fn pipelines() {
    let v = json!({"pipelines": [
        {"uuid": "{0f1e}", "build_number": 130, "state": "COMPLETED", "result": "FAILED",
         "branch": "main", "commit": HASH, "trigger": "PUSH", "creator": "Alice Anders",
         "created_on": "2024-04-01T10:00:00.000001+00:00",
         "completed_on": "2024-04-01T10:01:33.000001+00:00", "duration_seconds": 93},
        {"uuid": "{0f1f}", "build_number": 131, "state": "IN_PROGRESS", "result": null,
         "branch": null, "commit": null, "trigger": "SCHEDULE", "creator": null,
         "created_on": "2024-04-02T10:00:00+02:00", "completed_on": null, "duration_seconds": null},
    ], "next_page": null});
    assert_eq!(
        text("list_pipelines", v),
        format!(
            "2 pipeline runs, newest first (build state result branch commit trigger created completed seconds uuid creator); last page\n\
             #130 COMPLETED FAILED main {HASH} PUSH 2024-04-01T10:00:00.000001Z 2024-04-01T10:01:33.000001Z 93 {{0f1e}} Alice Anders\n\
             #131 IN_PROGRESS - - - SCHEDULE 2024-04-02T10:00:00+02:00 - - {{0f1f}} -"
        )
    );
}

#[test]
fn an_unexpected_shape_is_not_rendered() {
    for tool in [
        "list_repositories",
        "browse_repository",
        "search_code",
        "list_commits",
        "get_commit",
        "list_pull_requests",
        "list_pipelines",
    ] {
        assert_eq!(render(tool, &json!({"odd": true})), None, "{tool}");
        assert_eq!(render(tool, &json!([1])), None, "{tool}");
    }
    assert_eq!(render("no_such_tool", &json!({})), None);
}

#[test]
fn review_fields_when_present() {
    // list_pull_requests with draft and review states.
    let v = json!({"pull_requests": [{"id": 9, "title": "T", "state": "OPEN", "draft": true,
        "author": "A", "source_branch": "f", "destination_branch": "main",
        "reviewers": ["Bob", "Carol"], "approved_by": ["Bob", "Dan"],
        "changes_requested_by": ["Carol"], "comment_count": 0,
        "created_on": "2024-01-01T00:00:00+00:00", "updated_on": "2024-01-02T00:00:00+00:00",
        "url": "https://bitbucket.org/a/b/pull-requests/9"}], "next_page": null});
    let t = text("list_pull_requests", v);
    assert!(
        t.ends_with("#9 OPEN(draft) f -> main 2024-01-01T00:00:00Z 2024-01-02T00:00:00Z 0 | A | Bob ✓, Carol ✗, Dan ✓ | T"),
        "{t}"
    );
    // get_commit with its diff.
    let v = json!({"hash": HASH, "author": "A <a@x>", "date": "2024-01-09T01:00:00+01:00",
        "message": "M", "parents": [], "files": [], "lines_added": 0, "lines_removed": 0,
        "diff": "diff --git a/x b/x\n+\tnew  \n", "diff_truncated": true});
    let t = text("get_commit", v);
    assert!(
        t.ends_with("parents: none\n0 files changed, +0 -0:\ndiff (truncated at the 100 KB cap, at a file boundary):\ndiff --git a/x b/x\n+\tnew  "),
        "{t}"
    );
    // list_branches.
    let v = json!({"branches": [
        {"name": "main", "commit": HASH, "date": "2024-01-09T01:00:00+01:00", "author": "A <a@x>", "message": "Improve", "is_default": true},
        {"name": "feature/x", "commit": PARENT, "date": "2024-01-08T09:00:00+00:00", "author": "B <b@x>", "message": "Add", "is_default": false},
    ], "next_page": "2"});
    assert_eq!(
        text("list_branches", v),
        format!(
            "2 branches, newest head commit first (name commit date author: subject; * the main branch); more: call again with page=\"2\"\n\
             * main {HASH} 2024-01-09T01:00:00+01:00 A <a@x>: Improve\n\
             feature/x {PARENT} 2024-01-08T09:00:00Z B <b@x>: Add"
        )
    );
}

#[test]
fn a_cut_diff_names_the_files_left_out() {
    let v = json!({"hash": "ab12", "author": "A <a@x>", "date": "2024-01-01T00:00:00+00:00",
        "message": "Subject\n", "parents": [], "files": [
            {"path": "a.rs", "old_path": null, "status": "modified", "lines_added": 1, "lines_removed": 0},
            {"path": "b.rs", "old_path": null, "status": "added", "lines_added": 9, "lines_removed": 0}],
        "lines_added": 10, "lines_removed": 0, "diff": "diff --git a/a.rs b/a.rs\n+x\n",
        "diff_truncated": true, "diff_omitted_files": ["b.rs"]});
    let t = text("get_commit", v);
    assert!(
        t.ends_with(
            "A +9 -0 b.rs\ndiff (truncated at the 100 KB cap, at a file boundary; left out, ask for each with `path`: b.rs):\ndiff --git a/a.rs b/a.rs\n+x"
        ),
        "{t}"
    );
}

fn pull_request_detail() -> Value {
    json!({"id": 79, "title": "Fix gear ratios", "description": "Gears slipped.\n\nUnder load.",
        "state": "OPEN", "draft": true, "author": "Carol Chen",
        "source_branch": "feature/gears", "source_commit": "1a2b3c4d5e6f",
        "destination_branch": "main", "destination_commit": "9f8e7d6c5b4a", "merge_commit": null,
        "reviewers": [{"name": "Alice Anders", "state": "approved"},
                      {"name": "Bob Baker", "state": "pending"}],
        "comment_count": 2, "task_count": 1,
        "statuses": [{"name": "Pipeline #41", "state": "FAILED",
                      "url": "https://bitbucket.org/acme/widgets/pipelines/results/41"}],
        "files": [{"path": "src/gears.rs", "old_path": null, "status": "modified",
                   "lines_added": 3, "lines_removed": 1}],
        "lines_added": 3, "lines_removed": 1,
        "comments": [
            {"id": 301, "author": "Alice Anders", "created_on": "2024-04-01T12:00:00+00:00",
             "text": "Is 12 right?", "path": "src/gears.rs", "line": 12, "parent_id": null},
            {"id": 302, "author": "Carol Chen", "created_on": "2024-04-01T13:00:00+00:00",
             "text": "Yes.\n#1 not a comment", "path": null, "line": null, "parent_id": 301}],
        "comments_omitted": 3, "diff": null, "diff_truncated": false, "diff_omitted_files": [],
        "created_on": "2024-04-01T10:00:00+00:00", "updated_on": "2024-04-02T11:00:00+00:00",
        "url": "https://bitbucket.org/acme/widgets/pull-requests/79"})
}

#[test]
fn pull_request() {
    assert_eq!(
        text("get_pull_request", pull_request_detail()),
        "#79 OPEN(draft) feature/gears 1a2b3c4d5e6f -> main 9f8e7d6c5b4a | Carol Chen | Fix gear ratios\n\
         created 2024-04-01T10:00:00Z, updated 2024-04-02T11:00:00Z, merge commit -, 2 comments, 1 open task, https://bitbucket.org/acme/widgets/pull-requests/79\n\
         description:\n    Gears slipped.\n\n    Under load.\n\
         reviewers: Alice Anders approved, Bob Baker pending\n\
         1 build status of the source commit (state name url):\n\
         FAILED Pipeline #41 https://bitbucket.org/acme/widgets/pipelines/results/41\n\
         1 file changed, +3 -1:\n\
         M +3 -1 src/gears.rs\n\
         2 comments, oldest first (id author created [path:line] [reply to #id]); 3 older left out:\n\
         #301 Alice Anders 2024-04-01T12:00:00Z src/gears.rs:12\n    Is 12 right?\n\
         #302 Carol Chen 2024-04-01T13:00:00Z reply to #301\n    Yes.\n    #1 not a comment"
    );
    // Merged, no description, no reviewers, statuses or comments; with a diff.
    let mut v = pull_request_detail();
    for (key, value) in [
        ("state", json!("MERGED")),
        ("draft", json!(false)),
        ("merge_commit", json!("c0ffee123456")),
        ("description", json!("")),
        ("reviewers", json!([])),
        ("statuses", json!([])),
        ("comments", json!([])),
        ("comments_omitted", json!(0)),
        ("diff", json!("diff --git a/x b/x\n")),
    ] {
        v[key] = value;
    }
    let t = text("get_pull_request", v);
    assert!(t.starts_with("#79 MERGED feature/gears"), "{t}");
    assert!(t.contains(", merge commit c0ffee123456, "), "{t}");
    assert!(t.contains("\ndescription: none\nreviewers: -\n0 build statuses of the source commit\n1 file changed"), "{t}");
    assert!(!t.contains("oldest first"), "{t}");
    assert!(
        t.ends_with("src/gears.rs\ndiff:\ndiff --git a/x b/x"),
        "{t}"
    );
}

#[test]
fn pipeline() {
    let step = |name: &str, result: Value, tail: Value, truncated: bool, note: Value| {
        json!({"uuid": format!("{{{name}}}"), "name": name, "state": "COMPLETED", "result": result,
            "started_on": "2024-04-01T10:00:05+00:00", "completed_on": "2024-04-01T10:00:40+00:00",
            "duration_seconds": 35, "log_tail": tail, "log_truncated": truncated, "log_note": note})
    };
    let v = json!({"uuid": "{run}", "build_number": 130, "state": "COMPLETED", "result": "FAILED",
    "branch": "main", "commit": "8371578a", "trigger": "PUSH", "creator": "Alice Anders",
    "created_on": "2024-04-01T10:00:00+00:00", "completed_on": "2024-04-01T10:01:33+00:00",
    "duration_seconds": 93, "url": "https://bitbucket.org/acme/widgets/pipelines/results/130",
    "steps": [
        step("Build", json!("SUCCESSFUL"), Value::Null, false, Value::Null),
        step("Test", json!("FAILED"), json!(["  at gears.rs:3", "Exited with 1"]), true, Value::Null),
        step("Lint", json!("ERROR"), Value::Null, false, json!("The log is not available yet.")),
    ]});
    assert_eq!(
        text("get_pipeline", v),
        "#130 COMPLETED FAILED main 8371578a PUSH 2024-04-01T10:00:00Z 2024-04-01T10:01:33Z 93 {run} Alice Anders\n\
         https://bitbucket.org/acme/widgets/pipelines/results/130\n\
         3 steps (state result started completed seconds uuid | name):\n\
         COMPLETED SUCCESSFUL 2024-04-01T10:00:05Z 2024-04-01T10:00:40Z 35 {Build} | Build\n\
         COMPLETED FAILED 2024-04-01T10:00:05Z 2024-04-01T10:00:40Z 35 {Test} | Test\n\
         \x20 log, last 2 lines (earlier lines left out):\n\
         \x20     at gears.rs:3\n\
         \x20   Exited with 1\n\
         COMPLETED ERROR 2024-04-01T10:00:05Z 2024-04-01T10:00:40Z 35 {Lint} | Lint\n\
         \x20 log: The log is not available yet."
    );
}
