//! End-to-end tests of the review tools (list_branches, get_pull_request, get_pipeline and
//! get_commit's diff): the real `host-demo` runs the component against the fake Bitbucket,
//! and every expected value is computed from the fake's model. Run `make build` first.

mod common;

use common::{Host, collect_pages, next_page};
use fake_bitbucket::model::{
    Commit, DiffEntry, DiffStatus, PrComment, PullRequest, Repository, Workspace,
};
use fake_bitbucket::sample::*;
use fake_bitbucket::sample_review::changed_files;
use fake_bitbucket::time::iso_micros;
use fake_bitbucket::{FakeBitbucket, Fault};
use serde_json::{Value, json};

fn widgets(ws: &Workspace) -> &Repository {
    ws.repository(WIDGETS).expect("widgets")
}

// ---------------------------------------------------------------- list_branches

/// The branches of `repo` as list_branches must give them: newest head commit first.
fn branches_expected(repo: &Repository, keep: impl Fn(&str) -> bool) -> Vec<Value> {
    let mut branches: Vec<_> = repo.branches.iter().filter(|b| keep(&b.name)).collect();
    branches.sort_by_key(|b| std::cmp::Reverse(repo.commit(&b.target).unwrap().timestamp));
    branches
        .into_iter()
        .map(|b| {
            let c = repo.commit(&b.target).unwrap();
            json!({
                "name": b.name,
                "commit": c.hash,
                "date": c.date(),
                "author": c.author.raw(),
                "message": c.subject(),
                "is_default": repo.mainbranch.as_deref() == Some(b.name.as_str()),
            })
        })
        .collect()
}

#[test]
fn list_branches_newest_first_with_head_commits_and_the_main_branch_marked() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let host = Host::new(&fake);
    let out = host.call("list_branches", json!({"repo": WIDGETS}));
    let expected = branches_expected(widgets(&ws), |_| true);
    assert!(expected.len() >= 3);
    assert_eq!(out["branches"], Value::Array(expected.clone()));
    assert_eq!(next_page(&out), None);
    assert_eq!(
        expected.iter().filter(|b| b["is_default"] == true).count(),
        1
    );

    // Paging one by one through Bitbucket's opaque tokens gives the same list.
    let (all, calls) = collect_pages(
        &host,
        "list_branches",
        json!({"repo": WIDGETS, "limit": 1}),
        "branches",
        10,
    );
    assert_eq!(all, expected);
    assert_eq!(calls, expected.len());

    // `query` is a case-insensitive substring of the name, sent as BBQL.
    fake.clear_requests();
    let out = host.call("list_branches", json!({"repo": WIDGETS, "query": "LOGIN"}));
    assert_eq!(
        out["branches"],
        Value::Array(branches_expected(widgets(&ws), |n| n.contains("login")))
    );
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.query_values("q") == ["name ~ \"LOGIN\""])
    );

    // Another repository: its own main branch (`master`).
    let legacy = host.call("list_branches", json!({"repo": LEGACY_APP}));
    let marked: Vec<&Value> = legacy["branches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["is_default"] == true)
        .map(|b| &b["name"])
        .collect();
    assert_eq!(marked, [&json!("master")]);
}

#[test]
fn list_branches_under_a_branch_pattern_lists_only_allowed_branches() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let host = Host::new(&fake).env("BITBUCKET_BRANCH_REGEX", "main|feature/.*");
    let allowed = |n: &str| n == "main" || n.starts_with("feature/");
    let expected = branches_expected(widgets(&ws), allowed);
    assert!(expected.len() < widgets(&ws).branches.len());
    let out = host.call("list_branches", json!({"repo": WIDGETS}));
    assert_eq!(out["branches"], Value::Array(expected.clone()));
    let (all, _) = collect_pages(
        &host,
        "list_branches",
        json!({"repo": WIDGETS, "limit": 1}),
        "branches",
        10,
    );
    assert_eq!(all, expected);
}

// ---------------------------------------------------------------- get_commit with diff

fn file_json(d: &DiffEntry) -> Value {
    let old = match d.status {
        DiffStatus::Renamed | DiffStatus::Removed => json!(d.old_path),
        _ => Value::Null,
    };
    json!({"path": d.path(), "old_path": old, "status": d.status.as_str(),
           "lines_added": d.lines_added, "lines_removed": d.lines_removed})
}

/// The `diff --git` header lines of a diff text.
fn headers(diff: &str) -> Vec<&str> {
    diff.lines()
        .filter(|l| l.starts_with("diff --git "))
        .collect()
}

