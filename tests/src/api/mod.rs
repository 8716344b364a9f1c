//! The routes of the fake API: authentication, dispatch by path, and shared helpers for
//! answering lists with `q`, `sort`, paging and `fields`.

mod commits;
mod pipelines;
mod pulls;
mod repos;
mod search;
mod source;

use crate::auth::Viewer;
use crate::faults::SearchMode;
use crate::http::{ApiRequest, Reply};
use crate::model::{Repository, Workspace};
use crate::paging::{self, Limits, PageNumbers};
use crate::render::Links;
use crate::{bbql, fields, json};
use serde_json::Value;
use std::collections::HashSet;

/// Everything a route needs to answer one request.
pub struct Ctx<'a> {
    /// The workspace served.
    pub ws: &'a Workspace,
    /// Link roots.
    pub links: &'a Links,
    /// `http://127.0.0.1:PORT`, for `next` links.
    pub origin: &'a str,
    /// The request.
    pub req: &'a ApiRequest,
    /// Who is asking.
    pub viewer: &'a Viewer,
    /// Whether code search answers.
    pub search: SearchMode,
    /// Slugs whose Pipelines were switched off at run time.
    pub pipelines_disabled: &'a HashSet<String>,
    /// `http://127.0.0.1:PORT` of the log storage host.
    pub storage_origin: &'a str,
    /// The parameter that carries the position in opaque `next` links (`page`).
    pub position_param: &'a str,
}

impl Ctx<'_> {
    /// Answers `full` as JSON after applying `fields` (with `hidden` paths left out of the
    /// default view).
    pub fn ok(&self, full: &Value, hidden: &[&str]) -> Reply {
        Reply::json(
            200,
            &fields::apply(full, hidden, self.req.query.get("fields")),
        )
    }

    /// Answers a list-style collection: `q` and `sort` (when `filterable`), then paging,
    /// then `fields`.
    pub fn list(
        &self,
        items: Vec<Value>,
        limits: Limits,
        hidden: &[&str],
        filterable: bool,
    ) -> Reply {
        let checked = if filterable {
            self.filtered_and_sorted(items, limits)
        } else {
            paging::pagelen(self.req, limits).map(|_| items)
        };
        let items = match checked {
            Ok(items) => items,
            Err(r) => return r,
        };
        match paging::list_page(self.origin, self.req, items, limits) {
            Ok(page) => self.ok(&page, hidden),
            Err(r) => r,
        }
    }

    /// `items` after the page-size check, filtered by `q` and ordered by `sort`.
    fn filtered_and_sorted(
        &self,
        mut items: Vec<Value>,
        limits: Limits,
    ) -> Result<Vec<Value>, Reply> {
        paging::pagelen(self.req, limits)?;
        if let Some(q) = self.req.query.get("q") {
            match bbql::parse(q) {
                Ok(e) => items.retain(|v| bbql::eval(&e, v)),
                Err(msg) => return Err(bad_query(&msg)),
            }
        }
        if let Some(s) = self.req.query.get("sort") {
            bbql::sort(&mut items, s);
        }
        Ok(items)
    }

    /// Answers a collection whose `next` links carry an opaque position (directories, tags):
    /// `q` and `sort`, then [`paging::opaque_page`], then `fields`.
    pub fn opaque_list(&self, items: Vec<Value>, limits: Limits, seed: &str) -> Reply {
        let items = match self.filtered_and_sorted(items, limits) {
            Ok(items) => items,
            Err(r) => return r,
        };
        match paging::opaque_page(
            self.origin,
            self.req,
            seed,
            items,
            limits,
            self.position_param,
            PageNumbers::Accepted,
        ) {
            Ok(page) => self.ok(&page, &[]),
            Err(r) => r,
        }
    }

    /// Answers a collection paged by opaque tokens (branches, comments: REFERENCE-REVIEW
    /// §5a, §3a): `q` and `sort`, then a page of `pagelen`, then `fields`. Tokens hold `+`,
    /// `/` and `=` and travel in the server's position parameter; a numeric `page` is not a
    /// token: 400 `Invalid page`. `seed` makes tokens specific to the listing.
    pub fn token_list(&self, items: Vec<Value>, limits: Limits, seed: &str) -> Reply {
        let items = match self.filtered_and_sorted(items, limits) {
            Ok(items) => items,
            Err(r) => return r,
        };
        let seed = format!(
            "{seed}|{:?}|{:?}",
            self.req.query.get("q"),
            self.req.query.get("sort")
        );
        match paging::opaque_page(
            self.origin,
            self.req,
            &seed,
            items,
            limits,
            self.position_param,
            PageNumbers::Refused,
        ) {
            Ok(page) => self.ok(&page, &[]),
            Err(r) => r,
        }
    }
}

