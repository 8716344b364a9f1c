//! `GET …/pullrequests` and `GET …/pullrequests/{id}`.

use super::{Ctx, bad_query};
use crate::http::Reply;
use crate::model::{PrState, Repository};
use crate::paging::Limits;
use crate::{bbql, json};
use serde_json::json;

/// The pull request list's paging limits (max 50).
pub const LIMITS: Limits = Limits::new(10, 50);

/// Fields left out of list entries unless asked for with `fields`.
pub const HIDDEN_IN_LIST: &[&str] = &["values.reviewers", "values.participants", "values.rendered"];

/// Lists pull requests. `state` is repeatable; without it only `OPEN` ones are listed,
/// unless `q` itself filters on `state`. Default order: newest (highest id) first.
pub fn list(ctx: &Ctx, repo: &Repository) -> Reply {
    let mut states = Vec::new();
    for s in ctx.req.query.get_all("state") {
        match PrState::parse(&s.to_ascii_uppercase()) {
            Some(st) => states.push(st),
            None => {
                return Reply::json(
                    400,
                    &json!({"type": "error", "error": {"message": "Bad request", "fields": {"state": [format!("Select a valid choice. {s} is not one of the available choices.")]}}}),
                );
            }
        }
    }
    if states.is_empty() {
        let q_mentions_state = match ctx.req.query.get("q").map(bbql::parse) {
            Some(Ok(e)) => bbql::mentions(&e, "state"),
            Some(Err(msg)) => return bad_query(&msg),
            None => false,
        };
        if !q_mentions_state {
            states.push(PrState::Open);
        }
    }
    let mut prs: Vec<_> = repo
        .pull_requests
        .iter()
        .filter(|p| states.is_empty() || states.contains(&p.state))
        .collect();
    prs.sort_by_key(|p| std::cmp::Reverse(p.id));
    let items = prs
        .iter()
        .map(|p| ctx.links.pull_request(ctx.ws, repo, p))
        .collect();
    ctx.list(items, LIMITS, HIDDEN_IN_LIST, true)
}

/// `…/pullrequests/{id}/diff|diffstat|patch`: 302 (also for HEAD) with an empty body to the
/// repository-level endpoint for the pull request's spec, the same URL as the PR's
/// `links.diff`/`links.diffstat` (REFERENCE-REVIEW §2a).
pub fn redirect_to_diff(ctx: &Ctx, repo: &Repository, id: &str, kind: &str) -> Reply {
    match find(repo, id) {
        Some(p) => Reply::redirect(302, &ctx.links.pull_request_diff(ctx.ws, repo, p, kind)),
        None => Reply::json(404, &json::error("Resource not found")),
    }
}

fn find<'r>(repo: &'r Repository, id: &str) -> Option<&'r crate::model::PullRequest> {
    id.parse::<u64>()
        .ok()
        .and_then(|n| repo.pull_requests.iter().find(|p| p.id == n))
}

/// The comment list's paging limits (REFERENCE-REVIEW §3a: default 10; the maximum is not
/// established, 100 is assumed).
pub const COMMENT_LIMITS: Limits = Limits::new(10, 100);
/// The statuses list's paging limits (default and maximum not established).
pub const STATUS_LIMITS: Limits = Limits::new(30, 100);

/// `…/pullrequests/{id}/comments`: every comment, deleted ones included (blanked), oldest
/// first; `q` (e.g. `deleted = false`) and `sort` honoured; opaque page tokens.
pub fn comments(ctx: &Ctx, repo: &Repository, id: &str) -> Reply {
    let Some(pr) = find(repo, id) else {
        return Reply::json(404, &json::error("Resource not found"));
    };
    let items = pr
        .comments
        .iter()
        .map(|c| ctx.links.pr_comment(ctx.ws, repo, pr, c))
        .collect();
    ctx.token_list(
        items,
        COMMENT_LIMITS,
        &format!("comments|{}|{}|{}", ctx.ws.slug, repo.slug, pr.id),
    )
}

/// `…/pullrequests/{id}/statuses`: the statuses of the source commit reported without a
/// refname or for the source branch (inferred, REFERENCE-REVIEW §4).
pub fn statuses(ctx: &Ctx, repo: &Repository, id: &str) -> Reply {
    let Some(pr) = find(repo, id) else {
        return Reply::json(404, &json::error("Resource not found"));
    };
    let items = repo
        .statuses
        .iter()
        .filter(|s| s.commit == pr.source_commit)
        .filter(|s| s.refname.as_deref().is_none_or(|r| r == pr.source_branch))
        .map(|s| ctx.links.build_status(ctx.ws, repo, s))
        .collect();
    ctx.list(items, STATUS_LIMITS, &[], true)
}

/// One pull request, with reviewers and participants.
pub fn get(ctx: &Ctx, repo: &Repository, id: &str) -> Reply {
    let pr = id
        .parse::<u64>()
        .ok()
        .and_then(|n| repo.pull_requests.iter().find(|p| p.id == n));
    match pr {
        Some(p) => ctx.ok(&ctx.links.pull_request(ctx.ws, repo, p), &[]),
        None if id.parse::<u64>().is_err() => super::no_api(),
        None => Reply::json(404, &json::error("Resource not found")),
    }
}
