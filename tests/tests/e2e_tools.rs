//! End-to-end tests of the original eight tools: the real `host-demo` binary runs the component
//! against the fake Bitbucket, and every answer is checked against the sample model.
//! Run `make build` first.

mod common;

use common::TOOLS;

use common::{Host, collect_pages, next_page};
use fake_bitbucket::FakeBitbucket;
use fake_bitbucket::model::{
    Commit, DiffStatus, PipelineState, PrState, Repository, Workspace, is_binary, line_count,
};
use fake_bitbucket::sample::*;
use fake_bitbucket::time::{iso_micros, iso_millis_z};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

fn widgets(ws: &Workspace) -> &Repository {
    ws.repository(WIDGETS).expect("widgets")
}

fn text_lines(content: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(content)
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect()
}

fn lines_of(v: &Value) -> Vec<(u64, String)> {
    v["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("no lines in {v}"))
        .iter()
        .map(|l| {
            (
                l["number"].as_u64().unwrap(),
                l["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn str_of(v: &Value) -> Option<&str> {
    v.as_str()
}

// ---------------------------------------------------------------- tools

#[test]
fn tools_lists_the_contract_tools() {
    let fake = FakeBitbucket::start();
    let out = Host::new(&fake).run(&["tools"]);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let tools = out.json();
    let tools = tools.as_array().expect("an array of tools");
    let names: BTreeSet<&str> = tools
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, TOOLS.iter().copied().collect::<BTreeSet<_>>());
    assert_eq!(tools.len(), TOOLS.len());
    let expected_args: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("list_repositories", &["query", "limit", "page"][..]),
        (
            "browse_repository",
            &["repo", "path", "branch", "limit", "page"][..],
        ),
        (
            "read_file",
            &["repo", "path", "branch", "start_line", "end_line"][..],
        ),
        ("search_code", &["query", "repo", "limit", "page"][..]),
        (
            "list_commits",
            &["repo", "branch", "path", "limit", "page"][..],
        ),
        ("get_commit", &["repo", "commit", "diff", "path"][..]),
        (
            "list_pull_requests",
            &["repo", "state", "limit", "page"][..],
        ),
        (
            "list_pipelines",
            &["repo", "branch", "status", "limit", "page"][..],
        ),
        ("list_branches", &["repo", "query", "limit", "page"][..]),
        ("get_pull_request", &["repo", "id", "diff", "comments"][..]),
        ("get_pipeline", &["repo", "pipeline", "log_lines"][..]),
    ]);
    for t in tools {
        let name = t["name"].as_str().unwrap();
        let desc = t["description"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no description"));
        assert!(desc.len() > 20, "{name}: description too short: {desc}");
        let schema = &t["input_schema"];
        assert_eq!(schema["type"], "object", "{name}: {schema}");
        let props = schema["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{name}: no properties"));
        for arg in expected_args[name] {
            assert!(
                props.contains_key(*arg),
                "{name} lacks argument {arg}: {schema}"
            );
        }
    }
    let required = |name: &str| -> Vec<String> {
        let t = tools.iter().find(|t| t["name"] == name).unwrap();
        t["input_schema"]["required"]
            .as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    assert!(required("read_file").contains(&"path".to_string()));
    assert!(required("search_code").contains(&"query".to_string()));
    assert!(required("get_commit").contains(&"commit".to_string()));
    assert!(required("get_pull_request").contains(&"id".to_string()));
}

// ---------------------------------------------------------------- list_repositories

#[test]
fn list_repositories_values_and_order() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let out = Host::new(&fake).call("list_repositories", json!({"limit": 100}));
    let got = out["repositories"].as_array().unwrap();
    let expected = common::repositories_newest_first(&ws);
    assert_eq!(
        got.iter()
            .map(|r| r["slug"].as_str().unwrap())
            .collect::<Vec<_>>(),
        expected.iter().map(|r| r.slug.as_str()).collect::<Vec<_>>(),
        "all repositories, most recently updated first"
    );
    for (g, r) in got.iter().zip(&expected) {
        assert_eq!(g["full_name"], format!("acme/{}", r.slug));
        assert_eq!(g["name"], r.name.as_str());
        assert_eq!(g["description"], r.description.as_str());
        assert_eq!(g["language"], r.language.as_str());
        assert_eq!(g["is_private"], r.is_private);
        assert_eq!(
            str_of(&g["default_branch"]),
            r.mainbranch.as_deref(),
            "{}",
            r.slug
        );
        assert_eq!(g["updated_on"], iso_micros(r.updated_on));
        assert_eq!(g["url"], r.html_url("acme"));
    }
    assert_eq!(next_page(&out), None);
    let by_slug = |s: &str| got.iter().find(|g| g["slug"] == s).unwrap();
    assert_eq!(by_slug(WIDGETS)["default_branch"], "main");
    assert_eq!(by_slug(LEGACY_APP)["default_branch"], "master");
}

#[test]
fn list_repositories_pages_and_query() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let host = Host::new(&fake);
    let first = host.call("list_repositories", json!({"limit": 3}));
    assert_eq!(first["repositories"].as_array().unwrap().len(), 3);
    assert!(next_page(&first).is_some());
    let (all, calls) = collect_pages(
        &host,
        "list_repositories",
        json!({"limit": 3}),
        "repositories",
        10,
    );
    assert_eq!(calls, ws.repositories.len().div_ceil(3));
    let slugs: Vec<&str> = all.iter().map(|r| r["slug"].as_str().unwrap()).collect();
    let unique: BTreeSet<&str> = slugs.iter().copied().collect();
    assert_eq!(unique.len(), slugs.len(), "no duplicates across pages");
    assert_eq!(
        unique,
        ws.repositories.iter().map(|r| r.slug.as_str()).collect()
    );

    let q = host.call("list_repositories", json!({"query": "APP"}));
    let expected: BTreeSet<&str> = ws
        .repositories
        .iter()
        .filter(|r| r.name.to_lowercase().contains("app"))
        .map(|r| r.slug.as_str())
        .collect();
    let got: BTreeSet<&str> = q["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["slug"].as_str().unwrap())
        .collect();
    assert_eq!(got, expected);
}

// ---------------------------------------------------------------- browse_repository

fn expected_entries(repo: &Repository, commit: &Commit, dir: &str) -> Vec<Value> {
    repo.list_dir(commit, dir)
        .expect("a directory")
        .into_iter()
        .map(|e| {
            if e.is_dir {
                json!({"path": e.path, "type": "directory"})
            } else {
                json!({"path": e.path, "type": "file", "size": e.size})
            }
        })
        .collect()
}

fn entries_of(v: &Value) -> Vec<Value> {
    v["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("no entries in {v}"))
        .iter()
        .map(|e| {
            let mut out = json!({"path": e["path"], "type": e["type"]});
            if e["type"] == "file" {
                out["size"] = e["size"].clone();
            }
            out
        })
        .collect()
}

#[test]
fn browse_root_and_nested_directories() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = widgets(&ws);
    let head = repo.main_head().unwrap();
    let host = Host::new(&fake);

    let root = host.call("browse_repository", json!({"repo": "widgets"}));
    assert_eq!(root["repo"], "acme/widgets");
    assert_eq!(root["path"], "");
    assert!(
        root["ref"] == "main" || root["ref"] == head.hash.as_str(),
        "ref: {}",
        root["ref"]
    );
    assert_eq!(entries_of(&root), expected_entries(repo, head, ""));
    assert_eq!(next_page(&root), None);

    let nested = host.call(
        "browse_repository",
        json!({"repo": "acme/widgets", "path": "src/widgets/gears", "branch": "main"}),
    );
    assert_eq!(nested["path"], "src/widgets/gears");
    assert_eq!(
        entries_of(&nested),
        expected_entries(repo, head, "src/widgets/gears")
    );
    assert!(entries_of(&nested).iter().any(|e| e["path"] == NESTED_FILE));

    let legacy = ws.repository(LEGACY_APP).unwrap();
    let l = host.call(
        "browse_repository",
        json!({"repo": LEGACY_APP, "path": "app"}),
    );
    assert_eq!(
        entries_of(&l),
        expected_entries(legacy, legacy.main_head().unwrap(), "app")
    );
}

#[test]
fn browse_pages_through_a_directory_of_more_than_100_entries() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = widgets(&ws);
    let expected = expected_entries(repo, repo.main_head().unwrap(), GENERATED_DIR);
    assert!(expected.len() > 100);
    let host = Host::new(&fake);
    let (all, calls) = collect_pages(
        &host,
        "browse_repository",
        json!({"repo": "widgets", "path": GENERATED_DIR, "limit": 50}),
        "entries",
        10,
    );
    assert_eq!(calls, expected.len().div_ceil(50));
    let got: Vec<Value> = entries_of(&json!({"entries": all}));
    assert_eq!(got, expected);
    let max = host.call(
        "browse_repository",
        json!({"repo": "widgets", "path": GENERATED_DIR, "limit": 100}),
    );
    assert_eq!(max["entries"].as_array().unwrap().len(), 100);
    assert!(next_page(&max).is_some());
}

#[test]
fn browse_a_branch_with_a_slash() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = widgets(&ws);
    let login = repo.resolve(SLASH_BRANCH).unwrap();
    let host = Host::new(&fake);
    let root = host.call(
        "browse_repository",
        json!({"repo": "widgets", "branch": SLASH_BRANCH, "path": "src"}),
    );
    assert_eq!(entries_of(&root), expected_entries(repo, login, "src"));
    let auth = host.call(
        "browse_repository",
        json!({"repo": "widgets", "branch": SLASH_BRANCH, "path": "src/auth"}),
    );
    assert!(
        entries_of(&auth)
            .iter()
            .any(|e| e["path"] == SLASH_BRANCH_ONLY_FILE)
    );
    let (kind, _) = host.call_err(
        "browse_repository",
        json!({"repo": "widgets", "path": "src/auth"}),
    );
    assert_eq!(kind, "not_found", "src/auth exists only on {SLASH_BRANCH}");
}

