//! `GET /repositories/{workspace}` and `GET /repositories/{workspace}/{repo_slug}`.

use super::Ctx;
use crate::http::Reply;
use crate::model::Repository;
use crate::paging::Limits;

/// The repository list's paging limits.
pub const LIMITS: Limits = Limits::new(10, 100);

/// Lists the repositories the viewer can see (default order: creation).
pub fn list(ctx: &Ctx, ws: &str) -> Reply {
    if !ctx.ws.is(ws) {
        return Reply::error(404, &format!("No workspace with identifier '{ws}'."));
    }
    let items = ctx
        .ws
        .repositories
        .iter()
        .filter(|r| ctx.viewer.can_see(r))
        .map(|r| ctx.links.repository(ctx.ws, r))
        .collect();
    ctx.list(items, LIMITS, &[], true)
}

/// One repository.
pub fn get(ctx: &Ctx, repo: &Repository) -> Reply {
    ctx.ok(&ctx.links.repository(ctx.ws, repo), &[])
}
