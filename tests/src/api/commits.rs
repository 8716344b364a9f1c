//! Commits, one commit, diffstat, and refs (branches and tags).

use super::{Ctx, no_api};
use crate::http::Reply;
use crate::json;
use crate::model::{Commit, DiffEntry, Repository};
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

/// `GET …/commit/{revision}/statuses[?refname=X]`: statuses created without a refname or
/// with `refname` (all of them when it is absent).
pub fn statuses(ctx: &Ctx, repo: &Repository, rev: &str) -> Reply {
    let Some(c) = repo.resolve(rev) else {
        return Reply::json(404, &json::commit_not_found(rev));
    };
    let refname = ctx.req.query.get("refname");
    let items = repo
        .statuses
        .iter()
        .filter(|s| s.commit == c.hash)
        .filter(|s| refname.is_none_or(|want| s.refname.as_deref().is_none_or(|r| r == want)))
        .map(|s| ctx.links.build_status(ctx.ws, repo, s))
        .collect();
    ctx.list(items, super::pulls::STATUS_LIMITS, &[], true)
}

/// `GET …/commit/{revision}`.
pub fn get(ctx: &Ctx, repo: &Repository, rev: &str) -> Reply {
    match repo.resolve(rev) {
        Some(c) => ctx.ok(&ctx.links.commit(ctx.ws, repo, c, true), &[]),
        None => Reply::json(404, &json::commit_not_found(rev)),
    }
}

/// The two sides of a pull request spec `{src_ws}/{src_repo}:{src}\r{dst}` (REFERENCE-REVIEW
/// §2a; `%0D` decoded): the source commit, and the destination commit or, with `topic`
/// (the default), their merge base. `None` when `spec` is not of that form.
fn pull_request_sides<'r>(
    ctx: &Ctx,
    repo: &'r Repository,
    spec: &str,
) -> Option<Result<(&'r Commit, &'r Commit), Reply>> {
    let (source_repo, revs) = spec.split_once(':')?;
    let (src, dst) = revs.split_once('\r')?;
    let known_repo = source_repo
        .split_once('/')
        .is_some_and(|(ws, slug)| ctx.ws.is(ws) && slug == repo.slug);
    if !known_repo {
        return Some(Err(Reply::json(404, &json::commit_not_found(spec))));
    }
    let (Some(new), Some(dest)) = (repo.resolve(src), repo.resolve(dst)) else {
        let bad = if repo.resolve(src).is_none() {
            src
        } else {
            dst
        };
        return Some(Err(Reply::json(404, &json::commit_not_found(bad))));
    };
    let topic = ctx.req.query.get("topic") != Some("false");
    let base = if topic {
        repo.merge_base(new, dest).unwrap_or(dest)
    } else {
        dest
    };
    Some(Ok((new, base)))
}

/// `GET …/diff/{spec}`: the raw unified diff of one commit against its first parent, of
/// `new..base`, or of a pull request spec; `text/plain` whatever `Accept` says; `path`
/// (repeatable) keeps only those files, `context` sets the context lines (default 3).
pub fn diff(ctx: &Ctx, repo: &Repository, spec: &str) -> Reply {
    let (old_tree, new_tree, entries) = match pull_request_sides(ctx, repo, spec) {
        Some(Err(r)) => return r,
        Some(Ok((new, base))) => (
            base.tree.clone(),
            new.tree.clone(),
            repo.diff_between(new, base),
        ),
        None => match spec.split_once("..") {
            Some((new, base)) => {
                let (Some(n), Some(b)) = (repo.resolve(new), repo.resolve(base)) else {
                    return Reply::json(404, &json::commit_not_found(spec));
                };
                (b.tree.clone(), n.tree.clone(), repo.diff_between(n, b))
            }
            None => {
                let Some(c) = repo.resolve(spec) else {
                    return Reply::json(404, &json::commit_not_found(spec));
                };
                let parent = c.parents.first().and_then(|p| repo.commit(p));
                let old = parent.map(|p| p.tree.clone()).unwrap_or_default();
                (old, c.tree.clone(), c.diffstat.clone())
            }
        },
    };
    let context = match ctx.req.query.get("context").map(str::parse::<usize>) {
        None => 3,
        Some(Ok(n)) => n,
        Some(Err(_)) => return Reply::error(400, "Invalid context"),
    };
    let entries: Vec<DiffEntry> = entries
        .into_iter()
        .filter(|d| path_selected(ctx, d))
        .collect();
    Reply::bytes(
        200,
        "text/plain",
        crate::diff::unified(&old_tree, &new_tree, &entries, context),
    )
}

/// Whether the repeatable `path` parameter keeps diff entry `d` (a file, or a directory
/// and everything under it).
fn path_selected(ctx: &Ctx, d: &DiffEntry) -> bool {
    let paths = ctx.req.query.get_all("path");
    paths.is_empty()
        || paths.iter().any(|p| {
            let p = p.trim_matches('/');
            let hit = |x: &Option<String>| {
                x.as_deref()
                    .is_some_and(|x| x == p || x.starts_with(&format!("{p}/")))
            };
            hit(&d.old_path) || hit(&d.new_path)
        })
}

/// `GET …/diffstat/{spec}`: one commit against its first parent, `new..base`, or a pull
/// request spec.
pub fn diffstat(ctx: &Ctx, repo: &Repository, spec: &str) -> Reply {
    if let Some(sides) = pull_request_sides(ctx, repo, spec) {
        let (new, base) = match sides {
            Ok(sides) => sides,
            Err(r) => return r,
        };
        let items = repo
            .diff_between(new, base)
            .iter()
            .filter(|d| path_selected(ctx, d))
            .map(|d| ctx.links.diffstat(ctx.ws, repo, d, &base.hash, &new.hash))
            .collect();
        return ctx.list(items, DIFFSTAT_LIMITS, &[], false);
    }
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
    let items = entries
        .iter()
        .filter(|d| path_selected(ctx, d))
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
    if kind == "branch" {
        // Branch pages carry an opaque token today (REFERENCE-REVIEW §5a, §7.10).
        return ctx.token_list(
            items,
            REF_LIMITS,
            &format!("branches|{}|{}", ctx.ws.slug, repo.slug),
        );
    }
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
