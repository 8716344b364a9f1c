//! `get_commit`: one commit with its diffstat against its first parent, and optionally its
//! unified diff (whole, or of one path).

use super::{Ctx, diff, repo_path};
use crate::api::{Commit as ApiCommit, Diffstat, Page};
use crate::bindings::{CommitDetail, FileChange};
use crate::client::{ApiGet, decode_json};
use crate::encoding::percent_encode;
use crate::error::{Endpoint, ToolResult};
use crate::next_link;
use crate::validate;

/// Only what the tool returns (REFERENCE §3: a whitelist must keep `next`).
const DIFFSTAT_FIELDS: &str =
    "next,values.status,values.lines_added,values.lines_removed,values.old.path,values.new.path";
/// Diffstat entries per page (Bitbucket allows up to 5000).
const DIFFSTAT_PAGELEN: u32 = 1000;
/// At most this many diffstat pages are read.
const MAX_DIFFSTAT_PAGES: u32 = 10;

/// Runs the tool.
pub fn run(
    ctx: &Ctx,
    repo: Option<String>,
    commit: String,
    with_diff: Option<bool>,
    path: Option<String>,
) -> ToolResult<CommitDetail> {
    let repo = ctx.repo(repo.as_deref())?;
    let hash = validate::commit_hash(commit.trim())?;
    let path = path
        .map(|p| validate::repo_path(&p, "path"))
        .transpose()?
        .filter(|p| !p.is_empty());
    // `path` only limits the diff, so it implies `diff` unless that is set to false.
    if path.is_some() && with_diff == Some(false) {
        return Err(crate::bindings::ToolError::invalid_input(
            "`path` limits the diff to one file: leave out `diff: false` to get that diff.",
        ));
    }
    let with_diff = with_diff.unwrap_or(path.is_some());
    // Under a branch pattern, only commits on allowed branches may be read.
    ctx.check_commit_in_scope(&repo, &hash)?;
    let endpoint = Endpoint::Revision {
        what: format!("commit `{hash}` in {}", repo.full_name()),
    };
    let diffstat = |position: &[(String, String)]| {
        diffstat_request(
            repo_path(&repo, &format!("/diffstat/{}", percent_encode(&hash))),
            endpoint.clone(),
            position,
        )
    };
    // The commit, its diffstat and its diff are independent: one round trip for all.
    let mut requests = vec![
        ApiGet::new(
            repo_path(&repo, &format!("/commit/{}", percent_encode(&hash))),
            endpoint.clone(),
        )
        .param(
            "fields",
            "hash,author.raw,author.user.display_name,author.user.nickname,author.user.username,date,message,parents.hash",
        ),
        diffstat(&[]),
    ];
    if with_diff {
        requests.push(
            diff::request(
                repo_path(&repo, &format!("/diff/{}", percent_encode(&hash))),
                format!("the diff of commit `{hash}` in {}", repo.full_name()),
            )
            .param_opt("path", path.clone()),
        );
    }
    let mut answers = ctx.client.get_all(&requests).into_iter();
    let commit: ApiCommit = decode_json(&answers.next().expect("commit")?)?;
    let files = read_diffstat(ctx, answers.next().expect("diffstat"), diffstat)?;
    let diff_answer = answers.next();
    let cut = match diff_answer {
        Some(answer) => {
            let shown: Vec<FileChange> = files
                .iter()
                .filter(|f| path.as_deref().is_none_or(|p| covers(p, f)))
                .cloned()
                .collect();
            Some(diff::cut(answer, &shown)?)
        }
        None => None,
    };
    let (diff_text, diff_truncated, diff_omitted_files) = match cut {
        Some(c) => (Some(c.text), c.truncated, c.omitted),
        None => (None, false, Vec::new()),
    };
    Ok(CommitDetail {
        diff: diff_text,
        diff_truncated,
        diff_omitted_files,
        lines_added: files.iter().map(|f| f.lines_added).sum(),
        lines_removed: files.iter().map(|f| f.lines_removed).sum(),
        files,
        author: commit.author.text(),
        date: commit.date.unwrap_or_default(),
        message: commit.message.unwrap_or_default(),
        parents: commit.parents.into_iter().map(|p| p.hash).collect(),
        hash: commit.hash,
    })
}

/// The files changed, from the first diffstat page's answer and (boundedly) the pages after
/// it, which `request(position)` builds from the position parameters of each `next` link.
pub fn read_diffstat(
    ctx: &Ctx,
    first: ToolResult<crate::transport::HttpResponse>,
    request: impl Fn(&[(String, String)]) -> ApiGet,
) -> ToolResult<Vec<FileChange>> {
    let mut stats: Page<Diffstat> = decode_json(&first?)?;
    let mut entries = std::mem::take(&mut stats.values);
    let mut pages = 1;
    while let Some(next) = stats.next.take() {
        if pages == MAX_DIFFSTAT_PAGES {
            break;
        }
        let position = next_link::positions_in(&next)?;
        stats = ctx.client.get_json(request(&position))?;
        entries.append(&mut stats.values);
        pages += 1;
    }
    Ok(entries.into_iter().map(file_change).collect())
}

