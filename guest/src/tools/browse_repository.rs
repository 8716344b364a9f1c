//! `browse_repository`: one directory of a repository at a branch, tag or commit.

use super::{Ctx, iterator_cursor, iterator_position, repo_path};
use crate::api::{Page, SourceEntry};
use crate::bindings::{DirectoryEntry, DirectoryListing, EntryType, ToolError};
use crate::client::{ApiGet, decode_json};
use crate::encoding::{percent_encode, percent_encode_path};
use crate::error::{Endpoint, ToolResult};
use crate::validate;

const TOOL: &str = "browse_repository";
/// Only what the tool returns (REFERENCE §3: a whitelist must keep `next`).
const FIELDS: &str = "next,values.path,values.type,values.size,values.attributes";

/// Runs the tool.
pub fn run(
    ctx: &Ctx,
    repo: Option<String>,
    path: Option<String>,
    branch: Option<String>,
    limit: Option<u32>,
    page: Option<String>,
) -> ToolResult<DirectoryListing> {
    let repo = ctx.repo(repo.as_deref())?;
    let path = validate::repo_path(path.as_deref().unwrap_or(""), "path")?;
    let limit = validate::limit(limit)?;
    let position = iterator_position(page.as_deref(), TOOL, &repo.full_name())?;
    // A directory URL ends with `/`; the root is `src/{rev}/` (REFERENCE §9).
    let dir = if path.is_empty() {
        String::new()
    } else {
        format!("{}/", percent_encode_path(&path))
    };
    let shown = if path.is_empty() { "/" } else { path.as_str() };
    let listing_at = |rev: &str| {
        ApiGet::new(
            repo_path(&repo, &format!("/src/{}/{dir}", percent_encode(rev))),
            Endpoint::Source {
                what: format!("directory `{shown}` in {}", repo.full_name()),
            },
        )
        .param("pagelen", limit)
        .param("fields", FIELDS)
        .at_position(&position)
    };
    let (revision, mut answers) =
        ctx.at_revision(&repo, branch.as_deref(), |rev| vec![listing_at(rev)])?;
    let what = format!("`{shown}` at `{}` in {}", revision.name, repo.full_name());
    let response = answers.remove(0)?;
    if !response.is_json() {
        return Err(ToolError::invalid_input(format!(
            "{what} is a file, not a directory: use read_file to read it."
        )));
    }
    let listing: Page<SourceEntry> = decode_json(&response)?;
    let next_page = iterator_cursor(
        &ctx.client,
        listing.next.as_deref(),
        &listing_at(&revision.rev),
        TOOL,
        &repo.full_name(),
    )?;
    Ok(DirectoryListing {
        repo: repo.full_name(),
        ref_: revision.name,
        path,
        entries: listing
            .values
            .iter()
            .map(|entry| DirectoryEntry {
                path: entry.path.clone(),
                type_: if entry.is_directory() {
                    EntryType::Directory
                } else if entry.has_attribute("link") {
                    EntryType::Symlink
                } else if entry.has_attribute("subrepository") {
                    EntryType::Submodule
                } else {
                    EntryType::File
                },
                size: if entry.is_directory() {
                    None
                } else {
                    entry.size
                },
            })
            .collect(),
        next_page,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ErrorKind;
    use crate::tools::testing::{Scripted, config, config_with};

    fn listing() -> String {
        r#"{"pagelen": 2, "values": [
        {"path": "src/lib", "type": "commit_directory", "commit": {"hash": "abc"}},
        {"path": "src/main.rs", "type": "commit_file", "size": 120, "attributes": []},
        {"path": "src/current", "type": "commit_file", "size": 7, "attributes": ["link"]},
        {"path": "src/vendor", "type": "commit_file", "size": 40, "attributes": ["subrepository"]}],
        "next": "http://bb.test/2.0/repositories/acme/widgets/src/main/src/?pagelen=2&fields=FIELDS&page=Zx9"}"#
            .replace("FIELDS", &percent_encode(FIELDS))
    }

    #[test]
    fn lists_a_directory_at_the_main_branch() {
        let t = Scripted::default()
            .route(
                "/repositories/acme/widgets?fields=",
                200,
                r#"{"mainbranch": {"name": "main"}}"#,
            )
            .route("/repositories/acme/widgets/src/HEAD/src/", 200, &listing());
        let c = config();
        let out = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            Some("/src/".into()),
            None,
            Some(2),
            None,
        )
        .unwrap();
        assert_eq!(out.ref_, "main");
        assert_eq!(out.path, "src");
        // The main branch's name and the listing at HEAD come in one round trip.
        assert_eq!(*t.batches.borrow(), [2]);
        assert_eq!(out.entries.len(), 4);
        assert_eq!(out.entries[0].type_, EntryType::Directory);
        assert_eq!(out.entries[2].type_, EntryType::Symlink);
        assert_eq!(out.entries[3].type_, EntryType::Submodule);
        assert_eq!(out.entries[0].size, None);
        assert_eq!(out.entries[1].size, Some(120));
        let next = out.next_page.unwrap();
        let again = Scripted::default().route(
            "/repositories/acme/widgets/src/main/src/",
            200,
            r#"{"values": []}"#,
        );
        run(
            &Ctx::new(&c, &again),
            Some("widgets".into()),
            Some("src".into()),
            Some("main".into()),
            Some(2),
            Some(next),
        )
        .unwrap();
        assert_eq!(
            again.sent_without_fields(),
            ["/repositories/acme/widgets/src/main/src/?pagelen=2&page=Zx9"]
        );
    }

    #[test]
    fn a_slash_branch_is_resolved_to_its_head_commit() {
        let t = Scripted::default()
            .route(
                "/repositories/acme/widgets/refs/branches/feature%2Flogin",
                200,
                r#"{"name": "feature/login", "target": {"hash": "0123456789abcdef0123456789abcdef01234567"}}"#,
            )
            .route("/repositories/acme/widgets/src/0123456789abcdef0123456789abcdef01234567/", 200, r#"{"values": []}"#);
        let c = config();
        let out = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            None,
            Some("feature/login".into()),
            None,
            None,
        )
        .unwrap();
        assert_eq!(out.ref_, "feature/login");
        assert_eq!(t.sent().len(), 2);
    }

    #[test]
    fn out_of_scope_branch_sends_nothing() {
        let t = Scripted::default();
        let c = config_with(&[("BITBUCKET_BRANCH_REGEX", "main")]);
        let e = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            None,
            Some("develop".into()),
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::OutOfScope);
        assert!(t.sent().is_empty());
    }

    #[test]
    fn bad_inputs_send_nothing() {
        let t = Scripted::default();
        let c = config();
        let ctx = Ctx::new(&c, &t);
        for (repo, path, page) in [
            ("widgets", "../x", None),
            ("wid/gets/x", "", None),
            ("widgets", "", Some("garbage".to_string())),
        ] {
            let e = run(
                &ctx,
                Some(repo.into()),
                Some(path.into()),
                Some("main".into()),
                None,
                page,
            )
            .unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput);
        }
        assert!(t.sent().is_empty());
    }
}