fn commit_with_subject<'r>(repo: &'r Repository, subject: &str) -> &'r Commit {
    repo.commits
        .iter()
        .find(|c| c.subject() == subject)
        .unwrap_or_else(|| panic!("no commit `{subject}`"))
}

#[test]
fn get_commit_with_diff_returns_the_unified_diff_of_every_file() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = widgets(&ws);
    let mixed = commit_with_subject(repo, MIXED_COMMIT_SUBJECT);
    let parent = repo.commit(&mixed.parents[0]).unwrap();
    let host = Host::new(&fake);
    let out = host.call(
        "get_commit",
        json!({"repo": WIDGETS, "commit": &mixed.hash[..12], "diff": true}),
    );
    let expected = fake_bitbucket::diff::unified(&parent.tree, &mixed.tree, &mixed.diffstat, 3);
    assert_eq!(out["diff"], String::from_utf8(expected).unwrap());
    assert_eq!(out["diff_truncated"], false);
    assert_eq!(out["diff_omitted_files"], json!([]));
    let diff = out["diff"].as_str().unwrap();
    assert_eq!(headers(diff).len(), mixed.diffstat.len());
    assert!(diff.contains(&format!(
        "Binary files a/{BINARY_FILE} and b/{BINARY_FILE} differ"
    )));
    assert!(diff.contains("\nrename from "), "renames are marked");
    // The diffstat part is unchanged by `diff`.
    let files: Vec<Value> = mixed.diffstat.iter().map(file_json).collect();
    assert_eq!(out["files"], Value::Array(files));

    // Without `diff`, no diff is read (and `diff` is null).
    fake.clear_requests();
    let plain = host.call("get_commit", json!({"repo": WIDGETS, "commit": mixed.hash}));
    assert_eq!(plain["diff"], Value::Null);
    assert!(fake.requests().iter().all(|r| !r.path().contains("/diff/")));

    // `path` limits the diff to one file; the request says so.
    let one = mixed
        .diffstat
        .iter()
        .find(|d| d.status == DiffStatus::Modified)
        .unwrap();
    fake.clear_requests();
    let out = host.call(
        "get_commit",
        json!({"repo": WIDGETS, "commit": mixed.hash, "diff": true, "path": one.path()}),
    );
    let diff = out["diff"].as_str().unwrap();
    assert_eq!(
        headers(diff),
        [format!("diff --git a/{0} b/{0}", one.path())]
    );
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.path().contains("/diff/") && r.query_values("path") == [one.path()])
    );
}

#[test]
fn get_commit_cuts_a_diff_over_100_kb_at_a_file_boundary_and_names_the_rest() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = widgets(&ws);
    let big = repo
        .commits
        .iter()
        .find(|c| {
            c.diffstat
                .iter()
                .any(|d| d.path() == BIG_FILE && d.status == DiffStatus::Added)
        })
        .expect("the commit adding the big file");
    let out = Host::new(&fake).call(
        "get_commit",
        json!({"repo": WIDGETS, "commit": big.hash, "diff": true}),
    );
    let diff = out["diff"].as_str().unwrap();
    assert_eq!(out["diff_truncated"], true);
    assert!(diff.len() <= 100 * 1024, "{} bytes", diff.len());
    assert!(diff.is_empty() || diff.starts_with("diff --git ") && diff.ends_with('\n'));
    let omitted: Vec<&str> = out["diff_omitted_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for d in &big.diffstat {
        let shown = headers(diff)
            .iter()
            .any(|h| h.ends_with(&format!(" b/{}", d.path())));
        assert_ne!(shown, omitted.contains(&d.path()), "{}", d.path());
    }
}

#[test]
fn a_diff_bitbucket_cannot_compute_is_a_typed_error_without_retries() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let head = widgets(&ws).main_head().unwrap().hash.clone();
    fake.fail_always(
        "/diff/",
        Fault::Custom {
            status: 555,
            content_type: "application/json".into(),
            body:
                r#"{"type": "error", "error": {"message": "Timed out while computing the diff"}}"#
                    .into(),
        },
    );
    let (kind, message) = Host::new(&fake).call_err(
        "get_commit",
        json!({"repo": WIDGETS, "commit": head, "diff": true}),
    );
    assert_eq!(kind, "upstream");
    assert!(
        message.contains("555") && message.contains("`path`"),
        "{message}"
    );
    let diffs = fake
        .requests()
        .iter()
        .filter(|r| r.path().contains("/diff/"))
        .count();
    assert_eq!(diffs, 1, "a 555 is not retried");
}