// ---------------------------------------------------------------- read_file

#[test]
fn read_file_with_line_numbers_and_range() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let head = widgets(&ws).main_head().unwrap();
    let host = Host::new(&fake);
    let content = &head.tree["README.md"];
    let expected = text_lines(content);

    let all = host.call("read_file", json!({"repo": "widgets", "path": "README.md"}));
    assert_eq!(all["repo"], "acme/widgets");
    assert_eq!(all["path"], "README.md");
    assert_eq!(all["size"], content.len());
    assert_eq!(all["binary"], false);
    assert_eq!(all["truncated"], false);
    assert_eq!(all["total_lines"], line_count(content));
    assert_eq!(all["start_line"], 1);
    assert_eq!(all["end_line"], expected.len());
    let got = lines_of(&all);
    assert_eq!(
        got,
        expected
            .iter()
            .enumerate()
            .map(|(i, t)| (i as u64 + 1, t.clone()))
            .collect::<Vec<_>>()
    );

    let spur = text_lines(&head.tree[NESTED_FILE]);
    let range = host.call(
        "read_file",
        json!({"repo": "widgets", "path": NESTED_FILE, "start_line": 3, "end_line": 6}),
    );
    assert_eq!(range["start_line"], 3);
    assert_eq!(range["end_line"], 6);
    assert_eq!(
        lines_of(&range),
        (3..=6)
            .map(|n| (n as u64, spur[n - 1].clone()))
            .collect::<Vec<_>>()
    );
}