/// A diffstat entry as returned: the old path only for renamed and removed files.
fn file_change(d: Diffstat) -> FileChange {
    let old = d.old.map(|p| p.path);
    let new = d.new.map(|p| p.path);
    FileChange {
        path: new.clone().or_else(|| old.clone()).unwrap_or_default(),
        old_path: if new.is_none() || old != new {
            old
        } else {
            None
        },
        status: d.status,
        lines_added: d.lines_added,
        lines_removed: d.lines_removed,
    }
}

/// A diffstat request for page `page` of `path` (encoded, below the API base).
pub fn diffstat_request(path: String, endpoint: Endpoint, position: &[(String, String)]) -> ApiGet {
    ApiGet::new(path, endpoint)
        .param("pagelen", DIFFSTAT_PAGELEN)
        .param("fields", DIFFSTAT_FIELDS)
        .at_position(position)
}

/// Whether a diff limited to `path` (a file or directory) shows `file`.
fn covers(path: &str, file: &FileChange) -> bool {
    let hit = |p: &str| p == path || p.starts_with(&format!("{path}/"));
    hit(&file.path) || file.old_path.as_deref().is_some_and(hit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ErrorKind;
    use crate::tools::testing::{Scripted, config};

    #[test]
    fn combines_commit_and_diffstat() {
        let t = Scripted::default()
            .route(
                "/repositories/acme/widgets/commit/251fce29",
                200,
                r#"{"type": "commit", "hash": "251fce291f086cdde68ae2a896148abb5b58033e", "date": "2025-04-26T09:50:59+00:00",
                   "author": {"raw": "N <n@a.com>"}, "message": "m", "parents": [{"hash": "2674e72983786424571e0c8fc5ac8eca17e0583f"}]}"#,
            )
            .route(
                "/repositories/acme/widgets/diffstat/251fce29",
                200,
                r#"{"pagelen": 500, "page": 1, "size": 3, "values": [
                  {"type": "diffstat", "status": "modified", "lines_added": 3, "lines_removed": 1, "old": {"path": "a"}, "new": {"path": "a"}},
                  {"type": "diffstat", "status": "renamed", "lines_added": 0, "lines_removed": 0, "old": {"path": "b"}, "new": {"path": "c"}},
                  {"type": "diffstat", "status": "removed", "lines_added": 0, "lines_removed": 7, "old": {"path": "d"}, "new": null},
                  {"type": "diffstat", "status": "added", "lines_added": null, "lines_removed": null, "old": null, "new": {"path": "e.png"}}]}"#,
            );
        let c = config();
        let out = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            "251FCE29".into(),
            None,
            None,
        )
        .unwrap();
        assert_eq!((out.diff.as_deref(), out.diff_truncated), (None, false));
        assert_eq!(out.hash, "251fce291f086cdde68ae2a896148abb5b58033e");
        assert_eq!(out.parents, ["2674e72983786424571e0c8fc5ac8eca17e0583f"]);
        assert_eq!((out.lines_added, out.lines_removed), (3, 8));
        assert_eq!(out.files[0].old_path, None);
        assert_eq!(
            (out.files[1].path.as_str(), out.files[1].old_path.as_deref()),
            ("c", Some("b"))
        );
        assert_eq!(
            (out.files[2].path.as_str(), out.files[2].old_path.as_deref()),
            ("d", Some("d"))
        );
        assert_eq!(out.files[3].path, "e.png");
        assert_eq!(
            (out.files[3].lines_added, out.files[3].lines_removed),
            (0, 0)
        );
        assert_eq!(t.sent().len(), 2);
    }

    #[test]
    fn a_diffstat_timeout_is_not_retried_and_says_why() {
        let t = Scripted::default()
            .route(
                "/repositories/acme/widgets/commit/251fce29",
                200,
                r#"{"hash": "251fce291f086cdde68ae2a896148abb5b58033e"}"#,
            )
            .route(
                "/repositories/acme/widgets/diffstat/251fce29",
                555,
                r#"{"type": "error", "error": {"message": "Timeout"}}"#,
            );
        let c = config();
        let e = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            "251fce29".into(),
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Upstream);
        assert!(
            e.message.contains("too large") && e.message.contains("not retry"),
            "{}",
            e.message
        );
        assert_eq!(t.sent().len(), 2, "{:?}", t.sent());
    }

    const BRANCHES: &str = r#"{"pagelen": 100, "values": [{"name": "release/1", "target": {"hash": "3333333333333333333333333333333333333333"}}, {"name": "develop", "target": {"hash": "2222222222222222222222222222222222222222"}}, {"name": "main", "target": {"hash": "1111111111111111111111111111111111111111"}}]}"#;

    #[test]
    fn under_a_branch_pattern_a_commit_must_be_on_an_allowed_branch() {
        let c =
            crate::tools::testing::config_with(&[("BITBUCKET_BRANCH_REGEX", "main|release/.*")]);
        // Reachable: `git log abcd ^<head of main> ^<head of release/1>` is empty, so the
        // commit is read. Heads are excluded by hash: a tag named `main` cannot stand in.
        let t = Scripted::default()
            .route("/repositories/acme/widgets/refs/branches?", 200, BRANCHES)
            .route(
                "/repositories/acme/widgets/commits?",
                200,
                r#"{"values": []}"#,
            )
            .route(
                "/repositories/acme/widgets/commit/abcd",
                200,
                r#"{"hash": "abcd1234"}"#,
            )
            .route(
                "/repositories/acme/widgets/diffstat/abcd",
                200,
                r#"{"values": []}"#,
            );
        run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            "abcd".into(),
            None,
            None,
        )
        .unwrap();
        let sent = t.sent();
        assert_eq!(
            sent[1],
            "/repositories/acme/widgets/commits?include=abcd&exclude=1111111111111111111111111111111111111111&exclude=3333333333333333333333333333333333333333&pagelen=1&fields=values.hash"
        );
        assert_eq!(sent.len(), 4);
        // Not reachable: the commit itself comes back, and nothing about it is read.
        let t = Scripted::default()
            .route("/repositories/acme/widgets/refs/branches?", 200, BRANCHES)
            .route(
                "/repositories/acme/widgets/commits?",
                200,
                r#"{"values": [{"hash": "abcd1234"}]}"#,
            );
        let e = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            "abcd".into(),
            Some(true),
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::OutOfScope);
        assert!(
            !t.sent()
                .iter()
                .any(|p| p.contains("/commit/") || p.contains("/diff"))
        );
        // A hash that does not exist (404) gets the same answer as a hidden one.
        let t = Scripted::default()
            .route("/repositories/acme/widgets/refs/branches?", 200, BRANCHES)
            .route(
                "/repositories/acme/widgets/commits?",
                404,
                r#"{"type": "error", "error": {"message": "Commit not found"}}"#,
            );
        let missing = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            "abcd".into(),
            None,
            None,
        )
        .unwrap_err();
        assert_eq!((missing.kind, missing.message), (e.kind, e.message));
    }

    #[test]
    fn bad_hash_sends_nothing() {
        let t = Scripted::default();
        let c = config();
        let e = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            "main".into(),
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        let e = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            "abcd".into(),
            Some(true),
            Some("../etc".into()),
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(t.sent().is_empty());
    }

    #[test]
    fn the_diff_comes_in_the_same_round_trip_as_raw_text() {
        let t = Scripted::default()
            .route(
                "/repositories/acme/widgets/commit/abcd",
                200,
                r#"{"hash": "abcd1234"}"#,
            )
            .route(
                "/repositories/acme/widgets/diffstat/abcd",
                200,
                r#"{"values": [{"status": "modified", "lines_added": 1, "lines_removed": 0, "old": {"path": "a"}, "new": {"path": "a"}}]}"#,
            )
            .route(
                "/repositories/acme/widgets/diff/abcd",
                200,
                "diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1,2 @@\n x\n+y\n",
            );
        let c = config();
        let out = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            "abcd".into(),
            Some(true),
            Some("a".into()),
        )
        .unwrap();
        assert_eq!(*t.batches.borrow(), [3]);
        assert!(out.diff.unwrap().ends_with("+y\n"));
        assert!(!out.diff_truncated && out.diff_omitted_files.is_empty());
        assert_eq!(t.sent()[2], "/repositories/acme/widgets/diff/abcd?path=a");
    }

    #[test]
    fn a_diff_too_large_for_bitbucket_is_not_retried_and_says_what_to_do() {
        let t = Scripted::default()
            .route("/repositories/acme/widgets/commit/abcd", 200, "{}")
            .route("/repositories/acme/widgets/diffstat/abcd", 200, "{}")
            .route(
                "/repositories/acme/widgets/diff/abcd",
                555,
                r#"{"type": "error", "error": {"message": "Diff too large"}}"#,
            );
        let c = config();
        let e = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            "abcd".into(),
            Some(true),
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Upstream);
        assert!(
            e.message.contains("555") && e.message.contains("`path`"),
            "{}",
            e.message
        );
        assert_eq!(t.sent().len(), 3, "no retry: {:?}", t.sent());
    }
}
