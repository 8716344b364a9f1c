//! `list_pull_requests`: pull requests by state with reviewers, in one request per page.

use super::{Ctx, NumberedListing, repo_path};
use crate::api::{Participant, PullRequest as ApiPullRequest, ReviewState};
use crate::bindings::{PullRequest, PullRequestPage, ToolError};
use crate::client::ApiGet;
use crate::error::{Endpoint, ToolResult};
use crate::validate::{self, shorten};

const TOOL: &str = "list_pull_requests";
/// Only what the tool returns. Reviewers and participants are left out of list answers unless
/// asked for (REFERENCE §14); naming them here saves one request per pull request.
const FIELDS: &str = "next,values.id,values.title,values.state,values.draft,values.author.display_name,values.author.nickname,values.author.username,\
    values.source.branch.name,values.destination.branch.name,values.reviewers.display_name,values.reviewers.nickname,values.reviewers.username,\
    values.participants.state,values.participants.approved,values.participants.user.display_name,values.participants.user.nickname,values.participants.user.username,\
    values.comment_count,values.created_on,values.updated_on,values.links.html.href";
/// The states Bitbucket knows.
pub const STATES: [&str; 4] = ["OPEN", "MERGED", "DECLINED", "SUPERSEDED"];
/// Bitbucket refuses pull request pages over 50 (REFERENCE §2).
const MAX_PAGELEN: u32 = 50;

/// Runs the tool.
pub fn run(
    ctx: &Ctx,
    repo: Option<String>,
    state: Option<Vec<String>>,
    limit: Option<u32>,
    page: Option<String>,
) -> ToolResult<PullRequestPage> {
    let repo = ctx.repo(repo.as_deref())?;
    let limit = validate::limit(limit)?;
    let states = states(state.unwrap_or_default())?;
    let scope = &ctx.config().scope;
    let listing = NumberedListing {
        tool: TOOL,
        scope: repo.full_name(),
        max_pagelen: MAX_PAGELEN,
        request: |page, pagelen| {
            let mut get = ApiGet::new(
                repo_path(&repo, "/pullrequests"),
                Endpoint::Repository(format!("pull requests of {}", repo.full_name())),
            );
            for state in &states {
                get = get.param("state", state);
            }
            get.param("fields", FIELDS)
                .param("sort", "-updated_on")
                .param("pagelen", pagelen)
                .param("page", page)
        },
    };
    let (pull_requests, next_page) = listing.collect(
        &ctx.client,
        page.as_deref(),
        limit,
        |pr: &ApiPullRequest| {
            // With a branch scope, a pull request is visible when both of its branches are.
            [&pr.source, &pr.destination].iter().all(|end| {
                end.branch
                    .as_ref()
                    .is_some_and(|b| scope.branch_allowed(&b.name))
            })
        },
    )?;
    Ok(PullRequestPage {
        pull_requests: pull_requests.into_iter().map(convert).collect(),
        next_page,
    })
}

fn states(requested: Vec<String>) -> ToolResult<Vec<String>> {
    if requested.is_empty() {
        return Ok(vec!["OPEN".into()]);
    }
    let mut out: Vec<String> = Vec::new();
    for state in requested {
        let upper = state.trim().to_ascii_uppercase();
        if !STATES.contains(&upper.as_str()) {
            return Err(ToolError::invalid_input(format!(
                "`state` `{}` is not a pull request state: use OPEN, MERGED, DECLINED or SUPERSEDED (or a list of them).",
                shorten(&state)
            )));
        }
        if !out.contains(&upper) {
            out.push(upper);
        }
    }
    Ok(out)
}

/// The names of the participants in review state `state`, in Bitbucket's order.
pub fn names_in_state<'a>(
    participants: impl IntoIterator<Item = &'a Participant>,
    state: ReviewState,
) -> Vec<String> {
    participants
        .into_iter()
        .filter(|p| p.review_state() == state)
        .map(Participant::name)
        .filter(|n| !n.is_empty())
        .collect()
}

