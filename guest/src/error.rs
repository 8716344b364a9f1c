//! Tool errors: constructors with guidance, and the mapping from Bitbucket's answers.

use crate::bindings::{ErrorKind, ToolError};
use serde_json::Value;

/// Shorthand for a tool result.
pub type ToolResult<T> = Result<T, ToolError>;

impl ToolError {
    /// An error of `kind` with a message for the user.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ToolError {
            kind,
            message: message.into(),
        }
    }

    /// A missing or malformed argument.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// A configuration problem the operator must fix.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// A request outside the configured scope; nothing was sent.
    pub fn out_of_scope(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::OutOfScope, message)
    }

    /// Bitbucket or the network failed, or answered something unexpected.
    pub fn upstream(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Upstream, message)
    }
}

/// Which endpoint an answer came from, so that a 404 or 403 can be explained precisely.
#[derive(Clone, Debug)]
pub enum Endpoint {
    /// A repository-level resource; the string names what was asked for ("repository acme/x").
    Repository(String),
    /// A file or directory at a ref.
    Source { what: String },
    /// A commit or branch lookup.
    Revision { what: String },
    /// Workspace-wide code search.
    Search,
    /// The Pipelines service.
    Pipelines { repo: String },
    /// The workspace's repository listing.
    Workspace(String),
    /// A unified diff (of a commit or a pull request); the string names it.
    Diff(String),
    /// One pipeline run, its steps or a step's log; `what` names it.
    Pipeline { repo: String, what: String },
}

/// Bitbucket's status for a diff, diffstat or deep listing that timed out (REFERENCE §5, §13):
/// the same request would time out again, so it is never retried.
pub const DIFF_TIMEOUT: u16 = 555;