#[test]
fn read_file_binary_has_no_lines() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let content = &widgets(&ws).main_head().unwrap().tree[BINARY_FILE];
    assert!(is_binary(content));
    let out = Host::new(&fake).call("read_file", json!({"repo": "widgets", "path": BINARY_FILE}));
    assert_eq!(out["binary"], true);
    assert_eq!(out["size"], content.len());
    assert!(
        out["lines"].as_array().is_none_or(|l| l.is_empty()),
        "{}",
        out["lines"]
    );
}

#[test]
fn read_file_over_100_kb_is_truncated_at_a_line_boundary() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let content = &widgets(&ws).main_head().unwrap().tree[BIG_FILE];
    assert!(content.len() > 100 * 1024);
    let expected = text_lines(content);
    let host = Host::new(&fake);

    let whole = host.call("read_file", json!({"repo": "widgets", "path": BIG_FILE}));
    assert_eq!(whole["truncated"], true);
    assert_eq!(whole["size"], content.len());
    let got = lines_of(&whole);
    assert!(!got.is_empty() && got.len() < expected.len());
    let bytes: usize = got.iter().map(|(_, t)| t.len() + 1).sum();
    assert!(bytes <= 100 * 1024, "{bytes} bytes returned");
    assert!(
        bytes > 90 * 1000,
        "the cap is about 100 KB, got {bytes} bytes"
    );
    for (n, text) in &got {
        assert_eq!(text, &expected[*n as usize - 1], "line {n} must be whole");
    }
    assert_eq!(whole["end_line"], got.last().unwrap().0);
    // Files up to 1 MB are read whole, so their lines are counted even when truncated.
    assert_eq!(whole["total_lines"], BIG_FILE_LINES);

    let tail = host.call(
        "read_file",
        json!({"repo": "widgets", "path": BIG_FILE, "start_line": 2900, "end_line": 2950}),
    );
    assert_eq!(tail["truncated"], false);
    assert_eq!(
        lines_of(&tail),
        (2900..=2950)
            .map(|n| (n as u64, expected[n - 1].clone()))
            .collect::<Vec<_>>()
    );
    let revised = host.call(
        "read_file",
        json!({"repo": "widgets", "path": BIG_FILE, "start_line": 1500, "end_line": 1500}),
    );
    assert_eq!(lines_of(&revised), vec![(1500, expected[1499].clone())]);
    assert!(expected[1499].contains("revised"));
}

