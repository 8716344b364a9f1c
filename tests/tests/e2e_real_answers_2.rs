//! More answers real Bitbucket gives that the default sample does not show (issue 13 item
//! 6): team and app-user accounts, pipelines run for a pull request (also under a branch
//! pattern), symlinks, submodules and LFS files in a tree, diffstat entries with `null` line
//! counts, and runs without `trigger.name` or `duration_in_seconds`. Each variant is added
//! to the fake for one test only, and each test runs the real component in host-demo.
//! (The OAuth refresh POST's `Content-Length` and missing `Transfer-Encoding` are asserted
//! from the request log in e2e_credentials.rs, `one_refresh_request`.)

mod common;

use common::{Host, collect_pages, get};
use fake_bitbucket::FakeBitbucket;
use fake_bitbucket::ids;
use fake_bitbucket::model::{
    AccountKind, FileKind, Pipeline, PipelineResult, PipelineState, PrState, Trigger, User,
};
use fake_bitbucket::sample::WIDGETS;
use serde_json::{Value, json};
use std::sync::Arc;

fn setup() -> (FakeBitbucket, Host) {
    let fake = FakeBitbucket::start();
    let host = Host::new(&fake);
    (fake, host)
}

const MICROS: i64 = 1_000_000;

/// Adds a team and an app user (a repository access token) to the workspace; returns their
/// indexes.
fn add_team_and_app_user(fake: &FakeBitbucket) -> (usize, usize) {
    let mut indexes = (0, 0);
    fake.update_workspace(|ws| {
        ws.users.push(User {
            kind: AccountKind::Team,
            display_name: "Platform Team".into(),
            nickname: "platform-team".into(),
            uuid: ids::uuid("team:platform"),
            account_id: String::new(),
        });
        ws.users.push(User {
            kind: AccountKind::AppUser,
            display_name: "widgets-ci".into(),
            nickname: String::new(),
            uuid: ids::uuid("app:widgets-ci"),
            account_id: ids::account_id("widgets-ci"),
        });
        indexes = (ws.users.len() - 2, ws.users.len() - 1);
    });
    indexes
}

