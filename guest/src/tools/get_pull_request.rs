//! `get_pull_request`: one pull request in full (review states, build statuses, files
//! changed, comments, optionally the diff) in the fewest sequential round trips.
//!
//! Without a branch pattern everything is requested at once: the pull request, its
//! statuses, its newest comments, and its diffstat and diff (which answer 302 to the
//! repository's `/diff/{spec}` on the same origin, followed in a second round trip). With a
//! branch pattern the pull request is read first and nothing else is requested unless both
//! of its branches are allowed.

use super::get_commit::{diffstat_request, read_diffstat};
use super::list_pull_requests::names_in_state;
use super::{Ctx, diff, repo_path};
use crate::api::{
    BuildStatus as ApiStatus, Comment as ApiComment, CountedPage, Participant,
    PullRequest as ApiPullRequest, ReviewState,
};
use crate::bindings::{BuildStatus, PullRequestComment, PullRequestDetail, Reviewer, ToolError};
use crate::client::{ApiGet, Redirects, decode_json};
use crate::error::{Endpoint, ToolResult};
use crate::scope::RepoRef;
use crate::transport::HttpResponse;

/// Only what the tool returns.
const FIELDS: &str = "id,title,description,state,draft,author.display_name,author.nickname,author.username,\
    source.branch.name,source.commit.hash,destination.branch.name,destination.commit.hash,\
    merge_commit.hash,reviewers.display_name,reviewers.nickname,reviewers.username,reviewers.uuid,\
    participants.state,participants.approved,participants.role,participants.user.display_name,\
    participants.user.nickname,participants.user.username,participants.user.uuid,comment_count,task_count,created_on,\
    updated_on,links.html.href";
const COMMENT_FIELDS: &str = "size,next,values.id,values.user.display_name,values.user.nickname,values.user.username,\
    values.content.raw,values.created_on,values.inline.path,values.inline.from,values.inline.to,\
    values.parent.id,values.deleted";
const STATUS_FIELDS: &str = "next,values.name,values.key,values.state,values.url";
/// At most this many comments are returned: the newest ones (`pagelen=50` is known to be
/// accepted, REFERENCE-REVIEW §3a), so one request reads them.
pub const MAX_COMMENTS: u32 = 50;