#[test]
fn read_file_strips_crlf_and_reads_slash_branches() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = widgets(&ws);
    let host = Host::new(&fake);
    let crlf = host.call("read_file", json!({"repo": "widgets", "path": CRLF_FILE}));
    let expected = text_lines(&repo.main_head().unwrap().tree[CRLF_FILE]);
    let got = lines_of(&crlf);
    assert!(got.iter().all(|(_, t)| !t.contains('\r')), "{got:?}");
    assert_eq!(
        got.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>(),
        expected
    );

    let login = repo.resolve(SLASH_BRANCH).unwrap();
    let f = host.call(
        "read_file",
        json!({"repo": "widgets", "path": SLASH_BRANCH_ONLY_FILE, "branch": SLASH_BRANCH}),
    );
    assert_eq!(
        lines_of(&f).into_iter().map(|(_, t)| t).collect::<Vec<_>>(),
        text_lines(&login.tree[SLASH_BRANCH_ONLY_FILE])
    );
    let by_hash = host.call(
        "read_file",
        json!({"repo": "widgets", "path": SLASH_BRANCH_ONLY_FILE, "branch": &login.hash[..10]}),
    );
    assert_eq!(lines_of(&by_hash), lines_of(&f));
    let (kind, _) = host.call_err(
        "read_file",
        json!({"repo": "widgets", "path": "no/such/file.rs"}),
    );
    assert_eq!(kind, "not_found");
}

// ---------------------------------------------------------------- search_code

/// (repo full name, path) → matching (line, text), over the main branches.
fn expected_search(
    ws: &Workspace,
    word: &str,
    only: Option<&str>,
) -> BTreeMap<(String, String), Vec<(u64, String)>> {
    let mut out = BTreeMap::new();
    for r in &ws.repositories {
        if only.is_some_and(|o| o != r.slug) {
            continue;
        }
        let Some(head) = r.main_head() else { continue };
        for (path, content) in head.tree.iter() {
            if is_binary(content) {
                continue;
            }
            let hits: Vec<(u64, String)> = text_lines(content)
                .into_iter()
                .enumerate()
                .filter(|(_, l)| l.to_lowercase().contains(word))
                .map(|(i, l)| (i as u64 + 1, l))
                .collect();
            if !hits.is_empty() {
                out.insert((format!("acme/{}", r.slug), path.clone()), hits);
            }
        }
    }
    out
}

fn search_results(v: &Value) -> BTreeMap<(String, String), Vec<(u64, String)>> {
    v["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {v}"))
        .iter()
        .map(|r| {
            let matches = r["matches"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["line"].as_u64().unwrap(),
                        m["text"]
                            .as_str()
                            .unwrap()
                            .trim_end_matches('\r')
                            .to_string(),
                    )
                })
                .collect();
            (
                (
                    r["repo"].as_str().unwrap().to_string(),
                    r["path"].as_str().unwrap().to_string(),
                ),
                matches,
            )
        })
        .collect()
}

#[test]
fn search_code_across_the_workspace() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let out = Host::new(&fake).call("search_code", json!({"query": SEARCH_WORD, "limit": 100}));
    let expected = expected_search(&ws, SEARCH_WORD, None);
    assert!(
        expected
            .keys()
            .map(|(r, _)| r)
            .collect::<BTreeSet<_>>()
            .len()
            >= 3
    );
    assert_eq!(search_results(&out), expected);
    assert_eq!(next_page(&out), None);
}