/// A pull request by a team, a pipeline started by an app user and a commit made with it are
/// named by their display names (the commit by its `author.raw`); a team without one by its username (which the client's `fields` now ask
/// for). The fake renders them as the spec's `team` and `app_user` (no `nickname`).
#[test]
fn team_and_app_user_accounts_are_named() {
    let (fake, host) = setup();
    let (team, app) = add_team_and_app_user(&fake);
    let (mut pr_id, mut build) = (0, 0);
    let mut head_commit = (String::new(), String::new());
    fake.update_workspace(|ws| {
        let w = ws.repository_mut(WIDGETS).expect("widgets");
        let pr = w
            .pull_requests
            .iter_mut()
            .find(|p| p.state == PrState::Open)
            .expect("an open pull request");
        pr.author = team;
        pr_id = pr.id;
        let newest = w.pipelines.iter_mut().max_by_key(|p| p.created_on).unwrap();
        newest.creator = Some(app);
        build = newest.build_number;
        // A commit made with the access token (REFERENCE-REVIEW §5: `author.user` is the
        // `app_user`).
        let head = w.main_head().unwrap().hash.clone();
        let commit = w.commits.iter_mut().find(|c| c.hash == head).unwrap();
        commit.author.user = Some(app);
        head_commit = (head, commit.author.raw());
    });
    let raw = get(
        &fake,
        &format!("/2.0/repositories/acme/{WIDGETS}/pullrequests/{pr_id}"),
    )
    .json();
    assert_eq!(raw["author"]["type"], "team", "{}", raw["author"]);
    assert!(raw["author"].get("nickname").is_none());
    let raw = get(
        &fake,
        &format!("/2.0/repositories/acme/{WIDGETS}/pipelines/{build}"),
    )
    .json();
    assert_eq!(raw["creator"]["type"], "app_user");
    assert_eq!(raw["creator"]["kind"], "repository_access_token");
    assert!(raw["creator"].get("nickname").is_none());
    let (head, author) = &head_commit;
    let raw = get(
        &fake,
        &format!("/2.0/repositories/acme/{WIDGETS}/commit/{head}"),
    )
    .json();
    assert_eq!(raw["author"]["user"]["type"], "app_user");
    let commit = host.call("get_commit", json!({"repo": WIDGETS, "commit": head}));
    assert_eq!(commit["author"], author.as_str());
    let commits = host.call("list_commits", json!({"repo": WIDGETS, "limit": 1}));
    assert_eq!(commits["commits"][0]["hash"], head.as_str());
    assert_eq!(commits["commits"][0]["author"], author.as_str());

    let author_in_list = |host: &Host| {
        let list = host.call("list_pull_requests", json!({"repo": WIDGETS, "limit": 50}));
        list["pull_requests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == pr_id)
            .expect("the pull request is listed")["author"]
            .clone()
    };
    assert_eq!(author_in_list(&host), "Platform Team");
    let detail = host.call("get_pull_request", json!({"repo": WIDGETS, "id": pr_id}));
    assert_eq!(detail["author"], "Platform Team");
    let runs = host.call("list_pipelines", json!({"repo": WIDGETS, "limit": 1}));
    assert_eq!(runs["pipelines"][0]["build_number"], build);
    assert_eq!(runs["pipelines"][0]["creator"], "widgets-ci");
    let run = host.call(
        "get_pipeline",
        json!({"repo": WIDGETS, "pipeline": build.to_string()}),
    );
    assert_eq!(run["creator"], "widgets-ci");

    fake.update_workspace(|ws| ws.users[team].display_name = String::new());
    assert_eq!(author_in_list(&host), "platform-team");
    let detail = host.call("get_pull_request", json!({"repo": WIDGETS, "id": pr_id}));
    assert_eq!(detail["author"], "platform-team");
}

/// Adds a completed pipeline run for the first open pull request into `main` whose source
/// is another branch; returns (build number, source branch, source commit).
fn add_pull_request_pipeline(fake: &FakeBitbucket) -> (u64, String, String) {
    let mut out = (0, String::new(), String::new());
    fake.update_workspace(|ws| {
        let w = ws.repository_mut(WIDGETS).expect("widgets");
        let pr = w
            .pull_requests
            .iter()
            .find(|p| {
                p.state == PrState::Open
                    && p.destination_branch == "main"
                    && p.source_branch != "main"
            })
            .expect("an open pull request into main")
            .clone();
        let newest = w.pipelines.iter().map(|p| p.created_on).max().unwrap();
        let build_number = w.pipelines.iter().map(|p| p.build_number).max().unwrap() + 1;
        w.pipelines.push(Pipeline {
            uuid: ids::uuid(&format!("pipeline:widgets:pr:{}", pr.id)),
            build_number,
            state: PipelineState::Completed(PipelineResult::Successful),
            ref_type: None,
            ref_name: None,
            commit: pr.source_commit.clone(),
            selector_type: "pull-requests".into(),
            selector_pattern: Some("**".into()),
            trigger: Trigger::Push,
            creator: Some(pr.author),
            created_on: newest + 3600 * MICROS,
            completed_on: Some(newest + 3700 * MICROS),
            duration_in_seconds: 77,
            steps: Vec::new(),
            pull_request: Some(pr.id),
            spec_fields_only: false,
        });
        out = (build_number, pr.source_branch, pr.source_commit);
    });
    out
}

/// A run for a pull request (`pipeline_pullrequest_target`, branches as strings) reports its
/// source branch and commit; under a branch pattern it is listed and readable only when both
/// of its branches are allowed.
#[test]
fn pull_request_pipelines_report_their_source_branch_and_keep_scope() {
    let (fake, host) = setup();
    let (build, source, commit) = add_pull_request_pipeline(&fake);
    let raw = get(
        &fake,
        &format!("/2.0/repositories/acme/{WIDGETS}/pipelines/{build}"),
    )
    .json();
    assert_eq!(raw["target"]["type"], "pipeline_pullrequest_target");
    assert_eq!(raw["target"]["source"], source.as_str());
    assert_eq!(raw["target"]["destination"], "main");

    let runs = host.call("list_pipelines", json!({"repo": WIDGETS, "limit": 1}));
    let listed = &runs["pipelines"][0];
    assert_eq!(listed["build_number"], build);
    assert_eq!(listed["branch"], source.as_str());
    assert_eq!(listed["commit"], commit.as_str());
    let run = host.call(
        "get_pipeline",
        json!({"repo": WIDGETS, "pipeline": build.to_string()}),
    );
    assert_eq!(run["branch"], source.as_str());
    assert_eq!(run["commit"], commit.as_str());
    assert_eq!(run["duration_seconds"], 77);
    let on_branch = host.call(
        "list_pipelines",
        json!({"repo": WIDGETS, "branch": source, "limit": 100}),
    );
    assert!(
        on_branch["pipelines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["build_number"] == build),
        "{on_branch}"
    );

    let builds = |host: &Host| -> Vec<u64> {
        let (runs, _) = collect_pages(
            host,
            "list_pipelines",
            json!({"repo": WIDGETS, "limit": 100}),
            "pipelines",
            10,
        );
        runs.iter()
            .map(|p| p["build_number"].as_u64().unwrap())
            .collect()
    };
    let main_only = Host::new(&fake).env("BITBUCKET_BRANCH_REGEX", "^main$");
    let visible = builds(&main_only);
    assert!(
        !visible.is_empty() && !visible.contains(&build),
        "{visible:?}"
    );
    let (kind, message) = main_only.call_err(
        "get_pipeline",
        json!({"repo": WIDGETS, "pipeline": build.to_string()}),
    );
    assert_eq!(kind, "out_of_scope", "{message}");

    let both = Host::new(&fake).env(
        "BITBUCKET_BRANCH_REGEX",
        &format!("^(main|{})$", regex_escape(&source)),
    );
    assert!(builds(&both).contains(&build));
    assert_eq!(
        both.call(
            "get_pipeline",
            json!({"repo": WIDGETS, "pipeline": build.to_string()})
        )["branch"],
        source.as_str()
    );
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = ".+*?()|[]{}^$\\".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

const LINK_TARGET: &str = "docs";
const SUBMODULE_SHA: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const LFS_POINTER: &str = "version https://git-lfs.github.com/spec/v1\n\
    oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n\
    size 12345678\n";

/// A symlink, a submodule and an LFS file at the root of `main`'s head: browse_repository
/// names the first two as such, read_file refuses them naming the target and the pinned
/// commit, and reads the LFS file as binary without following its raw URL's 301.
#[test]
fn symlinks_submodules_and_lfs_files_are_told_apart() {
    let (fake, host) = setup();
    fake.update_workspace(|ws| {
        let w = ws.repository_mut(WIDGETS).expect("widgets");
        let head = w.main_head().unwrap().hash.clone();
        let commit = w.commits.iter_mut().find(|c| c.hash == head).unwrap();
        let tree = Arc::make_mut(&mut commit.tree);
        for (path, content, kind) in [
            ("latest-docs", LINK_TARGET, FileKind::Symlink),
            ("third_party", SUBMODULE_SHA, FileKind::Submodule),
            ("demo.mp4", LFS_POINTER, FileKind::Lfs),
        ] {
            tree.insert(path.into(), Arc::new(content.as_bytes().to_vec()));
            w.special_files.insert(path.into(), kind);
        }
    });
    let raw = get(
        &fake,
        &format!("/2.0/repositories/acme/{WIDGETS}/src/main/demo.mp4"),
    );
    assert_eq!(raw.status, 301);
    assert!(
        raw.header("location")
            .is_some_and(|l| l.starts_with("https://api.media.atlassian.com/")),
        "{:?}",
        raw.headers
    );

    let (entries, _) = collect_pages(
        &host,
        "browse_repository",
        json!({"repo": WIDGETS, "limit": 100}),
        "entries",
        5,
    );
    let entry = |path: &str| {
        entries
            .iter()
            .find(|e| e["path"] == path)
            .unwrap_or_else(|| panic!("{path} listed: {entries:?}"))
            .clone()
    };
    assert_eq!(entry("latest-docs")["type"], "symlink");
    assert_eq!(entry("third_party")["type"], "submodule");
    assert_eq!(entry("demo.mp4")["type"], "file");
    assert_eq!(entry("demo.mp4")["size"], LFS_POINTER.len());
    assert_eq!(entry("docs")["type"], "directory");

    let (kind, message) =
        host.call_err("read_file", json!({"repo": WIDGETS, "path": "latest-docs"}));
    assert_eq!(kind, "invalid_input");
    assert!(
        message.contains("symbolic link to `docs`") && !message.contains("  "),
        "{message}"
    );
    let (kind, message) =
        host.call_err("read_file", json!({"repo": WIDGETS, "path": "third_party"}));
    assert_eq!(kind, "invalid_input");
    assert!(
        message.contains(&format!("submodule pinned at commit `{SUBMODULE_SHA}`"))
            && !message.contains("  "),
        "{message}"
    );
    fake.clear_requests();
    let file = host.call("read_file", json!({"repo": WIDGETS, "path": "demo.mp4"}));
    assert_eq!(file["binary"], true, "{file}");
    assert_eq!(file["lines"], json!([]));
    assert_eq!(file["size"], LFS_POINTER.len());
    assert!(
        fake.requests().iter().all(|r| !r.url.contains("media")),
        "the redirect is not followed"
    );
}

/// A diffstat entry whose `lines_added`/`lines_removed` are `null`: get_commit still answers,
/// counting that file 0/0 and keeping every other figure.
#[test]
fn diffstat_entries_with_null_line_counts_count_zero() {
    let (fake, host) = setup();
    let head = fake
        .workspace()
        .repository(WIDGETS)
        .unwrap()
        .main_head()
        .unwrap()
        .hash
        .clone();
    let args = json!({"repo": WIDGETS, "commit": head});
    let before = host.call("get_commit", args.clone());
    let mut changed = String::new();
    fake.update_workspace(|ws| {
        let w = ws.repository_mut(WIDGETS).expect("widgets");
        let commit = w.commits.iter_mut().find(|c| c.hash == head).unwrap();
        let entry = commit
            .diffstat
            .iter_mut()
            .find(|d| d.lines_added + d.lines_removed > 0)
            .expect("a counted change");
        entry.lines_unknown = true;
        changed = entry.path().to_owned();
    });
    let raw = get(
        &fake,
        &format!("/2.0/repositories/acme/{WIDGETS}/diffstat/{head}"),
    )
    .json();
    assert!(
        raw["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["lines_added"].is_null() && v["lines_removed"].is_null()),
        "{raw}"
    );
    let after = host.call("get_commit", args);
    let mut expected = before.clone();
    let (mut added, mut removed) = (0, 0);
    for f in expected["files"].as_array_mut().unwrap() {
        if f["path"] == changed.as_str() {
            added = f["lines_added"].as_u64().unwrap();
            removed = f["lines_removed"].as_u64().unwrap();
            f["lines_added"] = json!(0);
            f["lines_removed"] = json!(0);
        }
    }
    assert!(added + removed > 0, "{changed} in {before}");
    expected["lines_added"] = json!(before["lines_added"].as_u64().unwrap() - added);
    expected["lines_removed"] = json!(before["lines_removed"].as_u64().unwrap() - removed);
    assert_eq!(after, expected);
}

/// A run rendered with only the spec's fields (no `trigger.name`, no `duration_in_seconds`,
/// still `build_seconds_used`): list_pipelines and get_pipeline show the trigger from its
/// type and the build seconds as the duration, the same as for the full answer.
#[test]
fn runs_without_trigger_name_or_duration_use_the_fallbacks() {
    let (fake, host) = setup();
    let newest = fake
        .workspace()
        .repository(WIDGETS)
        .unwrap()
        .pipelines
        .iter()
        .filter(|p| matches!(p.state, PipelineState::Completed(_)))
        .max_by_key(|p| p.created_on)
        .unwrap()
        .build_number;
    let get_args = json!({"repo": WIDGETS, "pipeline": newest.to_string()});
    let listed = |host: &Host| -> Value {
        let runs = host.call("list_pipelines", json!({"repo": WIDGETS, "limit": 30}));
        runs["pipelines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["build_number"] == newest)
            .expect("listed")
            .clone()
    };
    let (list_before, get_before) = (listed(&host), host.call("get_pipeline", get_args.clone()));
    assert!(
        !list_before["trigger"].as_str().unwrap().is_empty()
            && list_before["duration_seconds"].as_u64().unwrap() > 0,
        "{list_before}"
    );
    fake.update_workspace(|ws| {
        let w = ws.repository_mut(WIDGETS).expect("widgets");
        let p = w
            .pipelines
            .iter_mut()
            .find(|p| p.build_number == newest)
            .unwrap();
        p.spec_fields_only = true;
    });
    let raw = get(
        &fake,
        &format!("/2.0/repositories/acme/{WIDGETS}/pipelines/{newest}"),
    )
    .json();
    assert!(raw["trigger"].get("name").is_none(), "{}", raw["trigger"]);
    assert!(raw.get("duration_in_seconds").is_none());
    assert!(raw["build_seconds_used"].as_u64().is_some());
    assert_eq!(listed(&host), list_before);
    assert_eq!(host.call("get_pipeline", get_args), get_before);
}
