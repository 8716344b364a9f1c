//! `search_code`: Bitbucket code search over the workspace, or one repository.

use super::{Ctx, NumberedListing};
use crate::api::SearchResult;
use crate::bindings::{SearchHit, SearchMatch, SearchResults, ToolError};
use crate::client::ApiGet;
use crate::encoding::percent_encode;
use crate::error::{Endpoint, ToolResult};
use crate::validate;

const TOOL: &str = "search_code";

/// Runs the tool.
pub fn run(
    ctx: &Ctx,
    query: String,
    repo: Option<String>,
    limit: Option<u32>,
    page: Option<String>,
) -> ToolResult<SearchResults> {
    let query = validate::search_query(&query)?;
    // A `repo:` modifier in the query names a repository just as the `repo` argument does,
    // so it is held to the same scope before anything is sent, wherever it stands.
    for modifier in modifiers(&query)? {
        match modifier {
            Modifier::Repo(name) if name.is_empty() => {
                return Err(ToolError::invalid_input(
                    "A `repo:` modifier in `query` names no repository; give one (`repo:widgets`) or use the `repo` argument.",
                ));
            }
            Modifier::Repo(name) => {
                ctx.repo(Some(&name))?;
            }
            Modifier::Project(key) => {
                if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    return Err(ToolError::invalid_input(format!(
                        "A `project:` modifier in `query` must name a project key of this workspace (letters, digits, `_`), not `{}`.",
                        validate::shorten(&key)
                    )));
                }
            }
        }
    }
    let limit = validate::limit(limit)?;
    let config = ctx.config();
    let scope = &config.scope;
    // A named repository, or the one the scope restricts to, narrows the search itself.
    let repo = match repo.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(name) => Some(ctx.repo(Some(name))?),
        None => scope.repository.clone(),
    };
    let search_query = match &repo {
        Some(r) => format!("{query} repo:{}", r.slug),
        None => query,
    };
    let workspace = config.workspace.clone();
    let cursor_scope = repo
        .as_ref()
        .map_or_else(|| workspace.clone(), |r| r.full_name());
    let listing = NumberedListing {
        tool: TOOL,
        scope: cursor_scope,
        max_pagelen: 100,
        request: |page, pagelen| {
            ApiGet::new(
                format!("/workspaces/{}/search/code", percent_encode(&workspace)),
                Endpoint::Search,
            )
            .param("search_query", &search_query)
            .param("page", page)
            .param("pagelen", pagelen)
            .param(
                "fields",
                "+values.file.commit.repository,+values.file.commit.repository.mainbranch.name",
            )
        },
    };
    let (hits, next_page) =
        listing.collect(&ctx.client, page.as_deref(), limit, |hit: &SearchResult| {
            // Code search is workspace-wide: drop hits from repositories outside the scope. It
            // indexes main branches only, so under a branch pattern a hit counts only when its
            // repository's main branch is allowed.
            let main_branch_allowed = scope.branch_regex.is_none()
                || hit
                    .file
                    .commit
                    .as_ref()
                    .and_then(|c| c.repository.as_ref())
                    .and_then(|r| r.mainbranch.as_ref())
                    .is_some_and(|b| scope.branch_allowed(&b.name));
            main_branch_allowed
                && repository_of(hit).is_some_and(|full_name| {
                    scope.full_name_allowed(&full_name)
                        && repo
                            .as_ref()
                            .is_none_or(|r| r.full_name().eq_ignore_ascii_case(&full_name))
                })
        })?;
    Ok(SearchResults {
        results: hits
            .into_iter()
            .map(|hit| SearchHit {
                repo: repository_of(&hit).unwrap_or_default(),
                matches: hit
                    .content_matches
                    .iter()
                    .flat_map(|block| &block.lines)
                    .filter(|line| line.segments.iter().any(|s| s.is_match))
                    .map(|line| SearchMatch {
                        line: line.line,
                        text: line.segments.iter().map(|s| s.text.as_str()).collect(),
                    })
                    .collect(),
                path: hit.file.path,
            })
            .collect(),
        next_page,
    })
}

