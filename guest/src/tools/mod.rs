//! The tools, one module each, and what they share: the call context, revision
//! resolution and paging over Bitbucket's numbered pages.

pub mod browse_repository;
pub mod diff;
pub mod get_commit;
pub mod get_pipeline;
pub mod get_pull_request;
pub mod list_branches;
pub mod list_commits;
pub mod list_pipelines;
pub mod list_pull_requests;
pub mod list_repositories;
pub mod read_file;
pub mod search_code;

use crate::api::{Branch, Page, Repository};
use crate::bindings::ToolError;
use crate::client::{ApiGet, Client, decode_json};
use crate::config::Config;
use crate::cursor::Cursor;
use crate::encoding::percent_encode;
use crate::error::{Endpoint, ToolResult};
use crate::next_link;
use crate::scope::RepoRef;
use crate::transport::HttpResponse;
use crate::transport::Transport;
use crate::validate;
use serde::de::DeserializeOwned;

/// Everything one tool call works with.
pub struct Ctx<'a> {
    /// The Bitbucket client.
    pub client: Client<'a>,
}

impl<'a> Ctx<'a> {
    /// A context for one call.
    pub fn new(config: &'a Config, transport: &'a dyn Transport) -> Self {
        Ctx {
            client: Client::new(config, transport),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        self.client.config()
    }

    /// Resolves and scope-checks a `repo` argument.
    pub fn repo(&self, argument: Option<&str>) -> ToolResult<RepoRef> {
        self.config().scope.repo(argument)
    }

    /// The branch a call names: the argument, else the configured default branch. `None`
    /// means the repository's main branch.
    pub fn requested_branch(&self, branch: Option<&str>) -> Option<String> {
        branch
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(str::to_owned)
            .or_else(|| self.config().default_branch.clone())
    }

    /// The branch, tag or commit a call reads at: the argument, else the configured default
    /// branch, else the repository's main branch. Scope-checked before anything is sent for it.
    ///
    /// With a branch pattern configured, a name must match it and be a real branch (so a tag
    /// or hash named like an allowed branch cannot slip through), and reads happen at that
    /// branch's head commit; a commit hash is readable only when an allowed branch contains it.
    pub fn revision(&self, repo: &RepoRef, branch: Option<&str>) -> ToolResult<Revision> {
        let name = match self.requested_branch(branch) {
            Some(name) => name,
            None => self.main_branch(repo)?,
        };
        validate::branch_name(&name)?;
        let scope = &self.config().scope;
        if scope.branch_regex.is_none() {
            if !name.contains('/') {
                return Ok(Revision {
                    rev: name.clone(),
                    name,
                });
            }
            // `/src/{commit}` and `/commit/{rev}` cannot take a name with `/` (REFERENCE §9):
            // resolve it to its commit first, as a branch or else as a tag (`release/1.0`).
            return match self.branch_head(repo, &name) {
                Err(e) if e.kind == crate::bindings::ErrorKind::NotFound => {
                    self.tag_target(repo, &name)
                }
                other => other,
            };
        }
        if scope.branch_allowed(&name) {
            return self.branch_head(repo, &name);
        }
        if validate::is_commit_hash(&name) {
            self.check_commit_in_scope(repo, &name)?;
            return Ok(Revision {
                rev: name.clone(),
                name,
            });
        }
        scope.check_branch(&name)?;
        unreachable!("check_branch refuses a name the pattern does not allow")
    }

    /// A branch and its head commit; `not_found` when no branch has that name.
    fn branch_head(&self, repo: &RepoRef, name: &str) -> ToolResult<Revision> {
        let branch: Branch = self.client.get_json(ApiGet::new(
            repo_path(repo, &format!("/refs/branches/{}", percent_encode(name))),
            Endpoint::Revision {
                what: format!("branch `{name}` of {}", repo.full_name()),
            },
        ))?;
        // The answer must be about the branch asked for (not a tag, not another ref that a
        // lenient lookup resolved the name to).
        if branch.name != name {
            return Err(ToolError::upstream(format!(
                "Bitbucket answered the lookup of branch `{}` with another ref; nothing was read at it.",
                validate::shorten(name)
            )));
        }
        let hash = branch
            .target
            .map(|t| t.hash)
            .filter(|h| validate::is_commit_hash(h))
            .ok_or_else(|| {
                ToolError::upstream(format!(
                    "Bitbucket returned branch `{name}` without its head commit."
                ))
            })?;
        Ok(Revision {
            name: name.to_owned(),
            rev: hash,
        })
    }

    /// A tag and the commit it points at; `not_found` naming both lookups when there is none.
    fn tag_target(&self, repo: &RepoRef, name: &str) -> ToolResult<Revision> {
        let tag: Branch = self.client.get_json(ApiGet::new(
            repo_path(repo, &format!("/refs/tags/{}", percent_encode(name))),
            Endpoint::Revision {
                what: format!("branch or tag `{name}` of {}", repo.full_name()),
            },
        ))?;
        let hash = tag
            .target
            .map(|t| t.hash)
            .filter(|h| validate::is_commit_hash(h))
            .ok_or_else(|| {
                ToolError::upstream(format!(
                    "Bitbucket returned tag `{name}` without the commit it points at."
                ))
            })?;
        Ok(Revision {
            name: name.to_owned(),
            rev: hash,
        })
    }

    /// Under a branch pattern, a commit is in scope when an allowed branch contains it:
    /// `git log <hash> ^<head>...` over the allowed branches' head commits (the `/commits`
    /// include/exclude parameters) is empty. Heads are excluded by hash, not by name: git
    /// resolves a name to `refs/tags/NAME` before `refs/heads/NAME`, so a tag named like an
    /// allowed branch could stand in for it. A hash on a hidden branch and a hash that does
    /// not exist get the same answer, so the answer tells nothing about hidden commits.
    pub fn check_commit_in_scope(&self, repo: &RepoRef, hash: &str) -> ToolResult<()> {
        let scope = &self.config().scope;
        if scope.branch_regex.is_none() {
            return Ok(());
        }
        let heads = self.allowed_heads(repo)?;
        let outside = || {
            ToolError::out_of_scope(format!(
                "Commit `{hash}` is not on an allowed branch of {}: it is outside this \
                 connection's scope, or does not exist. Use list_commits on an allowed branch \
                 to find commits in scope.",
                repo.full_name()
            ))
        };
        if heads.is_empty() {
            return Err(outside());
        }
        let mut get = ApiGet::new(
            repo_path(repo, "/commits"),
            Endpoint::Revision {
                what: format!("commit `{hash}` in {}", repo.full_name()),
            },
        )
        .param("include", hash);
        for head in &heads {
            get = get.param("exclude", head);
        }
        let answer: ToolResult<Page<crate::api::Commit>> = self
            .client
            .get_json(get.param("pagelen", 1).param("fields", "values.hash"));
        match answer {
            Ok(reachable_elsewhere) if reachable_elsewhere.values.is_empty() => Ok(()),
            Ok(_) => Err(outside()),
            // Bitbucket's 404 for an unknown hash: answered like a hidden one.
            Err(e) if e.kind == crate::bindings::ErrorKind::NotFound => Err(outside()),
            Err(e) => Err(e),
        }
    }

    /// The head commits of the repository's branches that the branch pattern allows
    /// (bounded: a commit on a branch beyond the first pages is treated as out of scope).
    fn allowed_heads(&self, repo: &RepoRef) -> ToolResult<Vec<String>> {
        let scope = &self.config().scope;
        let mut heads = Vec::new();
        let first = ApiGet::new(
            repo_path(repo, "/refs/branches"),
            Endpoint::Repository(format!("branches of {}", repo.full_name())),
        )
        .param("pagelen", 100)
        .param("fields", "values.name,values.target.hash,next");
        let mut position: Vec<(String, String)> = Vec::new();
        for _ in 0..MAX_BRANCH_PAGES {
            let get = first.clone().at_position(&position);
            let page: Page<Branch> = self.client.get_json(get.clone())?;
            heads.extend(
                page.values
                    .into_iter()
                    .filter(|b| scope.branch_allowed(&b.name))
                    .filter_map(|b| b.target.map(|t| t.hash))
                    .filter(|h| validate::is_commit_hash(h)),
            );
            match page.next.as_deref() {
                Some(next) => position = next_link::position_of(next, &get, &self.config().api)?,
                None => break,
            }
        }
        heads.sort();
        heads.dedup();
        heads.truncate(MAX_EXCLUDED_BRANCHES);
        Ok(heads)
    }

    /// The repository's main branch.
    pub fn main_branch(&self, repo: &RepoRef) -> ToolResult<String> {
        let answer = self.client.get(Self::main_branch_request(repo));
        Self::main_branch_of(repo, answer)
    }

    fn main_branch_request(repo: &RepoRef) -> ApiGet {
        ApiGet::new(
            repo_path(repo, ""),
            Endpoint::Repository(format!("repository {}", repo.full_name())),
        )
        .param("fields", "mainbranch.name,full_name")
    }

    fn main_branch_of(repo: &RepoRef, answer: ToolResult<HttpResponse>) -> ToolResult<String> {
        let repository: Repository = decode_json(&answer?)?;
        repository
            .mainbranch
            .map(|b| b.name)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                ToolError::new(
                    crate::bindings::ErrorKind::NotFound,
                    format!(
                        "Repository {} is empty: it has no main branch yet.",
                        repo.full_name()
                    ),
                )
            })
    }

    /// Sends the requests `at(rev)` builds for the revision a call reads at, and returns the
    /// revision with the answers. When the call names no branch and nothing constrains the
    /// main branch, the requests go to `HEAD` (the main branch, REFERENCE §9) at the same
    /// time as the main branch's name is looked up: one round trip instead of two.
    pub fn at_revision(
        &self,
        repo: &RepoRef,
        branch: Option<&str>,
        at: impl Fn(&str) -> Vec<ApiGet>,
    ) -> ToolResult<(Revision, Vec<ToolResult<HttpResponse>>)> {
        let named =
            self.requested_branch(branch).is_some() || self.config().scope.branch_regex.is_some();
        if named {
            let revision = self.revision(repo, branch)?;
            let answers = self.client.get_all(&at(&revision.rev));
            return Ok((revision, answers));
        }
        let mut requests = vec![Self::main_branch_request(repo)];
        requests.extend(at("HEAD"));
        let mut answers = self.client.get_all(&requests);
        let name = Self::main_branch_of(repo, answers.remove(0))?;
        Ok((
            Revision {
                name,
                rev: "HEAD".into(),
            },
            answers,
        ))
    }
}

