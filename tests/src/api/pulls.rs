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
