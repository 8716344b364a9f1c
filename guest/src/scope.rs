//! The operator's scope: which workspace, repositories and branches the agent may read.
//! Every check here runs before a request is built, so nothing out of scope is ever sent.

use crate::bindings::ToolError;
use crate::error::ToolResult;
use crate::pattern::Pattern as Regex;
use crate::validate::{self, is_slug, shorten};

/// A repository the agent asked for, known to be inside the scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoRef {
    /// The workspace slug.
    pub workspace: String,
    /// The repository slug.
    pub slug: String,
}

impl RepoRef {
    /// `workspace/slug`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.workspace, self.slug)
    }
}

/// What the agent may see.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// The workspace everything is confined to.
    pub workspace: String,
    /// When set, the only repository.
    pub repository: Option<RepoRef>,
    /// When set, only repositories whose slug matches.
    pub repository_regex: Option<Regex>,
    /// When set, only branches whose name matches.
    pub branch_regex: Option<Regex>,
}

impl Scope {
    /// Builds the scope from the configuration settings.
    pub fn from_settings(
        workspace: &str,
        repository: Option<&str>,
        repository_regex: Option<&str>,
        branch_regex: Option<&str>,
    ) -> ToolResult<Scope> {
        let repository = match repository {
            None => None,
            Some(text) => {
                let (ws, slug) = text.split_once('/').unwrap_or((workspace, text));
                if !is_slug(ws) || !is_slug(slug) {
                    return Err(ToolError::config(
                        "BITBUCKET_REPOSITORY must be `workspace/repo-slug` (or a repository slug).",
                    ));
                }
                if ws != workspace {
                    return Err(ToolError::config(format!(
                        "BITBUCKET_REPOSITORY names workspace `{ws}` but BITBUCKET_WORKSPACE is \
                         `{workspace}`; make them agree."
                    )));
                }
                Some(RepoRef {
                    workspace: ws.to_owned(),
                    slug: slug.to_owned(),
                })
            }
        };
        let compile = |pattern: Option<&str>, setting: &str| -> ToolResult<Option<Regex>> {
            pattern
                .map(|p| {
                    // Patterns match whole names: `api-.*` does not match `old-api-x`.
                    Regex::new(p).map_err(|e| {
                        ToolError::config(format!(
                            "{setting} is not a valid regular expression: {e}. Fix the pattern \
                             (it must match the whole name, e.g. `api-.*`)."
                        ))
                    })
                })
                .transpose()
        };
        let scope = Scope {
            workspace: workspace.to_owned(),
            repository,
            repository_regex: compile(repository_regex, "BITBUCKET_REPOSITORY_REGEX")?,
            branch_regex: compile(branch_regex, "BITBUCKET_BRANCH_REGEX")?,
        };
        if let Some(repo) = &scope.repository
            && !scope.repository_allowed(&repo.slug)
        {
            return Err(ToolError::config(
                "BITBUCKET_REPOSITORY does not match BITBUCKET_REPOSITORY_REGEX; change one of them.",
            ));
        }
        Ok(scope)
    }

    /// Whether a repository slug of the workspace is visible. Bitbucket slugs are
    /// case-insensitive (`Secret` is `secret`), so the pattern sees the lower-case slug:
    /// otherwise `[^s].*` would let `Secret` through.
    pub fn repository_allowed(&self, slug: &str) -> bool {
        let slug = slug.to_ascii_lowercase();
        self.repository
            .as_ref()
            .is_none_or(|r| r.slug.eq_ignore_ascii_case(&slug))
            && self
                .repository_regex
                .as_ref()
                .is_none_or(|re| re.is_match(&slug))
    }

    /// Whether a `workspace/slug` full name is visible.
    pub fn full_name_allowed(&self, full_name: &str) -> bool {
        match full_name.split_once('/') {
            Some((ws, slug)) => {
                ws.eq_ignore_ascii_case(&self.workspace) && self.repository_allowed(slug)
            }
            None => false,
        }
    }

    /// Whether a branch name is visible.
    pub fn branch_allowed(&self, name: &str) -> bool {
        self.branch_regex
            .as_ref()
            .is_none_or(|re| re.is_match(name))
    }