/// Runs the tool.
pub fn run(
    ctx: &Ctx,
    repo: Option<String>,
    id: u64,
    with_diff: Option<bool>,
    with_comments: Option<bool>,
) -> ToolResult<PullRequestDetail> {
    let repo = ctx.repo(repo.as_deref())?;
    if id == 0 {
        return Err(ToolError::invalid_input(
            "`id` must be a pull request number (1 or more), as list_pull_requests gives it.",
        ));
    }
    let with_diff = with_diff.unwrap_or(false);
    let with_comments = with_comments.unwrap_or(true);
    let base = repo_path(&repo, &format!("/pullrequests/{id}"));
    let what = format!("pull request #{id} of {}", repo.full_name());
    let detail =
        ApiGet::new(base.clone(), Endpoint::Repository(what.clone())).param("fields", FIELDS);
    let mut rest = vec![
        ApiGet::new(
            format!("{base}/statuses"),
            Endpoint::Repository(format!("build statuses of {what}")),
        )
        .param("pagelen", 50)
        .param("fields", STATUS_FIELDS),
        diffstat(&base, &what, &[]),
    ];
    if with_comments {
        rest.push(
            ApiGet::new(
                format!("{base}/comments"),
                Endpoint::Repository(format!("comments of {what}")),
            )
            // Newest first, so that one page holds the newest; put oldest first below.
            .param("q", "deleted = false")
            .param("sort", "-created_on")
            .param("pagelen", MAX_COMMENTS)
            .param("fields", COMMENT_FIELDS),
        );
    }
    if with_diff {
        rest.push(
            diff::request(format!("{base}/diff"), format!("the diff of {what}"))
                .redirects(Redirects::SameOrigin),
        );
    }

    let (pr, mut answers) = if ctx.config().scope.branch_regex.is_some() {
        // Check first: nothing else about a pull request out of scope is requested.
        let pr: ApiPullRequest = ctx.client.get_json(detail)?;
        check_scope(ctx, &repo, &pr)?;
        (pr, ctx.client.get_all(&rest).into_iter())
    } else {
        let mut all = vec![detail];
        all.extend(rest);
        let mut answers = ctx.client.get_all(&all).into_iter();
        let pr: ApiPullRequest = decode_json(&answers.next().expect("pull request")?)?;
        (pr, answers)
    };
    let statuses: CountedPage<ApiStatus> = decode_json(&answers.next().expect("statuses")?)?;
    let files = read_diffstat(ctx, answers.next().expect("diffstat"), |position| {
        diffstat(&base, &what, position)
    })?;
    let (comments, comments_omitted) = if with_comments {
        comments_of(answers.next().expect("comments"))?
    } else {
        (Vec::new(), 0)
    };
    let cut = match answers.next() {
        Some(answer) => diff::cut(answer, &files)?,
        None => diff::CutDiff::default(),
    };

    let end = |e: &crate::api::PullRequestEnd| {
        (
            e.branch
                .as_ref()
                .map(|b| b.name.clone())
                .unwrap_or_default(),
            e.commit
                .as_ref()
                .map(|c| c.hash.clone())
                .unwrap_or_default(),
        )
    };
    let (source_branch, source_commit) = end(&pr.source);
    let (destination_branch, destination_commit) = end(&pr.destination);
    Ok(PullRequestDetail {
        id: pr.id,
        title: pr.title.clone(),
        description: pr.description.clone().unwrap_or_default(),
        state: pr.state.clone(),
        draft: pr.draft,
        author: pr.author.as_ref().map(|a| a.name()).unwrap_or_default(),
        source_branch,
        source_commit,
        destination_branch,
        destination_commit,
        merge_commit: pr
            .merge_commit
            .as_ref()
            .map(|c| c.hash.clone())
            .filter(|h| !h.is_empty()),
        reviewers: reviewers(&pr),
        comment_count: pr.comment_count,
        task_count: pr.task_count,
        statuses: statuses
            .values
            .into_iter()
            .map(|s| BuildStatus {
                name: s.name.or(s.key).unwrap_or_default(),
                state: s.state,
                url: s.url.unwrap_or_default(),
            })
            .collect(),
        lines_added: files.iter().map(|f| f.lines_added).sum(),
        lines_removed: files.iter().map(|f| f.lines_removed).sum(),
        files,
        comments,
        comments_omitted,
        diff: with_diff.then_some(cut.text),
        diff_truncated: cut.truncated,
        diff_omitted_files: cut.omitted,
        created_on: pr.created_on.clone().unwrap_or_default(),
        updated_on: pr.updated_on.clone().unwrap_or_default(),
        url: pr
            .links
            .html
            .as_ref()
            .map(|l| l.href.clone())
            .unwrap_or_default(),
    })
}

/// The pull request's diffstat (a 302 to the repository's diffstat, followed).
fn diffstat(base: &str, what: &str, position: &[(String, String)]) -> ApiGet {
    diffstat_request(
        format!("{base}/diffstat"),
        Endpoint::Diff(format!("the files changed by {what}")),
        position,
    )
    .redirects(Redirects::SameOrigin)
}

/// Under a branch pattern, a pull request is in scope when both of its branches are allowed.
fn check_scope(ctx: &Ctx, repo: &RepoRef, pr: &ApiPullRequest) -> ToolResult<()> {
    let scope = &ctx.config().scope;
    let allowed = [&pr.source, &pr.destination].iter().all(|end| {
        end.branch
            .as_ref()
            .is_some_and(|b| scope.branch_allowed(&b.name))
    });
    if allowed {
        Ok(())
    } else {
        Err(ToolError::out_of_scope(format!(
            "Pull request #{} of {} is outside this connection's scope: its source or \
             destination branch is not allowed. list_pull_requests shows the pull requests in \
             scope.",
            pr.id,
            repo.full_name()
        )))
    }
}