// ---------------------------------------------------------------- get_pull_request

fn pull_request(repo: &Repository, id: u64) -> &PullRequest {
    repo.pull_requests.iter().find(|p| p.id == id).unwrap()
}

/// What get_pull_request must return for `pr` (without the diff).
fn pr_expected(ws: &Workspace, repo: &Repository, pr: &PullRequest) -> Value {
    let name = |u: usize| ws.users[u].display_name.clone();
    let mut reviewers: Vec<Value> = pr
        .reviewers
        .iter()
        .map(|&u| {
            let state = pr
                .participants
                .iter()
                .find(|p| p.user == u)
                .and_then(|p| p.state.clone())
                .unwrap_or_else(|| "pending".into());
            json!({"name": name(u), "state": state})
        })
        .collect();
    for state in ["approved", "changes_requested"] {
        for p in &pr.participants {
            if !pr.reviewers.contains(&p.user) && p.state.as_deref() == Some(state) {
                reviewers.push(json!({"name": name(p.user), "state": state}));
            }
        }
    }
    let statuses: Vec<Value> = repo
        .statuses
        .iter()
        .filter(|s| s.commit == pr.source_commit)
        .filter(|s| s.refname.as_deref().is_none_or(|r| r == pr.source_branch))
        .map(|s| json!({"name": s.name, "state": s.state, "url": s.url}))
        .collect();
    let files: Vec<DiffEntry> = changed_files(repo, pr);
    let mut published: Vec<&PrComment> = pr.comments.iter().filter(|c| !c.deleted).collect();
    published.sort_by_key(|c| std::cmp::Reverse(c.created_on));
    let mut newest: Vec<&PrComment> = published.iter().copied().take(50).collect();
    newest.reverse();
    let comments: Vec<Value> = newest
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "author": name(c.user),
                "created_on": iso_micros(c.created_on),
                "text": c.content,
                "path": c.inline.as_ref().map(|i| i.path.clone()),
                "line": c.inline.as_ref().and_then(|i| i.to.or(i.from)),
                "parent_id": c.parent,
            })
        })
        .collect();
    json!({
        "id": pr.id,
        "title": pr.title,
        "description": pr.description,
        "state": pr.state.as_str(),
        "draft": pr.draft,
        "author": name(pr.author),
        "source_branch": pr.source_branch,
        "source_commit": &pr.source_commit[..12],
        "destination_branch": pr.destination_branch,
        "destination_commit": &pr.destination_commit[..12],
        "merge_commit": pr.merge_commit.as_ref().map(|h| h[..12].to_string()),
        "reviewers": reviewers,
        "comment_count": pr.comment_count,
        "task_count": pr.task_count,
        "statuses": statuses,
        "files": files.iter().map(file_json).collect::<Vec<_>>(),
        "lines_added": files.iter().map(|f| f.lines_added).sum::<u32>(),
        "lines_removed": files.iter().map(|f| f.lines_removed).sum::<u32>(),
        "comments": comments,
        "comments_omitted": published.len().saturating_sub(50),
        "diff": null,
        "diff_truncated": false,
        "diff_omitted_files": [],
        "created_on": iso_micros(pr.created_on),
        "updated_on": iso_micros(pr.updated_on),
        "url": format!("{}/pull-requests/{}", repo.html_url("acme"), pr.id),
    })
}