/// 400 for a `q` that does not parse.
pub fn bad_query(msg: &str) -> Reply {
    Reply::json(
        400,
        &json::error_with_detail("Invalid query", Value::String(msg.to_string())),
    )
}

/// 404 "Resource not found": no API is hosted at this URL.
pub fn no_api() -> Reply {
    Reply::json(404, &json::no_api())
}

/// 404 for a missing or invisible repository.
pub fn repo_not_found() -> Reply {
    Reply::error(404, json::REPOSITORY_NOT_FOUND)
}

/// Answers an authenticated request under `/2.0`; `rest` is the decoded path after `/2.0`.
pub fn route(ctx: &Ctx, rest: &str) -> Reply {
    if ctx.req.method != "GET" && ctx.req.method != "HEAD" {
        return Reply::error(405, "Method not allowed");
    }
    let segs: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        ["repositories", ws] | ["repositories", ws, ""] => repos::list(ctx, ws),
        ["workspaces", ws, "search", "code"] => {
            if !ctx.ws.is(ws) {
                return Reply::error(404, &format!("No workspace with identifier '{ws}'."));
            }
            search::code(ctx)
        }
        ["repositories", ws, slug, tail @ ..] => {
            let repo = match ctx.ws.repository(slug) {
                Some(r) if ctx.ws.is(ws) && ctx.viewer.can_see(r) => r,
                _ => return repo_not_found(),
            };
            repo_route(ctx, repo, tail)
        }
        _ => no_api(),
    }
}