/// A scope-relevant modifier of a search query.
#[derive(Debug, PartialEq, Eq)]
enum Modifier {
    /// `repo:NAME` (`slug` or `workspace/slug`).
    Repo(String),
    /// `project:KEY`.
    Project(String),
}

/// Every `repo:` and `project:` modifier outside double quotes, wherever it stands: at the
/// start, after a space, a parenthesis, a `-` or a boolean operator; any non-word character
/// before it counts, so the check errs towards looking at more. An unbalanced quote is
/// refused: where it ends would be Bitbucket's guess.
fn modifiers(query: &str) -> ToolResult<Vec<Modifier>> {
    if query.matches('"').count() % 2 == 1 {
        return Err(ToolError::invalid_input(
            "`query` has an unbalanced double quote; close the quoted phrase.",
        ));
    }
    let chars: Vec<char> = query.chars().collect();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let starts_with = |at: usize, word: &str| {
        word.chars().enumerate().all(|(k, w)| {
            chars
                .get(at + k)
                .is_some_and(|c| c.eq_ignore_ascii_case(&w))
        })
    };
    let mut found = Vec::new();
    let mut quoted = false;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '"' {
            quoted = !quoted;
            i += 1;
            continue;
        }
        let at_boundary = i == 0 || !is_word(chars[i - 1]);
        let name = ["repo:", "project:"]
            .into_iter()
            .find(|name| !quoted && at_boundary && starts_with(i, name));
        let Some(name) = name else {
            i += 1;
            continue;
        };
        let mut j = i + name.len();
        let value: String = if chars.get(j) == Some(&'"') {
            let end = (j + 1..chars.len())
                .find(|&k| chars[k] == '"')
                .unwrap_or(chars.len());
            let value = chars[j + 1..end].iter().collect();
            j = end + 1;
            value
        } else {
            let end = (j..chars.len())
                .find(|&k| chars[k].is_whitespace() || matches!(chars[k], '(' | ')' | '"'))
                .unwrap_or(chars.len());
            let value = chars[j..end].iter().collect();
            j = end;
            value
        };
        found.push(if name == "repo:" {
            Modifier::Repo(value)
        } else {
            Modifier::Project(value)
        });
        i = j;
    }
    Ok(found)
}

