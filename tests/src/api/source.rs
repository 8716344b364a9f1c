//! `GET …/src`, `…/src/{commit}/{path}`: directory listings, raw files and `format=meta`.

use super::Ctx;
use crate::http::Reply;
use crate::json;
use crate::model::{Entry, FileKind, Repository};
use crate::paging::Limits;
use crate::render::raw_content_type;

/// The directory listing's paging limits.
pub const LIMITS: Limits = Limits::new(10, 100);

/// `GET …/src`: 302 to the root listing of the main branch's head.
pub fn redirect_to_main(ctx: &Ctx, repo: &Repository) -> Reply {
    match repo.main_head() {
        Some(c) => Reply::redirect(
            302,
            &format!(
                "{}/repositories/{}/{}/src/{}/",
                ctx.links.api, ctx.ws.slug, repo.slug, c.hash
            ),
        ),
        None => Reply::json(404, &json::commit_not_found("HEAD")),
    }
}

/// `GET …/src/{commit}/{path}`; `path` is what follows the commit segment (empty or
/// ending in `/` for a directory).
pub fn src(ctx: &Ctx, repo: &Repository, rev: &str, path: &str) -> Reply {
    let Some(commit) = repo.resolve(rev) else {
        return Reply::json(404, &json::commit_not_found(rev));
    };
    let clean = path.trim_end_matches('/');
    let wants_dir = path.is_empty() || path.ends_with('/');
    let meta = ctx.req.query.get("format") == Some("meta");
    let missing = || Reply::error(404, &format!("No such file or directory: {clean}"));
    match repo.entry(commit, clean) {
        None => missing(),
        Some(Entry::File(_)) if wants_dir => missing(),
        Some(Entry::File(content)) if meta => ctx.ok(
            &ctx.links.file(ctx.ws, repo, &commit.hash, clean, content),
            &[],
        ),
        Some(Entry::File(_)) if repo.special_files.get(clean) == Some(&FileKind::Lfs) => {
            // REFERENCE §10: an LFS file's raw URL answers 301 to Atlassian's media
            // platform. INFERRED: the host and form of the `Location`.
            Reply::redirect(
                301,
                &format!(
                    "https://api.media.atlassian.com/file/{}/binary?client=bitbucket&name={}",
                    crate::ids::uuid(&format!("lfs:{}:{clean}", repo.slug))
                        .trim_matches(|c| c == '{' || c == '}'),
                    crate::http::encode_path(clean.rsplit('/').next().unwrap_or(clean))
                ),
            )
        }
        Some(Entry::File(content)) => {
            let name = clean.rsplit('/').next().unwrap_or(clean);
            Reply::bytes(200, raw_content_type(clean), content.to_vec())
                .with_header(
                    "Content-Disposition",
                    &format!("attachment; filename=\"{name}\""),
                )
                .with_header(
                    "ETag",
                    &format!(
                        "\"{}\"",
                        crate::ids::hex(&String::from_utf8_lossy(content), 32)
                    ),
                )
        }
        Some(Entry::Directory) if meta => {
            ctx.ok(&ctx.links.directory(ctx.ws, repo, &commit.hash, clean), &[])
        }
        Some(Entry::Directory) => {
            let entries = repo.list_dir(commit, clean).unwrap_or_default();
            let items = entries
                .iter()
                .map(|e| {
                    if e.is_dir {
                        ctx.links.directory(ctx.ws, repo, &commit.hash, &e.path)
                    } else {
                        let content = &commit.tree[&e.path];
                        ctx.links.file(ctx.ws, repo, &commit.hash, &e.path, content)
                    }
                })
                .collect();
            ctx.opaque_list(
                items,
                LIMITS,
                &format!("src:{}:{}:{clean}", repo.slug, commit.hash),
            )
        }
    }
}