/// The error for a non-success HTTP status from Bitbucket.
pub fn from_status(status: u16, body: &[u8], endpoint: &Endpoint) -> ToolError {
    let parsed = ErrorBody::parse(body);
    let said = parsed.summary();
    match status {
        401 => ToolError::new(
            ErrorKind::Unauthorized,
            format!(
                "Bitbucket rejected the credentials (401{said}): the token is invalid, expired, \
                 or not supported for this endpoint. Reconnect or refresh the token (an OAuth \
                 access token lasts about two hours; configure BITBUCKET_OAUTH_CLIENT_ID, \
                 BITBUCKET_OAUTH_CLIENT_SECRET and BITBUCKET_OAUTH_REFRESH_TOKEN to refresh it \
                 automatically), or check that an API token is used with the account email."
            ),
        ),
        403 if matches!(endpoint, Endpoint::Search) => ToolError::new(
            ErrorKind::SearchUnavailable,
            format!(
                "Bitbucket refused code search (403{said}). Code search needs a Bitbucket \
                 Standard or Premium plan and credentials that search accepts (an Atlassian API \
                 token with read:repository:bitbucket); browse_repository and read_file still work."
            ),
        ),
        403 => match parsed.required_scopes() {
            Some(required) => ToolError::new(
                ErrorKind::Forbidden,
                format!(
                    "Bitbucket refused the request (403): the credentials lack the scope(s) {}. \
                     Grant them to the token or OAuth consumer and reconnect.",
                    required.join(", ")
                ),
            ),
            None => ToolError::new(
                ErrorKind::Forbidden,
                format!(
                    "Bitbucket refused the request (403{said}): the credentials lack a permission \
                     for {}. Ask a workspace admin for access or use credentials that have it.",
                    endpoint.describe()
                ),
            ),
        },
        404 => match endpoint {
            Endpoint::Search => ToolError::new(
                ErrorKind::SearchUnavailable,
                format!(
                    "Code search is not available (404{said}). Search is not turned on for this \
                     workspace: a workspace admin can turn it on at https://bitbucket.org/search."
                ),
            ),
            // A run that does not exist is not a disabled Pipelines (REFERENCE-REVIEW §6a:
            // the service says which in `detail`).
            Endpoint::Pipeline { repo, what } if !said.contains("enabled") => ToolError::new(
                ErrorKind::NotFound,
                format!(
                    "Not found: {what} of {repo} (404{said}). Use list_pipelines to find the \
                     build numbers of {repo}."
                ),
            ),
            Endpoint::Pipeline { repo, .. } | Endpoint::Pipelines { repo } => ToolError::new(
                ErrorKind::PipelinesUnavailable,
                format!(
                    "Pipelines are not available for {repo} (404{said}): Bitbucket Pipelines is \
                     not enabled for the repository, the repository does not exist, or the \
                     credentials lack the pipeline scope (read:pipeline:bitbucket)."
                ),
            ),
            _ => ToolError::new(
                ErrorKind::NotFound,
                format!(
                    "Not found: {} (404{said}). Check the name and spelling; Bitbucket also \
                     answers 404 for a private repository the credentials cannot see.",
                    endpoint.describe()
                ),
            ),
        },
        400 if matches!(endpoint, Endpoint::Search) => ToolError::invalid_input(format!(
            "Bitbucket could not parse the search query (400{said}). Write plain words or a \
             quoted \"phrase\", optionally with modifiers such as `repo:<slug>` or \
             `path:<dir>`; escape a quote inside a phrase with a backslash."
        )),
        410 if matches!(endpoint, Endpoint::Workspace(_)) => ToolError::invalid_input(format!(
            "Bitbucket no longer serves the repositories of {} (410{said}): the account was \
             deactivated or marked as spam. Check BITBUCKET_WORKSPACE, or ask Atlassian \
             support about the workspace.",
            endpoint.describe()
        )),
        DIFF_TIMEOUT => ToolError::upstream(format!(
            "Bitbucket could not compute {} (HTTP 555{said}: the diff is too large or took too \
             long). Trying again will not help (the connector did not retry): ask without \
             `diff` (the files changed and their line counts still come), or with `path` for \
             one file; list_commits shows the commit's author, date and message.",
            endpoint.describe()
        )),
        429 => ToolError::new(
            ErrorKind::RateLimited,
            "Bitbucket's rate limit was exceeded (429) and retries did not help. Limits apply \
             per hour per user or token; wait a few minutes before trying again, and prefer \
             smaller, more specific requests.",
        ),
        500..=599 => ToolError::upstream(format!(
            "Bitbucket failed with HTTP {status}{said} while reading {}. This is usually \
             temporary: try again in a minute.",
            endpoint.describe()
        )),
        _ => ToolError::upstream(format!(
            "Bitbucket answered HTTP {status}{said} for {}, which the connector did not expect.",
            endpoint.describe()
        )),
    }
}

impl Endpoint {
    fn describe(&self) -> String {
        match self {
            Endpoint::Repository(what) => what.clone(),
            Endpoint::Source { what } | Endpoint::Revision { what } => what.clone(),
            Endpoint::Search => "code search".into(),
            Endpoint::Pipelines { repo } => format!("pipelines of {repo}"),
            Endpoint::Workspace(ws) => format!("workspace {ws}"),
            Endpoint::Diff(what) => what.clone(),
            Endpoint::Pipeline { repo, what } => format!("{what} of {repo}"),
        }
    }
}

/// Bitbucket's error envelope `{"type": "error", "error": {"message", "detail"}}`, where
/// `detail` may be a string or an object.
struct ErrorBody {
    message: Option<String>,
    detail: Option<Value>,
}

impl ErrorBody {
    fn parse(body: &[u8]) -> Self {
        let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let error = &value["error"];
        ErrorBody {
            message: error["message"].as_str().map(str::to_owned),
            detail: Some(error["detail"].clone()).filter(|d| !d.is_null()),
        }
    }

    /// `": <message>"` for inclusion after the status code, shortened and single-line.
    fn summary(&self) -> String {
        let mut text = self.message.clone().unwrap_or_default();
        if let Some(Value::String(detail)) = &self.detail {
            let first = detail.lines().next().unwrap_or("");
            if !first.is_empty() {
                text = format!("{text} ({first})");
            }
        }
        let text: String = text.chars().filter(|c| !c.is_control()).take(300).collect();
        if text.is_empty() {
            String::new()
        } else {
            format!(": {text}")
        }
    }