fn repo_route(ctx: &Ctx, repo: &Repository, tail: &[&str]) -> Reply {
    match tail {
        [] | [""] => repos::get(ctx, repo),
        ["src"] | ["src", ""] => source::redirect_to_main(ctx, repo),
        ["src", _commit] => no_api(),
        ["src", commit, path @ ..] => source::src(ctx, repo, commit, &path.join("/")),
        ["refs", "branches"] | ["refs", "branches", ""] => commits::refs(ctx, repo, "branch"),
        ["refs", "branches", name @ ..] => commits::one_ref(ctx, repo, "branch", &name.join("/")),
        ["refs", "tags"] | ["refs", "tags", ""] => commits::refs(ctx, repo, "tag"),
        ["refs", "tags", name @ ..] => commits::one_ref(ctx, repo, "tag", &name.join("/")),
        ["commits"] | ["commits", ""] => commits::list(ctx, repo, None),
        ["commits", rev] => commits::list(ctx, repo, Some(rev)),
        ["commit", rev] => commits::get(ctx, repo, rev),
        ["commit", rev, "statuses"] => commits::statuses(ctx, repo, rev),
        ["commit", rev, ""] => Reply::json(404, &json::commit_not_found(&format!("{rev}/"))),
        ["diffstat", spec @ ..] if !spec.is_empty() && !spec.join("/").is_empty() => {
            commits::diffstat(ctx, repo, &spec.join("/"))
        }
        ["diff", spec @ ..] if !spec.is_empty() && !spec.join("/").is_empty() => {
            commits::diff(ctx, repo, &spec.join("/"))
        }
        ["pullrequests"] | ["pullrequests", ""] => pulls::list(ctx, repo),
        ["pullrequests", id] => pulls::get(ctx, repo, id),
        ["pullrequests", id, kind @ ("diff" | "diffstat" | "patch")] => {
            pulls::redirect_to_diff(ctx, repo, id, kind)
        }
        ["pullrequests", id, "comments"] => pulls::comments(ctx, repo, id),
        ["pullrequests", id, "statuses"] => pulls::statuses(ctx, repo, id),
        ["pipelines"] | ["pipelines", ""] => pipelines::list(ctx, repo),
        ["pipelines", id] => pipelines::get(ctx, repo, id),
        ["pipelines", id, "steps"] | ["pipelines", id, "steps", ""] => {
            pipelines::steps(ctx, repo, id)
        }
        ["pipelines", id, "steps", step] => pipelines::step(ctx, repo, id, step),
        ["pipelines", id, "steps", step, "log"] => {
            pipelines::log(ctx, repo, id, step, ctx.storage_origin)
        }
        _ => no_api(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample;

    fn answer(ws: &Workspace, url: &str) -> Reply {
        let links = Links::new("http://h/2.0");
        let req = ApiRequest::new("GET", url, vec![], vec![]);
        let viewer = Viewer {
            anonymous: false,
            hidden: vec![],
        };
        let disabled = HashSet::new();
        let ctx = Ctx {
            ws,
            links: &links,
            origin: "http://h",
            req: &req,
            viewer: &viewer,
            search: SearchMode::Enabled,
            pipelines_disabled: &disabled,
            storage_origin: "http://127.0.0.1:1",
            position_param: "page",
        };
        route(&ctx, req.path.strip_prefix("/2.0").unwrap())
    }

    fn body(r: &Reply) -> Value {
        match &r.body {
            crate::http::Body::Bytes(b) => serde_json::from_slice(b).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn slash_branch_in_src_commit_segment_is_404() {
        let ws = sample::acme();
        for url in [
            "/2.0/repositories/acme/widgets/src/feature/login/src/auth/login.rs",
            "/2.0/repositories/acme/widgets/src/feature%2Flogin/src/auth/login.rs",
        ] {
            let r = answer(&ws, url);
            assert_eq!(r.status, 404, "{url}");
            assert_eq!(body(&r)["error"]["message"], "Commit not found");
        }
        let hash = &ws
            .repository("widgets")
            .unwrap()
            .resolve("feature/login")
            .unwrap()
            .hash;
        let ok = answer(
            &ws,
            &format!("/2.0/repositories/acme/widgets/src/{hash}/src/auth/login.rs"),
        );
        assert_eq!(ok.status, 200);
        let branch = answer(
            &ws,
            "/2.0/repositories/acme/widgets/refs/branches/feature%2Flogin",
        );
        assert_eq!(body(&branch)["target"]["hash"], hash.as_str());
    }

    #[test]
    fn pagelen_maxima_per_endpoint() {
        let ws = sample::acme();
        let w = "/2.0/repositories/acme/widgets";
        for (url, ok_len, bad_len) in [
            (format!("{w}/pullrequests"), 50, 51),
            (format!("{w}/diffstat/main"), 5000, 5001),
            (format!("{w}/commits"), 100, 101),
            (format!("{w}/src/main/"), 100, 101),
            (format!("{w}/pipelines/"), 100, 101),
            ("/2.0/repositories/acme".to_string(), 100, 101),
            (
                "/2.0/workspaces/acme/search/code?search_query=x".to_string(),
                100,
                101,
            ),
        ] {
            let sep = if url.contains('?') { '&' } else { '?' };
            assert_eq!(
                answer(&ws, &format!("{url}{sep}pagelen={ok_len}")).status,
                200,
                "{url}"
            );
            let bad = answer(&ws, &format!("{url}{sep}pagelen={bad_len}"));
            assert_eq!(bad.status, 400, "{url}");
            assert_eq!(body(&bad)["error"]["message"], "Invalid pagelen");
        }
    }

    #[test]
    fn multi_segment_commit_is_no_api() {
        let ws = sample::acme();
        let r = answer(&ws, "/2.0/repositories/acme/widgets/commit/feature/login");
        assert_eq!(body(&r)["error"]["message"], "Resource not found");
    }
}