#[test]
fn search_code_in_one_repository_and_paging() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let host = Host::new(&fake);
    let out = host.call(
        "search_code",
        json!({"query": SEARCH_WORD, "repo": LEGACY_APP}),
    );
    assert_eq!(
        search_results(&out),
        expected_search(&ws, SEARCH_WORD, Some(LEGACY_APP))
    );
    let sent: Vec<String> = fake
        .requests()
        .iter()
        .flat_map(|r| r.query_values("search_query"))
        .collect();
    assert!(
        sent.iter()
            .any(|q| q.contains(&format!("repo:{LEGACY_APP}"))),
        "search queries sent: {sent:?}"
    );

    let (all, calls) = collect_pages(
        &host,
        "search_code",
        json!({"query": SEARCH_WORD, "limit": 1}),
        "results",
        20,
    );
    let expected = expected_search(&ws, SEARCH_WORD, None);
    assert_eq!(calls, expected.len());
    assert_eq!(search_results(&json!({"results": all})), expected);
}

// ---------------------------------------------------------------- list_commits

fn commit_json(c: &Commit) -> Value {
    json!({"hash": c.hash, "author": c.author.raw(), "date": c.date(), "message": c.message.trim_end()})
}

fn commits_of(v: &Value) -> Vec<Value> {
    v["commits"]
        .as_array()
        .unwrap_or_else(|| panic!("no commits in {v}"))
        .iter()
        .map(|c| json!({"hash": c["hash"], "author": c["author"], "date": c["date"], "message": c["message"].as_str().unwrap().trim_end()}))
        .collect()
}

#[test]
fn list_commits_newest_first_with_paging() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = widgets(&ws);
    let log = repo.log(&["main"], &[], None).unwrap();
    assert!(log.len() > 100);
    let host = Host::new(&fake);
    let first = host.call("list_commits", json!({"repo": "widgets"}));
    assert_eq!(
        commits_of(&first),
        log[..30].iter().map(|c| commit_json(c)).collect::<Vec<_>>()
    );
    assert!(next_page(&first).is_some());

    let (all, _) = collect_pages(
        &host,
        "list_commits",
        json!({"repo": "widgets", "limit": 45}),
        "commits",
        10,
    );
    assert_eq!(
        commits_of(&json!({"commits": all})),
        log.iter().map(|c| commit_json(c)).collect::<Vec<_>>()
    );
    assert!(
        log.iter().any(|c| c.author.user.is_none())
            && log.iter().any(|c| c.message.trim_end().contains('\n'))
    );

    let legacy = ws.repository(LEGACY_APP).unwrap();
    let l = host.call("list_commits", json!({"repo": LEGACY_APP}));
    assert_eq!(
        commits_of(&l),
        legacy
            .log(&["master"], &[], None)
            .unwrap()
            .iter()
            .map(|c| commit_json(c))
            .collect::<Vec<_>>()
    );
}

#[test]
fn list_commits_by_path_and_slash_branch() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = widgets(&ws);
    let host = Host::new(&fake);
    for path in [BIG_FILE, "docs"] {
        let out = host.call(
            "list_commits",
            json!({"repo": "widgets", "path": path, "limit": 100}),
        );
        let expected: Vec<Value> = repo
            .log(&["main"], &[], Some(path))
            .unwrap()
            .iter()
            .map(|c| commit_json(c))
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(commits_of(&out), expected, "path {path}");
    }
    let login = host.call(
        "list_commits",
        json!({"repo": "widgets", "branch": SLASH_BRANCH, "limit": 5}),
    );
    let expected: Vec<Value> = repo.log(&[SLASH_BRANCH], &[], None).unwrap()[..5]
        .iter()
        .map(|c| commit_json(c))
        .collect();
    assert_eq!(commits_of(&login), expected);
    assert!(
        login["commits"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Wire login")
    );
}

// ---------------------------------------------------------------- get_commit

fn files_expected(c: &Commit) -> Vec<Value> {
    c.diffstat
        .iter()
        .map(|d| {
            let old = match d.status {
                DiffStatus::Renamed | DiffStatus::Removed => json!(d.old_path),
                _ => Value::Null,
            };
            json!({"path": d.path(), "old_path": old, "status": d.status.as_str(), "lines_added": d.lines_added, "lines_removed": d.lines_removed})
        })
        .collect()
}