    fn required_scopes(&self) -> Option<Vec<String>> {
        let required = self.detail.as_ref()?.get("required")?.as_array()?;
        let scopes: Vec<String> = required
            .iter()
            .filter_map(|s| s.as_str())
            .map(|s| s.chars().filter(|c| !c.is_control()).take(80).collect())
            .collect();
        (!scopes.is_empty()).then_some(scopes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> Endpoint {
        Endpoint::Repository("repository acme/widgets".into())
    }

    #[test]
    fn unauthorized_tells_how_to_reconnect() {
        let body = br#"{"type": "error", "error": {"message": "Token is invalid, expired, or not supported for this endpoint."}}"#;
        let e = from_status(401, body, &repo());
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert!(e.message.contains("Reconnect or refresh"));
        assert!(e.message.contains("Token is invalid"));
    }

    #[test]
    fn forbidden_names_required_scopes_from_object_detail() {
        let body = br#"{"type": "error", "error": {"message": "Your credentials lack one or more required privilege scopes.", "detail": {"required": ["pipeline"], "granted": ["repository"]}}}"#;
        let e = from_status(403, body, &repo());
        assert_eq!(e.kind, ErrorKind::Forbidden);
        assert!(e.message.contains("pipeline"), "{}", e.message);
        let generic = from_status(
            403,
            br#"{"type": "error", "error": {"message": "Forbidden"}}"#,
            &repo(),
        );
        assert_eq!(generic.kind, ErrorKind::Forbidden);
        assert!(generic.message.contains("acme/widgets"));
    }

    #[test]
    fn search_and_pipelines_have_their_own_kinds() {
        assert_eq!(
            from_status(404, b"", &Endpoint::Search).kind,
            ErrorKind::SearchUnavailable
        );
        let e = from_status(403, b"", &Endpoint::Search);
        assert_eq!(e.kind, ErrorKind::SearchUnavailable);
        assert!(e.message.contains("Standard or Premium"));
        let p = Endpoint::Pipelines {
            repo: "acme/x".into(),
        };
        assert_eq!(
            from_status(404, b"", &p).kind,
            ErrorKind::PipelinesUnavailable
        );
    }

    #[test]
    fn other_statuses_map_to_their_kinds() {
        let nf = from_status(404, br#"{"type": "error", "error": {"message": "Resource not found", "detail": "There is no API hosted at this URL.\n\nFor information"}}"#, &repo());
        assert_eq!(nf.kind, ErrorKind::NotFound);
        assert!(nf.message.contains("There is no API hosted at this URL."));
        assert!(!nf.message.contains('\n'));
        assert_eq!(
            from_status(429, b"Rate limit", &repo()).kind,
            ErrorKind::RateLimited
        );
        assert_eq!(
            from_status(503, b"<html>", &repo()).kind,
            ErrorKind::Upstream
        );
        assert_eq!(from_status(418, b"", &repo()).kind, ErrorKind::Upstream);
    }

    #[test]
    fn documented_client_errors_are_invalid_input_with_guidance() {
        let bad = from_status(
            400,
            br#"{"type": "error", "error": {"message": "Invalid search query", "data": {"key": "search.query.invalid"}}}"#,
            &Endpoint::Search,
        );
        assert_eq!(bad.kind, ErrorKind::InvalidInput);
        assert!(bad.message.contains("search query"), "{}", bad.message);
        let gone = from_status(
            410,
            br#"{"type": "error", "error": {"message": "This account has been marked as spam"}}"#,
            &Endpoint::Workspace("acme".into()),
        );
        assert_eq!(gone.kind, ErrorKind::InvalidInput);
        assert!(
            gone.message.contains("BITBUCKET_WORKSPACE"),
            "{}",
            gone.message
        );
        let slow = from_status(
            555,
            br#"{"type": "error", "error": {"message": "Timeout"}}"#,
            &repo(),
        );
        assert_eq!(slow.kind, ErrorKind::Upstream);
        assert!(
            slow.message.contains("too large") && !slow.message.contains("try again in a minute")
        );
    }
}