/// The `workspace/slug` of a hit: from the repository asked for with `fields`, else from the
/// file's `self` link (`…/repositories/{ws}/{slug}/src/…`).
fn repository_of(hit: &SearchResult) -> Option<String> {
    let from_commit = hit
        .file
        .commit
        .as_ref()
        .and_then(|c| c.repository.as_ref())
        .map(|r| r.full_name.clone())
        .filter(|n| n.contains('/'));
    from_commit.or_else(|| {
        let href = &hit.file.links.self_.as_ref()?.href;
        let rest = href.split("/repositories/").nth(1)?;
        let mut parts = rest.split('/');
        Some(format!("{}/{}", parts.next()?, parts.next()?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ErrorKind;
    use crate::tools::testing::{Scripted, config, config_with};

    #[test]
    fn modifiers_are_found_wherever_they_stand_outside_quotes() {
        let repos = |q: &str| -> Vec<Modifier> { modifiers(q).unwrap() };
        let r = |n: &str| Modifier::Repo(n.into());
        assert_eq!(repos("foo repo:a"), [r("a")]);
        assert_eq!(repos("(repo:a OR x)"), [r("a")]);
        assert_eq!(repos("x OR(REPO:a)"), [r("a")]);
        assert_eq!(repos("x AND -repo:\"acme/b\" y"), [r("acme/b")]);
        assert_eq!(repos("NOT project:KEY"), [Modifier::Project("KEY".into())]);
        assert_eq!(repos("\"repo:a\" myrepo:b"), []);
        assert_eq!(repos("repo:"), [r("")]);
        assert!(modifiers("\"open repo:a").is_err());
    }

    const HITS: &str = r#"{"size": 2, "page": 1, "pagelen": 10, "query_substituted": false, "values": [
      {"type": "code_search_result", "content_match_count": 1,
       "content_matches": [{"lines": [
          {"line": 2, "segments": []},
          {"line": 3, "segments": [{"text": "def "}, {"text": "foo", "match": true}, {"text": "():"}]},
          {"line": 4, "segments": [{"text": "    pass"}]}]}],
       "path_matches": [], "file": {"path": "src/foo.py", "type": "commit_file",
         "commit": {"type": "commit", "hash": "ad69", "repository": {"type": "repository", "full_name": "acme/legacy-app", "name": "legacy-app"}},
         "links": {"self": {"href": "http://bb.test/2.0/repositories/acme/legacy-app/src/ad69/src/foo.py"}}}},
      {"type": "code_search_result", "content_matches": [{"lines": [{"line": 9, "segments": [{"text": "foo", "match": true}]}]}],
       "file": {"path": "x.rs", "links": {"self": {"href": "http://bb.test/2.0/repositories/acme/secret-infra/src/1/x.rs"}}}}]}"#;

    #[test]
    fn returns_matching_lines_with_repositories() {
        let t = Scripted::default().route("/workspaces/acme/search/code", 200, HITS);
        let c = config();
        let out = run(&Ctx::new(&c, &t), "foo".into(), None, None, None).unwrap();
        assert_eq!(out.results.len(), 2);
        assert_eq!(out.results[0].repo, "acme/legacy-app");
        assert_eq!(out.results[0].matches.len(), 1);
        assert_eq!(
            (
                out.results[0].matches[0].line,
                out.results[0].matches[0].text.as_str()
            ),
            (3, "def foo():")
        );
        assert_eq!(out.results[1].repo, "acme/secret-infra");
        assert!(out.next_page.is_none());
        assert!(
            t.sent()[0].contains("fields=%2Bvalues.file.commit.repository%2C"),
            "{}",
            t.sent()[0]
        );
    }

    #[test]
    fn scope_narrows_the_query_and_filters_hits() {
        let t = Scripted::default().route("/workspaces/acme/search/code", 200, HITS);
        let c = config_with(&[("BITBUCKET_REPOSITORY", "acme/legacy-app")]);
        let out = run(&Ctx::new(&c, &t), "foo".into(), None, None, None).unwrap();
        assert_eq!(out.results.len(), 1);
        assert!(
            t.sent()[0].contains("search_query=foo%20repo%3Alegacy-app"),
            "{}",
            t.sent()[0]
        );
        let e = run(
            &Ctx::new(&c, &t),
            "foo repo:secret-infra".into(),
            None,
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::OutOfScope);
        let e = run(
            &Ctx::new(&c, &t),
            "foo".into(),
            Some("secret-infra".into()),
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::OutOfScope);
    }

    #[test]
    fn under_a_branch_pattern_only_hits_on_allowed_main_branches_count() {
        let t = Scripted::default().route("/workspaces/acme/search/code", 200, HITS);
        let c = config_with(&[("BITBUCKET_BRANCH_REGEX", "main")]);
        let out = run(&Ctx::new(&c, &t), "foo".into(), None, None, None).unwrap();
        assert!(out.results.is_empty());
        let with_main = HITS.replace(
            r#""name": "legacy-app"}"#,
            r#""name": "legacy-app", "mainbranch": {"name": "main"}}"#,
        );
        let t = Scripted::default().route("/workspaces/acme/search/code", 200, &with_main);
        let out = run(&Ctx::new(&c, &t), "foo".into(), None, None, None).unwrap();
        let repos: Vec<_> = out.results.iter().map(|r| r.repo.as_str()).collect();
        assert_eq!(repos, ["acme/legacy-app"]);
    }

    #[test]
    fn search_not_enabled_is_search_unavailable() {
        let t = Scripted::default().route("/workspaces/acme/search/code", 404, r#"{"type": "error", "error": {"message": "Search is not enabled for the requested workspace, navigate to https://bitbucket.org/search to turn it on"}}"#);
        let c = config();
        let e = run(&Ctx::new(&c, &t), "foo".into(), None, None, None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::SearchUnavailable);
    }
}
