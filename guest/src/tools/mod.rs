//! The eight tools, one module each, and what they share: the call context, revision
//! resolution and paging over Bitbucket's numbered pages.

pub mod browse_repository;
pub mod get_commit;
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
use crate::encoding::{percent_encode, query_param};
use crate::error::{Endpoint, ToolResult};
use crate::scope::RepoRef;
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

    /// The branch, tag or commit a call reads at: the argument, else the configured default
    /// branch, else the repository's main branch. Scope-checked before anything is sent for it.
    pub fn revision(&self, repo: &RepoRef, branch: Option<&str>) -> ToolResult<Revision> {
        let requested = branch
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(str::to_owned)
            .or_else(|| self.config().default_branch.clone());
        let name = match requested {
            Some(name) => name,
            None => self.main_branch(repo)?,
        };
        self.config().scope.check_branch(&name)?;
        if !name.contains('/') {
            return Ok(Revision {
                rev: name.clone(),
                name,
            });
        }
        // `/src/{commit}` and `/commit/{rev}` cannot take a name with `/` (REFERENCE §9):
        // resolve it to its head commit first.
        let branch: Branch = self.client.get_json(ApiGet::new(
            repo_path(repo, &format!("/refs/branches/{}", percent_encode(&name))),
            Endpoint::Revision {
                what: format!("branch `{name}` of {}", repo.full_name()),
            },
        ))?;
        let hash = branch
            .target
            .map(|t| t.hash)
            .filter(|h| validate::is_commit_hash(h))
            .ok_or_else(|| {
                ToolError::upstream(format!(
                    "Bitbucket returned branch `{name}` without its head commit."
                ))
            })?;
        Ok(Revision { name, rev: hash })
    }

    /// The repository's main branch.
    pub fn main_branch(&self, repo: &RepoRef) -> ToolResult<String> {
        let repository: Repository = self.client.get_json(
            ApiGet::new(
                repo_path(repo, ""),
                Endpoint::Repository(format!("repository {}", repo.full_name())),
            )
            .param("fields", "mainbranch.name,full_name"),
        )?;
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

/// The cursor for the page after an iterator-style answer (`next` holds an opaque token).
pub fn iterator_cursor(next: Option<&str>, tool: &str, scope: &str) -> Option<String> {
    let token = query_param(next?, "page")?;
    Some(
        Cursor {
            tool: tool.into(),
            scope: scope.into(),
            page: token,
            skip: 0,
            pagelen: 0,
        }
        .encode(),
    )
}

/// The page token of a `page` argument for an iterator-style listing.
pub fn iterator_token(page: Option<&str>, tool: &str, scope: &str) -> ToolResult<Option<String>> {
    page.map(|p| Cursor::decode(p, tool, scope).map(|c| c.page))
        .transpose()
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
            skip,
            pagelen,
        }
        .encode()
    }
}

#[cfg(test)]
pub(crate) mod testing;