fn files_of(v: &Value) -> Vec<Value> {
    let mut files: Vec<Value> = v["files"]
        .as_array()
        .unwrap_or_else(|| panic!("no files in {v}"))
        .iter()
        .map(|f| json!({"path": f["path"], "old_path": f.get("old_path").cloned().unwrap_or(Value::Null), "status": f["status"], "lines_added": f["lines_added"], "lines_removed": f["lines_removed"]}))
        .collect();
    files.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    files
}

#[test]
fn get_commit_with_every_diffstat_status() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = widgets(&ws);
    let mixed = repo
        .commits
        .iter()
        .find(|c| c.subject() == MIXED_COMMIT_SUBJECT)
        .unwrap();
    let out = Host::new(&fake).call(
        "get_commit",
        json!({"repo": "widgets", "commit": &mixed.hash[..8]}),
    );
    assert_eq!(out["hash"], mixed.hash.as_str());
    assert_eq!(out["author"], mixed.author.raw());
    assert_eq!(out["date"], mixed.date());
    assert_eq!(
        out["message"].as_str().unwrap().trim_end(),
        mixed.message.trim_end()
    );
    assert_eq!(out["parents"], json!(mixed.parents));
    let mut expected = files_expected(mixed);
    expected.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    assert_eq!(files_of(&out), expected);
    let statuses: BTreeSet<&str> = expected
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["added", "modified", "removed", "renamed"]
            .into_iter()
            .collect()
    );
    assert_eq!(
        out["lines_added"],
        mixed.diffstat.iter().map(|d| d.lines_added).sum::<u32>()
    );
    assert_eq!(
        out["lines_removed"],
        mixed.diffstat.iter().map(|d| d.lines_removed).sum::<u32>()
    );
    let png = files_of(&out)
        .into_iter()
        .find(|f| f["path"] == BINARY_FILE)
        .unwrap();
    assert_eq!(
        (png["lines_added"].as_u64(), png["lines_removed"].as_u64()),
        (Some(0), Some(0))
    );
}

#[test]
fn get_commit_of_a_merge_lists_both_parents() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let merge = widgets(&ws)
        .commits
        .iter()
        .find(|c| c.parents.len() == 2)
        .unwrap();
    let out = Host::new(&fake).call(
        "get_commit",
        json!({"repo": "acme/widgets", "commit": merge.hash}),
    );
    assert_eq!(out["parents"], json!(merge.parents));
    let mut expected = files_expected(merge);
    expected.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    assert_eq!(files_of(&out), expected);
}

#[test]
fn get_commit_fetches_commit_and_diffstat_in_parallel() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let c = &widgets(&ws).log(&["main"], &[], None).unwrap()[3];
    fake.set_latency(Duration::from_millis(200));
    let out = Host::new(&fake).call("get_commit", json!({"repo": "widgets", "commit": c.hash}));
    assert_eq!(out["hash"], c.hash.as_str());
    let log = fake.requests();
    let commit_req = log
        .iter()
        .find(|r| r.path().contains("/commit/"))
        .expect("a /commit/ request");
    let diffstat_req = log
        .iter()
        .find(|r| r.path().contains("/diffstat/"))
        .expect("a /diffstat/ request");
    assert!(
        commit_req.overlaps(diffstat_req),
        "the commit and diffstat requests should be in flight together: {commit_req:?} {diffstat_req:?}"
    );
}

// ---------------------------------------------------------------- list_pull_requests

fn pr_expected(ws: &Workspace, states: &[PrState], limit: usize) -> Vec<Value> {
    let repo = widgets(ws);
    let mut prs: Vec<_> = repo
        .pull_requests
        .iter()
        .filter(|p| states.contains(&p.state))
        .collect();
    prs.sort_by_key(|p| std::cmp::Reverse(p.updated_on));
    prs.into_iter()
        .take(limit)
        .map(|p| {
            let in_state = |state: &str| {
                p.participants
                    .iter()
                    .filter(|x| x.state.as_deref() == Some(state))
                    .map(|x| ws.users[x.user].display_name.clone())
                    .collect::<Vec<_>>()
            };
            json!({
                "id": p.id,
                "title": p.title,
                "state": p.state.as_str(),
                "author": ws.users[p.author].display_name,
                "source_branch": p.source_branch,
                "destination_branch": p.destination_branch,
                "reviewers": p.reviewers.iter().map(|&u| ws.users[u].display_name.clone()).collect::<Vec<_>>(),
                "draft": p.draft,
                "approved_by": in_state("approved"),
                "changes_requested_by": in_state("changes_requested"),
                "comment_count": p.comment_count,
                "created_on": iso_micros(p.created_on),
                "updated_on": iso_micros(p.updated_on),
                "url": format!("{}/pull-requests/{}", repo.html_url("acme"), p.id),
            })
        })
        .collect()
}