/// Each reviewer with the state of their review, then the other participants who approved
/// or requested changes.
fn reviewers(pr: &ApiPullRequest) -> Vec<Reviewer> {
    let same = |p: &Participant, r: &crate::api::User| match (&p.user, &r.uuid) {
        (Some(u), Some(uuid)) if u.uuid.is_some() => u.uuid.as_ref() == Some(uuid),
        (Some(u), _) => u.name() == r.name(),
        _ => false,
    };
    let label = |state: ReviewState| match state {
        ReviewState::Approved => "approved",
        ReviewState::ChangesRequested => "changes_requested",
        ReviewState::Pending => "pending",
    };
    let mut out: Vec<Reviewer> = pr
        .reviewers
        .iter()
        .map(|r| Reviewer {
            name: r.name(),
            state: label(
                pr.participants
                    .iter()
                    .find(|p| same(p, r))
                    .map_or(ReviewState::Pending, Participant::review_state),
            )
            .into(),
        })
        .collect();
    for state in [ReviewState::Approved, ReviewState::ChangesRequested] {
        let others = pr
            .participants
            .iter()
            .filter(|p| !pr.reviewers.iter().any(|r| same(p, r)));
        let names = names_in_state(others, state);
        out.extend(names.into_iter().map(|name| Reviewer {
            name,
            state: label(state).into(),
        }));
    }
    out
}

