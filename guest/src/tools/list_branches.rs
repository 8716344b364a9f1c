//! `list_branches`: a repository's branches, newest head commit first, with the main branch
//! marked. Under a branch pattern only allowed branches are listed (paging on, boundedly).

use super::{Ctx, repo_path};
use crate::api::{Branch as ApiBranch, Page};
use crate::bindings::{Branch, BranchPage, ToolError};
use crate::client::{ApiGet, decode_json};
use crate::cursor::Cursor;
use crate::error::{Endpoint, ToolResult};
use crate::next_link;
use crate::scope::RepoRef;
use crate::validate;

const TOOL: &str = "list_branches";
/// Only what the tool returns (REFERENCE §3: a whitelist must keep `next`).
const FIELDS: &str = "next,values.name,values.target.hash,values.target.date,\
    values.target.author.raw,values.target.author.user.display_name,values.target.message";
/// Bitbucket's largest branch page (REFERENCE-REVIEW §5a).
const MAX_PAGELEN: u32 = 100;
/// Under a branch pattern, at most this many pages are read by one call.
const MAX_FILTERED_PAGES: u32 = 5;
/// The page token of a cursor that points into the first page (Bitbucket's tokens are its
/// own; the first page has none).
const FIRST_PAGE: &str = "~";

/// Runs the tool.
pub fn run(
    ctx: &Ctx,
    repo: Option<String>,
    query: Option<String>,
    limit: Option<u32>,
    page: Option<String>,
) -> ToolResult<BranchPage> {
    let repo = ctx.repo(repo.as_deref())?;
    let limit = validate::limit(limit)?;
    let query = query.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
    if query
        .as_ref()
        .is_some_and(|q| q.chars().count() > 200 || q.chars().any(char::is_control))
    {
        return Err(ToolError::invalid_input(
            "`query` must be a short piece of a branch name (at most 200 characters).",
        ));
    }
    // Where to start: Bitbucket's own position parameters from a `next` link (empty for the
    // first page), and how many items of that page an earlier answer already returned.
    let (mut position, mut skip) = match page.as_deref() {
        None => (Vec::new(), 0),
        Some(text) => {
            let cursor = Cursor::decode(text, TOOL, &repo.full_name())?;
            let position = match (cursor.position.is_empty(), cursor.page.as_str()) {
                (false, _) => cursor.position,
                (true, FIRST_PAGE) => Vec::new(),
                (true, token) => vec![("page".to_owned(), token.to_owned())],
            };
            (position, cursor.skip as usize)
        }
    };
    let scope = &ctx.config().scope;
    let filtered = scope.branch_regex.is_some();
    // Without a pattern every branch is kept: ask for exactly `limit`. With one, read full
    // pages to find enough allowed branches in few requests.
    let pagelen = if filtered { MAX_PAGELEN } else { limit };
    // BBQL `~` is a case-insensitive "contains"; quotes and backslashes are escaped (REFERENCE §4).
    let q = query.map(|q| {
        format!(
            "name ~ \"{}\"",
            q.replace('\\', "\\\\").replace('"', "\\\"")
        )
    });
    let request = |position: &[(String, String)]| {
        ApiGet::new(
            repo_path(&repo, "/refs/branches"),
            Endpoint::Repository(format!("branches of {}", repo.full_name())),
        )
        .param_opt("q", q.clone())
        .param("sort", "-target.date")
        .param("pagelen", pagelen)
        .param("fields", FIELDS)
        .at_position(position)
    };

    // The main branch's name and the first page are independent: one round trip for both.
    let mut answers = ctx
        .client
        .get_all(&[main_branch_request(&repo), request(&position)])
        .into_iter();
    let main_branch = main_branch_of(answers.next().expect("repository"))?;
    let mut listing: Page<ApiBranch> = decode_json(&answers.next().expect("branches")?)?;

    let mut kept: Vec<Branch> = Vec::new();
    let mut pages_read = 1;
    loop {
        let count = listing.values.len();
        for (index, branch) in listing.values.into_iter().enumerate().skip(skip) {
            if kept.len() == limit as usize {
                return Ok(BranchPage {
                    branches: kept,
                    next_page: Some(cursor(&repo, &position, index)),
                });
            }
            if scope.branch_allowed(&branch.name) {
                kept.push(convert(branch, main_branch.as_deref()));
            }
        }
        skip = 0;
        let next = match listing.next.as_deref().filter(|_| count > 0) {
            Some(link) => next_link::position_of(link, &request(&position), &ctx.config().api)?,
            None => Vec::new(),
        };
        if next.is_empty() {
            return Ok(BranchPage {
                branches: kept,
                next_page: None,
            });
        };
        if kept.len() == limit as usize || pages_read >= MAX_FILTERED_PAGES {
            // Bounded work per call: hand back what was found and where to go on.
            return Ok(BranchPage {
                branches: kept,
                next_page: Some(cursor(&repo, &next, 0)),
            });
        }
        position = next;
        listing = ctx.client.get_json(request(&position))?;
        pages_read += 1;
    }
}

/// A cursor `skip` items into the page at `position` (the first page when it is empty).
fn cursor(repo: &RepoRef, position: &[(String, String)], skip: usize) -> String {
    Cursor {
        tool: TOOL.into(),
        scope: repo.full_name(),
        page: if position.is_empty() {
            FIRST_PAGE.to_owned()
        } else {
            String::new()
        },
        position: position.to_vec(),
        skip: skip as u32,
        pagelen: 0,
    }
    .encode()
}

fn main_branch_request(repo: &RepoRef) -> ApiGet {
    ApiGet::new(
        repo_path(repo, ""),
        Endpoint::Repository(format!("repository {}", repo.full_name())),
    )
    .param("fields", "mainbranch.name")
}

