//! `list_commits`: commits reachable from a branch, newest first, optionally touching a path.

use super::{Ctx, iterator_cursor, iterator_position, repo_path};
use crate::api::{Commit as ApiCommit, Page};
use crate::bindings::{Commit, CommitPage};
use crate::client::ApiGet;
use crate::encoding::percent_encode;
use crate::error::{Endpoint, ToolResult};
use crate::validate;

const TOOL: &str = "list_commits";
/// Only what the tool returns (REFERENCE §3: a whitelist must keep `next`).
const FIELDS: &str = "next,values.hash,values.author.raw,values.author.user.display_name,values.author.user.nickname,values.author.user.username,values.date,values.message";

/// Runs the tool.
pub fn run(
    ctx: &Ctx,
    repo: Option<String>,
    branch: Option<String>,
    path: Option<String>,
    limit: Option<u32>,
    page: Option<String>,
) -> ToolResult<CommitPage> {
    let repo = ctx.repo(repo.as_deref())?;
    let path = path
        .map(|p| validate::repo_path(&p, "path"))
        .transpose()?
        .filter(|p| !p.is_empty());
    let limit = validate::limit(limit)?;
    let position = iterator_position(page.as_deref(), TOOL, &repo.full_name())?;
    let requested = ctx.requested_branch(branch.as_deref());
    // `/commits/{revision}` cannot take a name with `/` (REFERENCE §9), but the `include`
    // parameter can: one round trip instead of resolving the branch first. Under a branch
    // pattern the name goes through the full check (a real, allowed branch) instead.
    let (what, endpoint_path, include) = match requested {
        Some(name) if name.contains('/') && ctx.config().scope.branch_regex.is_none() => {
            validate::branch_name(&name)?;
            (name.clone(), "/commits".to_owned(), Some(name))
        }
        _ => {
            let revision = ctx.revision(&repo, branch.as_deref())?;
            let path = format!("/commits/{}", percent_encode(&revision.rev));
            (revision.name, path, None)
        }
    };

    let get = ApiGet::new(
        repo_path(&repo, &endpoint_path),
        Endpoint::Revision {
            what: format!("branch or commit `{what}` of {}", repo.full_name()),
        },
    )
    .param_opt("include", include)
    .param("pagelen", limit)
    .param("fields", FIELDS)
    .param_opt("path", path)
    .at_position(&position);
    let page: Page<ApiCommit> = ctx.client.get_json(get.clone())?;
    Ok(CommitPage {
        commits: page.values.into_iter().map(convert).collect(),
        next_page: iterator_cursor(
            &ctx.client,
            page.next.as_deref(),
            &get,
            TOOL,
            &repo.full_name(),
        )?,
    })
}

/// The listed form of a commit.
pub fn convert(c: ApiCommit) -> Commit {
    Commit {
        author: c.author.text(),
        hash: c.hash,
        date: c.date.unwrap_or_default(),
        message: c.message.unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slash_branch_is_listed_in_one_request_through_include() {
        let t = Scripted::default().route(
            "/repositories/acme/widgets/commits?include=feature%2Flogin",
            200,
            r#"{"values": [{"hash": "fcc3ae7993e8a342da9f07aefc7575e5d1e4ce24"}]}"#,
        );
        let c = config();
        let out = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            Some("feature/login".into()),
            None,
            Some(5),
            None,
        )
        .unwrap();
        assert_eq!(out.commits.len(), 1);
        assert_eq!(t.sent().len(), 1);
        assert!(t.sent()[0].contains("pagelen=5"), "{:?}", t.sent());
    }
    use crate::tools::testing::{Scripted, config};

    #[test]
    fn lists_commits_of_a_branch_touching_a_path() {
        // `next` repeats every parameter (REFERENCE §2); its token may hold any character.
        let answer = r#"{"pagelen": 1, "values": [{"type": "commit", "hash": "251fce291f086cdde68ae2a896148abb5b58033e",
                "date": "2025-04-26T09:50:59+00:00", "author": {"type": "author", "raw": "Nik <n@acme.com>"},
                "message": "Fix it\n\nbody\n"}],
                "next": "http://bb.test/2.0/repositories/acme/widgets/commits/develop?pagelen=1&fields=FIELDS&path=src&page=d3%2Bf%2F1%3D"}"#
            .replace("FIELDS", &percent_encode(FIELDS));
        let t =
            Scripted::default().route("/repositories/acme/widgets/commits/develop", 200, &answer);
        let c = config();
        let out = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            Some("develop".into()),
            Some("src/".into()),
            Some(1),
            None,
        )
        .unwrap();
        assert_eq!(out.commits.len(), 1);
        assert_eq!(out.commits[0].author, "Nik <n@acme.com>");
        assert_eq!(out.commits[0].message, "Fix it\n\nbody\n");
        assert_eq!(
            t.sent_without_fields(),
            ["/repositories/acme/widgets/commits/develop?pagelen=1&path=src"]
        );
        let cursor =
            crate::cursor::Cursor::decode(&out.next_page.unwrap(), TOOL, "acme/widgets").unwrap();
        assert_eq!(cursor.position, [("page".to_owned(), "d3+f/1=".to_owned())]);
    }
}