/// The newest comments, oldest first, deleted ones left out; and how many published
/// comments were left out.
fn comments_of(answer: ToolResult<HttpResponse>) -> ToolResult<(Vec<PullRequestComment>, u32)> {
    let page: CountedPage<ApiComment> = decode_json(&answer?)?;
    let mut kept: Vec<PullRequestComment> = page
        .values
        .into_iter()
        .filter(|c| !c.deleted)
        .take(MAX_COMMENTS as usize)
        .map(|c| {
            let inline = c
                .inline
                .filter(|i| i.path.as_deref().is_some_and(|p| !p.is_empty()));
            PullRequestComment {
                id: c.id,
                author: c.user.as_ref().map(|u| u.name()).unwrap_or_default(),
                created_on: c.created_on.unwrap_or_default(),
                text: c.content.and_then(|t| t.raw).unwrap_or_default(),
                line: inline.as_ref().and_then(|i| i.to.or(i.from)),
                path: inline.and_then(|i| i.path),
                parent_id: c.parent.and_then(|p| p.id),
            }
        })
        .collect();
    // Asked newest first; an agent reads a conversation oldest first.
    kept.sort_by(|a, b| a.created_on.cmp(&b.created_on).then(a.id.cmp(&b.id)));
    let omitted = match page.size {
        Some(size) => size.saturating_sub(kept.len() as u64) as u32,
        None if page.next.is_some() => 1,
        None => 0,
    };
    Ok((kept, omitted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ErrorKind;
    use crate::tools::testing::{Scripted, config, config_with};

    const PR: &str = r#"{"type": "pullrequest", "id": 7, "title": "T", "description": "D", "state": "OPEN", "draft": true,
      "author": {"display_name": "Ann"},
      "source": {"branch": {"name": "feature/x"}, "commit": {"hash": "16182c4123fb"}},
      "destination": {"branch": {"name": "main"}, "commit": {"hash": "1fbd047cd99a"}},
      "merge_commit": null, "comment_count": 3, "task_count": 1,
      "reviewers": [{"display_name": "Bob", "uuid": "{b}"}, {"display_name": "Cy", "uuid": "{c}"}, {"display_name": "Di", "uuid": "{d}"}],
      "participants": [
        {"role": "REVIEWER", "approved": true, "state": "approved", "user": {"display_name": "Bob", "uuid": "{b}"}},
        {"role": "REVIEWER", "approved": false, "state": "changes_requested", "user": {"display_name": "Cy", "uuid": "{c}"}},
        {"role": "REVIEWER", "approved": false, "state": null, "user": {"display_name": "Di", "uuid": "{d}"}},
        {"role": "PARTICIPANT", "approved": true, "state": "approved", "user": {"display_name": "Eve", "uuid": "{e}"}}],
      "links": {"html": {"href": "https://bitbucket.org/acme/widgets/pull-requests/7"}}}"#;

    fn scripted() -> Scripted {
        Scripted::default()
            .route("/repositories/acme/widgets/pullrequests/7/statuses", 200,
                r#"{"values": [{"type": "build", "key": "k1", "name": "Pipeline #3 for feature/x", "state": "FAILED", "url": "https://ci/3"}]}"#)
            .route("/repositories/acme/widgets/pullrequests/7/diffstat", 200,
                r#"{"values": [{"status": "modified", "lines_added": 2, "lines_removed": 1, "old": {"path": "a.rs"}, "new": {"path": "a.rs"}}]}"#)
            .route("/repositories/acme/widgets/pullrequests/7/comments", 200,
                r#"{"size": 53, "values": [
                  {"id": 3, "user": {"display_name": "Cy"}, "content": {"raw": "reply"}, "created_on": "2025-01-03T00:00:00+00:00", "parent": {"id": 2}, "inline": {"path": "a.rs", "from": null, "to": 4}},
                  {"id": 9, "deleted": true, "content": {"raw": ""}, "created_on": "2025-01-02T12:00:00+00:00"},
                  {"id": 2, "user": {"display_name": "Bob"}, "content": {"raw": "why?"}, "created_on": "2025-01-02T00:00:00+00:00", "inline": {}},
                  {"id": 1, "user": {"display_name": "Ann"}, "content": {"raw": "first"}, "created_on": "2025-01-01T00:00:00+00:00", "parent": null}]}"#)
            .route("/repositories/acme/widgets/pullrequests/7", 200, PR)
    }

    #[test]
    fn everything_in_one_round_trip_without_a_branch_pattern() {
        let t = scripted();
        let c = config();
        let out = run(&Ctx::new(&c, &t), Some("widgets".into()), 7, None, None).unwrap();
        assert_eq!(*t.batches.borrow(), [4]);
        assert_eq!((out.draft, out.task_count), (true, 1));
        assert_eq!(out.source_commit, "16182c4123fb");
        let states: Vec<(&str, &str)> = out
            .reviewers
            .iter()
            .map(|r| (r.name.as_str(), r.state.as_str()))
            .collect();
        assert_eq!(
            states,
            [
                ("Bob", "approved"),
                ("Cy", "changes_requested"),
                ("Di", "pending"),
                ("Eve", "approved")
            ]
        );
        assert_eq!(out.statuses[0].state, "FAILED");
        assert_eq!(
            (out.files.len(), out.lines_added, out.lines_removed),
            (1, 2, 1)
        );
        // Oldest first, the deleted one left out, replies linked, `inline: {}` is general.
        let ids: Vec<u64> = out.comments.iter().map(|c| c.id).collect();
        assert_eq!(ids, [1, 2, 3]);
        assert_eq!(out.comments[2].parent_id, Some(2));
        assert_eq!(
            (out.comments[2].path.as_deref(), out.comments[2].line),
            (Some("a.rs"), Some(4))
        );
        assert_eq!(
            (out.comments[1].path.as_deref(), out.comments[1].line),
            (None, None)
        );
        assert_eq!(out.comments_omitted, 50);
        assert_eq!(out.diff, None);
        let sent = t.sent_without_fields();
        assert!(
            sent.iter().any(|s| s.ends_with(
                "/pullrequests/7/comments?q=deleted%20%3D%20false&sort=-created_on&pagelen=50"
            )),
            "{sent:?}"
        );
    }

    #[test]
    fn under_a_branch_pattern_nothing_else_is_asked_for_a_pull_request_out_of_scope() {
        let c = config_with(&[("BITBUCKET_BRANCH_REGEX", "main")]);
        let t = scripted();
        let e = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            7,
            Some(true),
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::OutOfScope);
        assert_eq!(t.sent().len(), 1, "{:?}", t.sent());
        // Allowed: the pull request first, then the rest together.
        let c = config_with(&[("BITBUCKET_BRANCH_REGEX", "main|feature/.*")]);
        let t = scripted();
        run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            7,
            None,
            Some(false),
        )
        .unwrap();
        assert_eq!(*t.batches.borrow(), [1, 2]);
    }

    #[test]
    fn a_missing_pull_request_is_not_found_and_id_zero_is_refused() {
        let t = Scripted::default();
        let c = config();
        let e = run(&Ctx::new(&c, &t), Some("widgets".into()), 8, None, None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(e.message.contains("pull request #8"), "{}", e.message);
        let before = t.sent().len();
        let e = run(&Ctx::new(&c, &t), Some("widgets".into()), 0, None, None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert_eq!(t.sent().len(), before);
    }
}