    /// Resolves a `repo` argument (`slug` or `workspace/slug`, or absent when the scope names
    /// one repository) and checks it against the scope.
    pub fn repo(&self, argument: Option<&str>) -> ToolResult<RepoRef> {
        let Some(text) = argument.map(str::trim).filter(|t| !t.is_empty()) else {
            return self.repository.clone().ok_or_else(|| {
                ToolError::invalid_input(
                    "`repo` is required: give a repository slug such as `widgets` or \
                     `workspace/widgets` (list_repositories shows them).",
                )
            });
        };
        let (workspace, slug) = text.split_once('/').unwrap_or((&self.workspace, text));
        if !is_slug(workspace) || !is_slug(slug) {
            return Err(ToolError::invalid_input(format!(
                "`repo` must be `slug` or `workspace/slug` made of letters, digits, `-`, `_` and \
                 `.` (got `{}`).",
                shorten(text)
            )));
        }
        if !workspace.eq_ignore_ascii_case(&self.workspace) {
            return Err(ToolError::out_of_scope(format!(
                "Workspace `{workspace}` is outside this connection's scope: only workspace `{}` \
                 is configured. Use a repository of `{}`.",
                self.workspace, self.workspace
            )));
        }
        if let Some(only) = &self.repository
            && !only.slug.eq_ignore_ascii_case(slug)
        {
            return Err(ToolError::out_of_scope(format!(
                "Repository `{workspace}/{slug}` is outside this connection's scope: it is \
                     restricted to `{}`. Omit `repo` to use it.",
                only.full_name()
            )));
        }
        if !self.repository_allowed(slug) {
            return Err(ToolError::out_of_scope(format!(
                "Repository `{workspace}/{slug}` is outside this connection's scope (its name does \
                 not match the configured repository pattern). list_repositories shows the \
                 repositories in scope."
            )));
        }
        Ok(RepoRef {
            workspace: self.workspace.clone(),
            slug: slug.to_owned(),
        })
    }

    /// Checks a branch name (given, configured or the repository's main branch) against the scope.
    pub fn check_branch(&self, name: &str) -> ToolResult<()> {
        validate::branch_name(name)?;
        if self.branch_allowed(name) {
            Ok(())
        } else {
            Err(ToolError::out_of_scope(format!(
                "Branch `{}` is outside this connection's scope (it does not match the configured \
                 branch pattern). Name an allowed branch.",
                shorten(name)
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ErrorKind;

    fn scope(repo: Option<&str>, repo_re: Option<&str>, branch_re: Option<&str>) -> Scope {
        Scope::from_settings("acme", repo, repo_re, branch_re).unwrap()
    }

    #[test]
    fn repo_argument_forms() {
        let s = scope(None, None, None);
        assert_eq!(s.repo(Some("widgets")).unwrap().full_name(), "acme/widgets");
        assert_eq!(s.repo(Some("acme/widgets")).unwrap().slug, "widgets");
        assert_eq!(s.repo(None).unwrap_err().kind, ErrorKind::InvalidInput);
        for bad in ["a/b/c", "acme/wid gets", "acme/..", "x?y", "acme/%2e%2e"] {
            assert_eq!(
                s.repo(Some(bad)).unwrap_err().kind,
                ErrorKind::InvalidInput,
                "{bad}"
            );
        }
        assert_eq!(
            s.repo(Some("other/widgets")).unwrap_err().kind,
            ErrorKind::OutOfScope
        );
    }

    #[test]
    fn restricted_repository_is_default_and_only_one() {
        let s = scope(Some("acme/widgets"), None, None);
        assert_eq!(s.repo(None).unwrap().slug, "widgets");
        assert_eq!(
            s.repo(Some("legacy-app")).unwrap_err().kind,
            ErrorKind::OutOfScope
        );
        assert!(s.full_name_allowed("acme/widgets"));
        assert!(!s.full_name_allowed("acme/legacy-app"));
        assert!(!s.full_name_allowed("other/widgets"));
    }

    #[test]
    fn regexes_are_anchored() {
        let s = scope(None, Some("api-.*"), Some("main|release/.*"));
        assert!(s.repository_allowed("api-gateway"));
        assert!(!s.repository_allowed("old-api-gateway"));
        assert_eq!(s.repo(Some("web")).unwrap_err().kind, ErrorKind::OutOfScope);
        assert!(s.check_branch("release/1.0").is_ok());
        assert_eq!(
            s.check_branch("mainline").unwrap_err().kind,
            ErrorKind::OutOfScope
        );
    }

    #[test]
    fn slugs_are_matched_in_lower_case() {
        let s = scope(None, Some("[^s].*"), None);
        assert!(s.repository_allowed("widgets"));
        for hidden in ["secret", "Secret", "SECRET"] {
            assert!(!s.repository_allowed(hidden), "{hidden}");
            assert_eq!(
                s.repo(Some(hidden)).unwrap_err().kind,
                ErrorKind::OutOfScope
            );
            assert!(!s.full_name_allowed(&format!("acme/{hidden}")));
        }
    }

    #[test]
    fn bad_settings_are_config_errors() {
        let e = Scope::from_settings("acme", None, Some("("), None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config);
        assert!(e.message.contains("BITBUCKET_REPOSITORY_REGEX"));
        let e = Scope::from_settings("acme", Some("other/x"), None, None).unwrap_err();
        assert!(e.message.contains("BITBUCKET_WORKSPACE"));
        let e = Scope::from_settings("acme", Some("acme/x"), Some("y.*"), None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config);
    }
}
