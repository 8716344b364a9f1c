//! `list_repositories`: the workspace's repositories, most recently updated first.

use super::{Ctx, NumberedListing, repo_path};
use crate::api::Repository as ApiRepository;
use crate::bindings::{Repository, RepositoryPage};
use crate::client::ApiGet;
use crate::encoding::percent_encode;
use crate::error::{Endpoint, ToolResult};
use crate::validate;

const TOOL: &str = "list_repositories";
/// Only what the tool returns (REFERENCE §3: a whitelist must keep `next`).
const LIST_FIELDS: &str = "next,values.slug,values.full_name,values.name,values.description,\
    values.language,values.is_private,values.mainbranch.name,values.updated_on,values.links.html.href";

/// Runs the tool.
pub fn run(
    ctx: &Ctx,
    query: Option<String>,
    limit: Option<u32>,
    page: Option<String>,
) -> ToolResult<RepositoryPage> {
    let limit = validate::limit(limit)?;
    let query = query.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
    if query
        .as_ref()
        .is_some_and(|q| q.chars().count() > 200 || q.chars().any(char::is_control))
    {
        return Err(crate::bindings::ToolError::invalid_input(
            "`query` must be a short piece of a repository name (at most 200 characters).",
        ));
    }
    let config = ctx.config();
    let scope = &config.scope;

    if let Some(only) = &scope.repository {
        // One repository in scope: read just that one.
        let repository: ApiRepository = ctx.client.get_json(ApiGet::new(
            repo_path(only, ""),
            Endpoint::Repository(format!("repository {}", only.full_name())),
        ))?;
        let matches = query
            .as_ref()
            .is_none_or(|q| repository.name.to_lowercase().contains(&q.to_lowercase()));
        let repositories = if matches && page.is_none() {
            vec![convert(repository)]
        } else {
            Vec::new()
        };
        return Ok(RepositoryPage {
            repositories,
            next_page: None,
        });
    }

    let workspace = config.workspace.clone();
    // BBQL `~` is a case-insensitive "contains"; quotes and backslashes are escaped (REFERENCE §4).
    let q = query.map(|q| {
        format!(
            "name ~ \"{}\"",
            q.replace('\\', "\\\\").replace('"', "\\\"")
        )
    });
    let listing = NumberedListing {
        tool: TOOL,
        scope: workspace.clone(),
        max_pagelen: 100,
        request: |page, pagelen| {
            ApiGet::new(
                format!("/repositories/{}", percent_encode(&workspace)),
                Endpoint::Workspace(workspace.clone()),
            )
            .param("pagelen", pagelen)
            .param("page", page)
            .param("sort", "-updated_on")
            .param_opt("q", q.clone())
            .param("fields", LIST_FIELDS)
        },
    };
    let (repositories, next_page) =
        listing.collect(&ctx.client, page.as_deref(), limit, |r: &ApiRepository| {
            scope.full_name_allowed(&r.full_name)
        })?;
    Ok(RepositoryPage {
        repositories: repositories.into_iter().map(convert).collect(),
        next_page,
    })
}

fn convert(r: ApiRepository) -> Repository {
    Repository {
        slug: r.slug(),
        url: r.links.html.map(|l| l.href).unwrap_or_default(),
        full_name: r.full_name,
        name: r.name,
        description: r.description.unwrap_or_default(),
        language: r.language.unwrap_or_default(),
        is_private: r.is_private,
        default_branch: r.mainbranch.map(|b| b.name).filter(|n| !n.is_empty()),
        updated_on: r.updated_on.unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::testing::{Scripted, config, config_with};

    const PAGE: &str = r#"{"pagelen": 2, "page": 1, "size": 3, "next": "http://bb.test/2.0/repositories/acme?page=2",
      "values": [
        {"type": "repository", "slug": "widgets", "full_name": "acme/widgets", "name": "Widgets", "description": "d",
         "language": "rust", "is_private": true, "mainbranch": {"type": "branch", "name": "main"},
         "updated_on": "2026-01-02T00:00:00.000000+00:00", "links": {"html": {"href": "https://bitbucket.org/acme/widgets"}}},
        {"type": "repository", "full_name": "acme/legacy-app", "name": "legacy-app", "mainbranch": null}
      ]}"#;

    #[test]
    fn maps_fields_and_hands_out_a_cursor() {
        let t = Scripted::default().route("/repositories/acme?", 200, PAGE);
        let c = config();
        let ctx = Ctx::new(&c, &t);
        let page = run(&ctx, Some("wid\"get".into()), Some(2), None).unwrap();
        assert_eq!(page.repositories.len(), 2);
        let w = &page.repositories[0];
        assert_eq!(
            (w.slug.as_str(), w.language.as_str(), w.is_private),
            ("widgets", "rust", true)
        );
        assert_eq!(w.default_branch.as_deref(), Some("main"));
        assert_eq!(w.url, "https://bitbucket.org/acme/widgets");
        assert_eq!(page.repositories[1].slug, "legacy-app");
        assert_eq!(page.repositories[1].default_branch, None);
        let sent = t.sent();
        assert_eq!(sent.len(), 1);
        assert!(
            sent[0].contains("q=name%20~%20%22wid%5C%22get%22"),
            "{}",
            sent[0]
        );
        assert!(sent[0].contains("pagelen=2") && sent[0].contains("sort=-updated_on"));
        let next = page.next_page.unwrap();
        let cursor = crate::cursor::Cursor::decode(&next, TOOL, "acme").unwrap();
        assert_eq!((cursor.page.as_str(), cursor.skip), ("2", 0));
    }

    #[test]
    fn regex_scope_filters_the_listing() {
        let t = Scripted::default()
            .route(
                "/repositories/acme?pagelen=5&page=2",
                200,
                r#"{"values": [{"full_name": "acme/legacy-tools"}]}"#,
            )
            .route("/repositories/acme?", 200, PAGE);
        let c = config_with(&[("BITBUCKET_REPOSITORY_REGEX", "legacy-.*")]);
        let page = run(&Ctx::new(&c, &t), None, Some(5), None).unwrap();
        let slugs: Vec<_> = page.repositories.iter().map(|r| r.slug.as_str()).collect();
        assert_eq!(slugs, ["legacy-app", "legacy-tools"]);
        assert!(page.next_page.is_none());
        assert_eq!(t.sent().len(), 2);
    }

    #[test]
    fn a_restricted_connection_reads_only_its_repository() {
        let t = Scripted::default().route(
            "/repositories/acme/widgets",
            200,
            r#"{"type": "repository", "slug": "widgets", "full_name": "acme/widgets", "name": "widgets"}"#,
        );
        let c = config_with(&[("BITBUCKET_REPOSITORY", "acme/widgets")]);
        let page = run(&Ctx::new(&c, &t), None, None, None).unwrap();
        assert_eq!(page.repositories.len(), 1);
        assert_eq!(t.sent(), ["/repositories/acme/widgets"]);
    }
}