/// A resolved place to read at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    /// What the user named (or the default), reported back as `ref`.
    pub name: String,
    /// What goes into a URL path segment: the name, or the head commit of a name with `/`.
    pub rev: String,
}

/// `/repositories/{workspace}/{slug}` + `rest` (already encoded).
pub fn repo_path(repo: &RepoRef, rest: &str) -> String {
    format!(
        "/repositories/{}/{}{rest}",
        percent_encode(&repo.workspace),
        percent_encode(&repo.slug)
    )
}

/// The cursor for the page after an answer to `sent` whose `next` link is opaque (iterator
/// listings, directory listings): `None` on the last page, an error when `next` does not
/// continue the listing (never a silently shortened one).
pub fn iterator_cursor(
    client: &Client,
    next: Option<&str>,
    sent: &ApiGet,
    tool: &str,
    scope: &str,
) -> ToolResult<Option<String>> {
    let Some(next) = next else {
        return Ok(None);
    };
    let position = next_link::position_of(next, sent, &client.config().api)?;
    Ok(Some(
        Cursor {
            tool: tool.into(),
            scope: scope.into(),
            page: String::new(),
            position,
            skip: 0,
            pagelen: 0,
        }
        .encode(),
    ))
}

/// Where a `page` argument of an opaque listing starts: the position parameters to send
/// (empty for the first page). A cursor of the old form (a bare token) means `page=<token>`.
pub fn iterator_position(
    page: Option<&str>,
    tool: &str,
    scope: &str,
) -> ToolResult<Vec<(String, String)>> {
    let Some(page) = page else {
        return Ok(Vec::new());
    };
    let cursor = Cursor::decode(page, tool, scope)?;
    Ok(if cursor.position.is_empty() {
        vec![("page".to_owned(), cursor.page)]
    } else {
        cursor.position
    })
}