fn convert(pr: ApiPullRequest) -> PullRequest {
    let branch = |end: crate::api::PullRequestEnd| end.branch.map(|b| b.name).unwrap_or_default();
    PullRequest {
        id: pr.id,
        title: pr.title,
        state: pr.state,
        draft: pr.draft,
        author: pr.author.map(|a| a.name()).unwrap_or_default(),
        source_branch: branch(pr.source),
        destination_branch: branch(pr.destination),
        reviewers: pr.reviewers.iter().map(|r| r.name()).collect(),
        approved_by: names_in_state(&pr.participants, ReviewState::Approved),
        changes_requested_by: names_in_state(&pr.participants, ReviewState::ChangesRequested),
        comment_count: pr.comment_count,
        created_on: pr.created_on.unwrap_or_default(),
        updated_on: pr.updated_on.unwrap_or_default(),
        url: pr.links.html.map(|l| l.href).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ErrorKind;
    use crate::tools::testing::{Scripted, config, config_with};

    fn pr(id: u32, source: &str) -> String {
        let draft = id == 2;
        format!(
            r#"{{"type": "pullrequest", "id": {id}, "title": "PR {id}", "state": "OPEN", "comment_count": 2,
               "author": {{"display_name": "Ann"}}, "reviewers": [{{"display_name": "Bob"}}], "draft": {draft},
               "participants": [
                 {{"type": "participant", "role": "REVIEWER", "approved": true, "state": "approved", "user": {{"display_name": "Bob"}}}},
                 {{"type": "participant", "role": "REVIEWER", "approved": false, "state": "changes_requested", "user": {{"display_name": "Cy"}}}},
                 {{"type": "participant", "role": "REVIEWER", "approved": false, "state": null, "user": {{"display_name": "Di"}}}},
                 {{"type": "participant", "role": "PARTICIPANT", "approved": true, "user": {{"nickname": "eve"}}}}],
               "source": {{"branch": {{"name": "{source}"}}}}, "destination": {{"branch": {{"name": "main"}}}},
               "links": {{"html": {{"href": "https://bitbucket.org/acme/widgets/pull-requests/{id}"}}}}}}"#
        )
    }

    #[test]
    fn asks_for_reviewers_and_states_in_one_request() {
        let body = format!(
            r#"{{"pagelen": 50, "page": 1, "size": 2, "values": [{}, {}]}}"#,
            pr(1, "feature/a"),
            pr(2, "fix")
        );
        let t = Scripted::default().route("/repositories/acme/widgets/pullrequests", 200, &body);
        let c = config();
        let out = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            Some(vec!["open".into(), "MERGED".into()]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(out.pull_requests.len(), 2);
        assert_eq!(out.pull_requests[0].reviewers, ["Bob"]);
        // Review states come from the participants of the same answer (no request per PR);
        // a participant with only `approved: true` (older answers) counts as approved.
        assert_eq!(out.pull_requests[0].approved_by, ["Bob", "eve"]);
        assert_eq!(out.pull_requests[0].changes_requested_by, ["Cy"]);
        assert_eq!(
            (out.pull_requests[0].draft, out.pull_requests[1].draft),
            (false, true)
        );
        assert_eq!(out.pull_requests[0].source_branch, "feature/a");
        let sent = t.sent();
        assert_eq!(sent.len(), 1);
        assert!(
            sent[0].contains("state=OPEN&state=MERGED&fields=next%2Cvalues.id%2C")
                && sent[0].contains("values.participants.state")
                && sent[0].contains("values.draft"),
            "{}",
            sent[0]
        );
        assert!(sent[0].contains("pagelen=30"));
    }

    #[test]
    fn limits_over_50_fetch_two_pages_at_once() {
        let t = Scripted::default().route(
            "/repositories/acme/widgets/pullrequests",
            200,
            &format!(r#"{{"values": [{}], "next": "x?page=2"}}"#, pr(1, "a")),
        );
        let c = config();
        run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            None,
            Some(80),
            None,
        )
        .unwrap();
        let sent = t.sent();
        assert!(
            sent[0].contains("pagelen=50&page=1") && sent[1].contains("pagelen=50&page=2"),
            "{sent:?}"
        );
    }

    #[test]
    fn branch_scope_hides_pull_requests() {
        let body = format!(
            r#"{{"values": [{}, {}]}}"#,
            pr(1, "feature/a"),
            pr(2, "release/1")
        );
        let t = Scripted::default().route("/repositories/acme/widgets/pullrequests", 200, &body);
        let c = config_with(&[("BITBUCKET_BRANCH_REGEX", "main|release/.*")]);
        let out = run(&Ctx::new(&c, &t), Some("widgets".into()), None, None, None).unwrap();
        let ids: Vec<_> = out.pull_requests.iter().map(|p| p.id).collect();
        assert_eq!(ids, [2]);
    }

    #[test]
    fn unknown_state_is_invalid_input() {
        let t = Scripted::default();
        let c = config();
        let e = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            Some(vec!["CLOSED".into()]),
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(t.sent().is_empty());
    }
}
