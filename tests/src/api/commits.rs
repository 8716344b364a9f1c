//! Commits, one commit, diffstat, and refs (branches and tags).

use super::{Ctx, no_api};
use crate::http::Reply;
use crate::json;
use crate::model::Repository;
use crate::paging::{self, Limits};

/// The commit list's paging limits (iterator style).
pub const COMMIT_LIMITS: Limits = Limits::new(30, 100);
/// The diffstat's paging limits.
pub const DIFFSTAT_LIMITS: Limits = Limits::new(500, 5000);
/// The refs list's paging limits.
pub const REF_LIMITS: Limits = Limits::new(10, 100);

/// `GET …/commits[/{revision}]?include=…&exclude=…&path=…`.
pub fn list(ctx: &Ctx, repo: &Repository, rev: Option<&str>) -> Reply {
    if let Err(r) = paging::pagelen(ctx.req, COMMIT_LIMITS) {
        return r;
    }
    let mut include: Vec<&str> = ctx.req.query.get_all("include");
    if let Some(r) = rev {
        include.insert(0, r);
    }
    let exclude = ctx.req.query.get_all("exclude");
    let path = ctx.req.query.get("path").filter(|p| !p.is_empty());
    let commits = match repo.log(&include, &exclude, path) {
        Ok(c) => c,
        Err(bad) => return Reply::json(404, &json::commit_not_found(&bad)),
    };
    let items = commits
        .iter()
        .map(|c| ctx.links.commit(ctx.ws, repo, c, false))
        .collect();
    let seed = format!(
        "{}|{}|{:?}|{:?}|{:?}",
        ctx.ws.slug, repo.slug, include, exclude, path
    );
    match paging::iterator_page(ctx.origin, ctx.req, &seed, items, COMMIT_LIMITS) {
        Ok(page) => ctx.ok(&page, &[]),
        Err(r) => r,
    }
}

/// `GET …/commit/{revision}`.
pub fn get(ctx: &Ctx, repo: &Repository, rev: &str) -> Reply {
    match repo.resolve(rev) {
        Some(c) => ctx.ok(&ctx.links.commit(ctx.ws, repo, c, true), &[]),
        None => Reply::json(404, &json::commit_not_found(rev)),
    }
}

/// `GET …/diffstat/{spec}`: one commit against its first parent, or `new..base`.
pub fn diffstat(ctx: &Ctx, repo: &Repository, spec: &str) -> Reply {
    let (entries, old_hash, new_hash) = match spec.split_once("..") {
        Some((new, base)) => {
            let (Some(n), Some(b)) = (repo.resolve(new), repo.resolve(base)) else {
                let bad = if repo.resolve(new).is_none() {
                    new
                } else {
                    base
                };
                return Reply::json(404, &json::commit_not_found(bad));
            };
            (repo.diff_between(n, b), b.hash.clone(), n.hash.clone())
        }
        None => {
            let Some(c) = repo.resolve(spec) else {
                return Reply::json(404, &json::commit_not_found(spec));
            };
            let base = c.parents.first().cloned().unwrap_or_default();
            (c.diffstat.clone(), base, c.hash.clone())
        }
    };
    let paths = ctx.req.query.get_all("path");
    let items = entries
        .iter()
        .filter(|d| {
            paths.is_empty()
                || paths.iter().any(|p| {
                    let p = p.trim_matches('/');
                    let hit = |x: &Option<String>| {
                        x.as_deref()
                            .is_some_and(|x| x == p || x.starts_with(&format!("{p}/")))
                    };
                    hit(&d.old_path) || hit(&d.new_path)
                })
        })
        .map(|d| ctx.links.diffstat(ctx.ws, repo, d, &old_hash, &new_hash))
        .collect();
    ctx.list(items, DIFFSTAT_LIMITS, &[], false)
}

/// `GET …/refs/branches` or `…/refs/tags`.
pub fn refs(ctx: &Ctx, repo: &Repository, kind: &str) -> Reply {
    let list = if kind == "branch" {
        &repo.branches
    } else {
        &repo.tags
    };
    let items = list
        .iter()
        .map(|r| ctx.links.git_ref(ctx.ws, repo, r, kind))
        .collect();
    ctx.list(items, REF_LIMITS, &[], true)
}

/// `GET …/refs/branches/{name}` (the name may contain `/`, raw or as `%2F`).
pub fn one_ref(ctx: &Ctx, repo: &Repository, kind: &str, name: &str) -> Reply {
    if name.is_empty() {
        return no_api();
    }
    let found = if kind == "branch" {
        repo.branch(name)
    } else {
        repo.tag(name)
    };
    match found {
        Some(r) => ctx.ok(&ctx.links.git_ref(ctx.ws, repo, r, kind), &[]),
        None => Reply::error(
            404,
            &format!(
                "{} not found",
                if kind == "branch" { "Branch" } else { "Tag" }
            ),
        ),
    }
}