/// The main branch's name; `None` for an empty repository.
fn main_branch_of(
    answer: ToolResult<crate::transport::HttpResponse>,
) -> ToolResult<Option<String>> {
    let repository: crate::api::Repository = decode_json(&answer?)?;
    Ok(repository
        .mainbranch
        .map(|b| b.name)
        .filter(|n| !n.is_empty()))
}

fn convert(branch: ApiBranch, main_branch: Option<&str>) -> Branch {
    let target = branch.target.unwrap_or_default();
    Branch {
        is_default: main_branch == Some(branch.name.as_str()),
        name: branch.name,
        commit: target.hash,
        date: target.date.unwrap_or_default(),
        author: target.author.text(),
        message: target
            .message
            .as_deref()
            .and_then(|m| m.lines().next())
            .unwrap_or_default()
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ErrorKind;
    use crate::tools::testing::{Scripted, config, config_with};

    fn branch(name: &str, n: u32) -> String {
        format!(
            r#"{{"type": "branch", "name": "{name}", "target": {{"type": "commit", "hash": "{n:040x}",
               "date": "2025-01-0{n}T10:00:00+00:00", "author": {{"raw": "Ann <ann@x>"}},
               "message": "Subject {n}\n\nBody.\n"}}}}"#
        )
    }

    fn repo_route(t: Scripted) -> Scripted {
        t.route(
            "/repositories/acme/widgets?",
            200,
            r#"{"mainbranch": {"name": "main"}}"#,
        )
    }

    /// A `next` link as Bitbucket writes it: the request's own parameters, then the position.
    fn next_link(q: Option<&str>, pagelen: u32, position: (&str, &str)) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(q) = q {
            query.append_pair("q", q);
        }
        query
            .append_pair("sort", "-target.date")
            .append_pair("pagelen", &pagelen.to_string())
            .append_pair("fields", FIELDS)
            .append_pair(position.0, position.1);
        format!(
            "http://bb.test/2.0/repositories/acme/widgets/refs/branches?{}",
            query.finish()
        )
    }

    #[test]
    fn one_round_trip_for_the_page_and_the_main_branch() {
        let body = format!(
            r#"{{"pagelen": 2, "values": [{}, {}], "next": "{}"}}"#,
            branch("feature/a", 2),
            branch("main", 1),
            next_link(Some("name ~ \"a\\\"b\""), 2, ("page", "Zx+9/="))
        );
        let t = repo_route(Scripted::default()).route(
            "/repositories/acme/widgets/refs/branches",
            200,
            &body,
        );
        let c = config();
        let out = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            Some("a\"b".into()),
            Some(2),
            None,
        )
        .unwrap();
        assert_eq!(*t.batches.borrow(), [2]);
        let names: Vec<_> = out.branches.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["feature/a", "main"]);
        assert_eq!(
            (out.branches[0].is_default, out.branches[1].is_default),
            (false, true)
        );
        assert_eq!(out.branches[0].message, "Subject 2");
        assert_eq!(out.branches[0].commit.len(), 40);
        let sent = t.sent_without_fields();
        assert_eq!(
            sent[1],
            "/repositories/acme/widgets/refs/branches?q=name%20~%20%22a%5C%22b%22&sort=-target.date&pagelen=2"
        );
        // The cursor carries Bitbucket's opaque token (any characters), and the next call
        // sends it back.
        let next = out.next_page.unwrap();
        run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            Some("a\"b".into()),
            Some(2),
            Some(next),
        )
        .unwrap();
        assert!(
            t.sent()[3].ends_with("&page=Zx%2B9%2F%3D"),
            "{:?}",
            t.sent()
        );
    }

    #[test]
    fn under_a_branch_pattern_only_allowed_branches_page_on_boundedly() {
        let c = config_with(&[("BITBUCKET_BRANCH_REGEX", "main|release/.*")]);
        let body = format!(
            r#"{{"values": [{}, {}, {}], "next": "{}"}}"#,
            branch("feature/a", 3),
            branch("release/1", 2),
            branch("main", 1),
            next_link(None, 100, ("after", "T2"))
        );
        let t = repo_route(Scripted::default()).route(
            "/repositories/acme/widgets/refs/branches",
            200,
            &body,
        );
        // Limit 1: the first allowed branch, and a cursor into the same page.
        let out = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            None,
            Some(1),
            None,
        )
        .unwrap();
        assert_eq!(out.branches.len(), 1);
        assert_eq!(out.branches[0].name, "release/1");
        assert!(t.sent()[1].contains("pagelen=100"));
        let again = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            None,
            Some(1),
            out.next_page,
        )
        .unwrap();
        assert_eq!(again.branches[0].name, "main");
        // A page that never ends: at most MAX_FILTERED_PAGES pages, then a cursor.
        let t = repo_route(Scripted::default()).route(
            "/repositories/acme/widgets/refs/branches",
            200,
            &body,
        );
        let out = run(&Ctx::new(&c, &t), Some("widgets".into()), None, None, None).unwrap();
        assert_eq!(out.branches.len(), 2 * MAX_FILTERED_PAGES as usize);
        assert_eq!(t.sent().len(), 1 + MAX_FILTERED_PAGES as usize);
        assert!(out.next_page.is_some());
    }

    #[test]
    fn a_foreign_cursor_is_refused_before_sending() {
        let t = Scripted::default();
        let c = config();
        let foreign = Cursor {
            tool: "list_commits".into(),
            scope: "acme/widgets".into(),
            page: "x".into(),
            position: Vec::new(),
            skip: 0,
            pagelen: 0,
        }
        .encode();
        let e = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            None,
            None,
            Some(foreign),
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(t.sent().is_empty());
    }
}