fn prs_of(v: &Value) -> Vec<Value> {
    let keys = [
        "id",
        "title",
        "state",
        "author",
        "source_branch",
        "destination_branch",
        "reviewers",
        "draft",
        "approved_by",
        "changes_requested_by",
        "comment_count",
        "created_on",
        "updated_on",
        "url",
    ];
    v["pull_requests"]
        .as_array()
        .unwrap_or_else(|| panic!("no pull_requests in {v}"))
        .iter()
        .map(|p| {
            Value::Object(
                keys.iter()
                    .map(|k| (k.to_string(), p[*k].clone()))
                    .collect(),
            )
        })
        .collect()
}

fn assert_no_per_pr_requests(fake: &FakeBitbucket) {
    for r in fake.requests() {
        let tail = r.path().split("/pullrequests/").nth(1);
        assert!(
            tail.is_none_or(|t| t.is_empty()),
            "the list must not fetch pull requests one by one: {}",
            r.url
        );
    }
}

#[test]
fn list_pull_requests_default_open_with_reviewers() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let out = Host::new(&fake).call("list_pull_requests", json!({"repo": "widgets"}));
    let expected = pr_expected(&ws, &[PrState::Open], 30);
    assert_eq!(prs_of(&out), expected);
    assert!(
        expected
            .iter()
            .any(|p| !p["reviewers"].as_array().unwrap().is_empty())
    );
    assert!(expected.iter().any(|p| p["source_branch"] == SLASH_BRANCH));
    // "Open and waiting for review" is one call: drafts, approvals and change requests are
    // in the list items.
    assert!(expected.iter().any(|p| p["draft"] == true));
    assert!(expected.iter().any(|p| p["draft"] == false));
    assert!(
        expected
            .iter()
            .any(|p| !p["approved_by"].as_array().unwrap().is_empty())
    );
    assert!(
        expected
            .iter()
            .any(|p| !p["changes_requested_by"].as_array().unwrap().is_empty())
    );
    assert_eq!(next_page(&out), None, "fewer than 30 open pull requests");
    assert_no_per_pr_requests(&fake);
}

#[test]
fn list_pull_requests_several_states_over_50() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let host = Host::new(&fake);
    let states = [PrState::Open, PrState::Merged];
    let out = host.call(
        "list_pull_requests",
        json!({"repo": "widgets", "state": ["OPEN", "MERGED"], "limit": 60}),
    );
    let expected = pr_expected(&ws, &states, 60);
    assert_eq!(expected.len(), 60);
    assert_eq!(prs_of(&out), expected);
    assert!(next_page(&out).is_some());
    assert_no_per_pr_requests(&fake);
    for r in fake.requests() {
        for len in r.query_values("pagelen") {
            assert!(
                len.parse::<u32>().unwrap() <= 50,
                "pagelen over 50: {}",
                r.url
            );
        }
    }
    let (all, _) = collect_pages(
        &host,
        "list_pull_requests",
        json!({"repo": "widgets", "state": ["OPEN", "MERGED"], "limit": 60}),
        "pull_requests",
        5,
    );
    assert_eq!(
        prs_of(&json!({"pull_requests": all})),
        pr_expected(&ws, &states, usize::MAX)
    );

    let one = host.call(
        "list_pull_requests",
        json!({"repo": "widgets", "state": "DECLINED"}),
    );
    assert_eq!(prs_of(&one), pr_expected(&ws, &[PrState::Declined], 30));
    let every = host.call(
        "list_pull_requests",
        json!({"repo": "widgets", "state": ["SUPERSEDED", "DECLINED"], "limit": 100}),
    );
    assert_eq!(
        prs_of(&every),
        pr_expected(&ws, &[PrState::Superseded, PrState::Declined], 100)
    );
}

// ---------------------------------------------------------------- list_pipelines

fn pipeline_state(p: &fake_bitbucket::model::Pipeline) -> &'static str {
    match p.state {
        PipelineState::Paused => "PAUSED",
        _ => p.state.name(),
    }
}