#[test]
fn get_pull_request_in_full_with_review_states_statuses_files_and_comments() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = widgets(&ws);
    let host = Host::new(&fake);
    // 79: the login branch; 60: more comments than returned; 20: merged; 30 and 45 others.
    for id in [79, 60, 20, 30, 45] {
        let pr = pull_request(repo, id);
        let out = host.call("get_pull_request", json!({"repo": WIDGETS, "id": id}));
        assert_eq!(out, pr_expected(&ws, repo, pr), "pull request {id}");
    }
    let busy = host.call("get_pull_request", json!({"repo": WIDGETS, "id": 60}));
    assert_eq!(busy["comments"].as_array().unwrap().len(), 50);
    assert_eq!(busy["comments_omitted"], 7);
    // General and inline comments, replies linked to their parent; no deleted one.
    let comments = busy["comments"].as_array().unwrap();
    assert!(
        comments
            .iter()
            .any(|c| c["path"].is_string() && c["line"].is_u64())
    );
    assert!(comments.iter().any(|c| c["path"].is_null()));
    assert!(comments.iter().any(|c| c["parent_id"].is_u64()));
    assert!(
        comments
            .iter()
            .all(|c| !c["text"].as_str().unwrap().is_empty())
    );
    assert!(pull_request(repo, 60).comments.iter().any(|c| c.deleted));
    // Build statuses from Pipelines and another CI; the one for another branch is not shown.
    let with_other = pull_request(repo, 79);
    assert!(
        repo.statuses.iter().any(
            |s| s.commit == with_other.source_commit && s.refname.as_deref() == Some("nightly")
        )
    );
    let login = host.call("get_pull_request", json!({"repo": WIDGETS, "id": 79}));
    let names: Vec<&str> = login["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().all(|n| !n.contains("another branch")));

    // `comments: false` reads no comments.
    fake.clear_requests();
    let out = host.call(
        "get_pull_request",
        json!({"repo": WIDGETS, "id": 79, "comments": false}),
    );
    assert_eq!(out["comments"], json!([]));
    assert!(
        fake.requests()
            .iter()
            .all(|r| !r.path().ends_with("/comments"))
    );

    // A pull request of another repository, whose diff link is of the older form.
    let legacy = ws.repository(LEGACY_APP).unwrap();
    let out = host.call("get_pull_request", json!({"repo": LEGACY_APP, "id": 2}));
    assert_eq!(out, pr_expected(&ws, legacy, pull_request(legacy, 2)));

    let (kind, message) = host.call_err("get_pull_request", json!({"repo": WIDGETS, "id": 999}));
    assert_eq!(kind, "not_found", "{message}");
    assert!(message.contains("#999"), "{message}");
}

#[test]
fn get_pull_request_with_diff_follows_the_same_origin_redirects_with_credentials() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = widgets(&ws);
    let pr = pull_request(repo, 79);
    let out = Host::new(&fake).call(
        "get_pull_request",
        json!({"repo": WIDGETS, "id": 79, "diff": true}),
    );
    let src = repo.commit(&pr.source_commit).unwrap();
    let dst = repo.commit(&pr.destination_commit).unwrap();
    let base = repo.merge_base(src, dst).unwrap();
    let expected =
        fake_bitbucket::diff::unified(&base.tree, &src.tree, &changed_files(repo, pr), 3);
    assert_eq!(out["diff"], String::from_utf8(expected).unwrap());
    assert_eq!(out["diff_truncated"], false);
    assert!(
        out["diff"]
            .as_str()
            .unwrap()
            .contains(SLASH_BRANCH_ONLY_FILE)
    );
    let log = fake.settled_requests(std::time::Duration::from_secs(5));
    for kind in ["diff", "diffstat"] {
        let hop = log
            .iter()
            .find(|r| r.path().ends_with(&format!("/pullrequests/79/{kind}")))
            .unwrap_or_else(|| panic!("no {kind} request"));
        assert_eq!(hop.status, Some(302));
        let target = log
            .iter()
            .find(|r| r.path().contains(&format!("/{kind}/acme/widgets:")))
            .unwrap_or_else(|| panic!("the {kind} redirect was not followed"));
        assert_eq!(target.status, Some(200));
        assert_eq!(target.header("authorization"), hop.header("authorization"));
        assert!(target.query_values("from_pullrequest_id") == ["79"]);
    }
}

#[test]
fn get_pull_request_out_of_the_branch_scope_requests_nothing_else() {
    let fake = FakeBitbucket::start();
    let host = Host::new(&fake).env("BITBUCKET_BRANCH_REGEX", "main|develop");
    // 79 goes from feature/login into main: out of scope.
    let (kind, message) = host.call_err(
        "get_pull_request",
        json!({"repo": WIDGETS, "id": 79, "diff": true}),
    );
    assert_eq!(kind, "out_of_scope", "{message}");
    let log = fake.requests();
    assert_eq!(
        log.len(),
        1,
        "{:?}",
        log.iter().map(|r| &r.url).collect::<Vec<_>>()
    );
    assert_eq!(
        log[0].path(),
        "/2.0/repositories/acme/widgets/pullrequests/79"
    );
    // 60 goes from develop into main: in scope, and read in full.
    let ws = fake.workspace();
    let out = host.call("get_pull_request", json!({"repo": WIDGETS, "id": 60}));
    assert_eq!(
        out,
        pr_expected(&ws, widgets(&ws), pull_request(widgets(&ws), 60))
    );
}