/// Paging over list-style endpoints with numbered pages (`page=N`): fetches as many pages as
/// `limit` needs concurrently, keeps the items `keep` accepts, and pages on (boundedly) while
/// too few were kept.
pub struct NumberedListing<'c, F> {
    /// The tool name, for cursors.
    pub tool: &'c str,
    /// The repository or workspace the listing belongs to, for cursors.
    pub scope: String,
    /// The largest page size the endpoint allows.
    pub max_pagelen: u32,
    /// Builds the request for page `page` of size `pagelen`.
    pub request: F,
}

/// At most this many pages of branches are read to find the allowed ones.
const MAX_BRANCH_PAGES: usize = 5;
/// At most this many allowed branches are used in a reachability check (URL length).
const MAX_EXCLUDED_BRANCHES: usize = 50;

/// At most this many pages are fetched at once.
pub const MAX_CONCURRENT_PAGES: u32 = 4;
/// At most this many pages are read by one call while filtering.
pub const MAX_PAGES_PER_CALL: u32 = 12;

impl<F: Fn(u32, u32) -> ApiGet> NumberedListing<'_, F> {
    /// Returns up to `limit` kept items and the cursor of what follows.
    pub fn collect<T: DeserializeOwned>(
        &self,
        client: &Client,
        page: Option<&str>,
        limit: u32,
        keep: impl Fn(&T) -> bool,
    ) -> ToolResult<(Vec<T>, Option<String>)> {
        let (mut page, mut skip, pagelen) = match page {
            None => (1, 0, limit.min(self.max_pagelen)),
            Some(text) => {
                let cursor = Cursor::decode(text, self.tool, &self.scope)?;
                let pagelen = if cursor.pagelen == 0 {
                    limit.min(self.max_pagelen)
                } else {
                    cursor.pagelen
                };
                (
                    cursor.page_number()?,
                    cursor.skip,
                    pagelen.min(self.max_pagelen),
                )
            }
        };
        let mut kept = Vec::new();
        let mut pages_read = 0;
        loop {
            let wanted = limit as usize - kept.len();
            let batch = ((skip as usize + wanted).div_ceil(pagelen as usize) as u32)
                .clamp(1, MAX_CONCURRENT_PAGES)
                .min(MAX_PAGES_PER_CALL - pages_read);
            let requests: Vec<ApiGet> = (page..page + batch)
                .map(|p| (self.request)(p, pagelen))
                .collect();
            let answers = client.get_all(&requests);
            pages_read += batch;
            for answer in answers {
                let listing: Page<T> = decode_json(&answer?)?;
                let count = listing.values.len() as u32;
                for (index, item) in listing.values.into_iter().enumerate().skip(skip as usize) {
                    if kept.len() == limit as usize {
                        return Ok((kept, Some(self.cursor(page, index as u32, pagelen))));
                    }
                    if keep(&item) {
                        kept.push(item);
                    }
                }
                skip = 0;
                if listing.next.is_none() || count == 0 {
                    return Ok((kept, None));
                }
                page += 1;
                if kept.len() == limit as usize {
                    return Ok((kept, Some(self.cursor(page, 0, pagelen))));
                }
            }
            if pages_read >= MAX_PAGES_PER_CALL {
                // Bounded work per call: hand back what was found and where to go on.
                return Ok((kept, Some(self.cursor(page, 0, pagelen))));
            }
        }
    }

    fn cursor(&self, page: u32, skip: u32, pagelen: u32) -> String {
        Cursor {
            tool: self.tool.into(),
            scope: self.scope.clone(),
            page: page.to_string(),
            position: Vec::new(),
            skip,
            pagelen,
        }
        .encode()
    }
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ErrorKind;
    use testing::{Scripted, config_with};

    #[test]
    fn under_a_branch_pattern_names_must_be_real_allowed_branches() {
        let c = config_with(&[("BITBUCKET_BRANCH_REGEX", "main|release/.*")]);
        let repo = c.scope.repo(Some("widgets")).unwrap();
        let t = Scripted::default().route(
            "/repositories/acme/widgets/refs/branches/main",
            200,
            r#"{"name": "main", "target": {"hash": "0123456789abcdef0123456789abcdef01234567"}}"#,
        );
        let ctx = Ctx::new(&c, &t);
        let main = ctx.revision(&repo, Some("main")).unwrap();
        assert_eq!(main.rev, "0123456789abcdef0123456789abcdef01234567");
        // A tag or anything else named like an allowed branch is not a branch: 404 from refs/branches.
        assert_eq!(
            ctx.revision(&repo, Some("release/v9")).unwrap_err().kind,
            ErrorKind::NotFound
        );
        // A disallowed name is refused before any request about it.
        let before = t.sent().len();
        assert_eq!(
            ctx.revision(&repo, Some("develop")).unwrap_err().kind,
            ErrorKind::OutOfScope
        );
        assert_eq!(t.sent().len(), before);
    }

    #[test]
    fn a_slash_name_that_is_no_branch_is_resolved_as_a_tag() {
        let c = config_with(&[]);
        let repo = c.scope.repo(Some("widgets")).unwrap();
        let t = Scripted::default()
            .route(
                "/repositories/acme/widgets/refs/branches/release%2F1.0",
                404,
                r#"{"type": "error", "error": {"message": "Branch not found"}}"#,
            )
            .route(
                "/repositories/acme/widgets/refs/tags/release%2F1.0",
                200,
                r#"{"name": "release/1.0", "type": "tag", "target": {"hash": "0123456789abcdef0123456789abcdef01234567"}}"#,
            );
        let ctx = Ctx::new(&c, &t);
        let rev = ctx.revision(&repo, Some("release/1.0")).unwrap();
        assert_eq!(rev.rev, "0123456789abcdef0123456789abcdef01234567");
        assert_eq!(rev.name, "release/1.0");
        let missing = Scripted::default().route(
            "/repositories/acme/widgets/refs/",
            404,
            r#"{"type": "error", "error": {"message": "Not found"}}"#,
        );
        let e = Ctx::new(&c, &missing)
            .revision(&repo, Some("no/such"))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(
            e.message.contains("branch or tag `no/such`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn without_a_pattern_plain_names_need_no_request() {
        let c = config_with(&[]);
        let repo = c.scope.repo(Some("widgets")).unwrap();
        let t = Scripted::default();
        let ctx = Ctx::new(&c, &t);
        assert_eq!(ctx.revision(&repo, Some("develop")).unwrap().rev, "develop");
        assert!(t.sent().is_empty());
        let d = config_with(&[("BITBUCKET_DEFAULT_BRANCH", "develop")]);
        assert_eq!(
            Ctx::new(&d, &t).revision(&repo, None).unwrap().name,
            "develop"
        );
    }
}