fn check_pipeline(ws: &Workspace, got: &Value) {
    let repo = widgets(ws);
    let n = got["build_number"].as_u64().unwrap();
    let p = repo.pipelines.iter().find(|p| p.build_number == n).unwrap();
    assert_eq!(got["uuid"], p.uuid.as_str());
    assert_eq!(got["state"], pipeline_state(p), "build {n}");
    match &p.state {
        PipelineState::Completed(r) => {
            assert_eq!(got["result"], r.as_str(), "build {n}");
            assert_eq!(got["completed_on"], iso_millis_z(p.completed_on.unwrap()));
            assert_eq!(got["duration_seconds"], p.duration_in_seconds, "build {n}");
        }
        _ => {
            assert!(got["result"].is_null(), "build {n}: {}", got["result"]);
            assert!(got["completed_on"].is_null(), "build {n}");
        }
    }
    assert_eq!(str_of(&got["branch"]), p.ref_name.as_deref(), "build {n}");
    assert_eq!(got["commit"], p.commit.as_str());
    assert_eq!(got["trigger"], p.trigger.name());
    assert_eq!(
        str_of(&got["creator"]),
        p.creator.map(|u| ws.users[u].display_name.as_str()),
        "build {n}"
    );
    assert_eq!(got["created_on"], iso_millis_z(p.created_on));
}

fn build_numbers(v: &Value) -> Vec<u64> {
    v["pipelines"]
        .as_array()
        .unwrap_or_else(|| panic!("no pipelines in {v}"))
        .iter()
        .map(|p| p["build_number"].as_u64().unwrap())
        .collect()
}

#[test]
fn list_pipelines_newest_first_with_values() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let host = Host::new(&fake);
    let total = widgets(&ws).pipelines.len() as u64;
    let out = host.call("list_pipelines", json!({"repo": "widgets"}));
    assert_eq!(
        build_numbers(&out),
        (total - 29..=total).rev().collect::<Vec<_>>()
    );
    for p in out["pipelines"].as_array().unwrap() {
        check_pipeline(&ws, p);
    }
    let (all, calls) = collect_pages(
        &host,
        "list_pipelines",
        json!({"repo": "widgets", "limit": 50}),
        "pipelines",
        10,
    );
    assert_eq!(calls, (total as usize).div_ceil(50));
    assert_eq!(
        build_numbers(&json!({"pipelines": all})),
        (1..=total).rev().collect::<Vec<_>>()
    );
}

#[test]
fn list_pipelines_filters_by_status_and_branch() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = widgets(&ws);
    let host = Host::new(&fake);
    let expect = |keep: &dyn Fn(&fake_bitbucket::model::Pipeline) -> bool| -> Vec<u64> {
        let mut v: Vec<u64> = repo
            .pipelines
            .iter()
            .filter(|p| keep(p))
            .map(|p| p.build_number)
            .collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v
    };
    for (status, result) in [
        ("SUCCESSFUL", "SUCCESSFUL"),
        ("FAILED", "FAILED"),
        ("ERROR", "ERROR"),
        ("STOPPED", "STOPPED"),
    ] {
        let out = host.call(
            "list_pipelines",
            json!({"repo": "widgets", "status": status, "limit": 100}),
        );
        let expected =
            expect(&|p| matches!(&p.state, PipelineState::Completed(r) if r.as_str() == result));
        assert!(!expected.is_empty());
        assert_eq!(build_numbers(&out), expected, "status {status}");
        for p in out["pipelines"].as_array().unwrap() {
            check_pipeline(&ws, p);
        }
    }
    for (status, state) in [
        ("IN_PROGRESS", PipelineState::Running),
        ("PAUSED", PipelineState::Paused),
        ("PENDING", PipelineState::Pending),
    ] {
        let out = host.call(
            "list_pipelines",
            json!({"repo": "widgets", "status": status}),
        );
        assert_eq!(
            build_numbers(&out),
            expect(&|p| p.state == state),
            "status {status}"
        );
    }
    let develop = host.call(
        "list_pipelines",
        json!({"repo": "widgets", "branch": "develop", "limit": 100}),
    );
    assert_eq!(
        build_numbers(&develop),
        expect(&|p| p.ref_name.as_deref() == Some("develop"))
    );
    let login = host.call(
        "list_pipelines",
        json!({"repo": "widgets", "branch": SLASH_BRANCH, "status": "SUCCESSFUL", "limit": 100}),
    );
    assert_eq!(
        build_numbers(&login),
        expect(&|p| p.ref_name.as_deref() == Some(SLASH_BRANCH)
            && p.state.status_filter_name() == "PASSED")
    );
}
