//! The connection's configuration, read from environment variables (CONTRACT.md,
//! "Configuration"). Tool arguments never change it.

use crate::bindings::ToolError;
use crate::encoding::base64;
use crate::error::ToolResult;
use crate::scope::Scope;

/// Every environment variable the component reads, in the contract's order. Hosts pass
/// exactly these (host-demo's pass-through list and the Spin variables are checked against it).
pub const VARIABLES: &[&str] = &[
    "BITBUCKET_WORKSPACE",
    "BITBUCKET_API_BASE_URL",
    "BITBUCKET_TOKEN",
    "BITBUCKET_USERNAME",
    "BITBUCKET_APP_PASSWORD",
    "BITBUCKET_API_TOKEN",
    "BITBUCKET_OAUTH_CLIENT_ID",
    "BITBUCKET_OAUTH_CLIENT_SECRET",
    "BITBUCKET_OAUTH_REFRESH_TOKEN",
    "BITBUCKET_OAUTH_TOKEN_URL",
    "BITBUCKET_TIMEOUT_SECONDS",
    "BITBUCKET_RETRY_BASE_MS",
    "BITBUCKET_DEFAULT_BRANCH",
    "BITBUCKET_REPOSITORY",
    "BITBUCKET_REPOSITORY_REGEX",
    "BITBUCKET_BRANCH_REGEX",
    "BITBUCKET_CREDENTIALS_FROM_HOST",
];

/// Whether a flag's value means "on" (`1`, `true`, `yes`, `on`, `host`; any case), as
/// host-demo reads `BITBUCKET_CREDENTIALS_FROM_HOST`.
pub fn truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on" | "host"
    )
}

/// The default API base URL.
pub const DEFAULT_API_BASE_URL: &str = "https://api.bitbucket.org/2.0";
/// The default OAuth 2.0 token URL.
pub const DEFAULT_TOKEN_URL: &str = "https://bitbucket.org/site/oauth2/access_token";
/// The default first wait before retrying a rate-limited request.
pub const DEFAULT_RETRY_BASE_MS: u64 = 1000;
/// The default time one call may wait on Bitbucket.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 30;

/// Everything a tool call needs to know about its connection.
#[derive(Clone, Debug)]
pub struct Config {
    /// The workspace slug every request is confined to.
    pub workspace: String,
    /// Where the REST API lives.
    pub api: BaseUrl,
    /// How requests are authenticated.
    pub auth: Auth,
    /// Lets an expired OAuth access token be refreshed once per call.
    pub refresh: Option<OAuthRefresh>,
    /// How long to wait on Bitbucket (connect, first byte, between bytes), in seconds.
    pub timeout_seconds: u64,
    /// The first wait before retrying a 429, in milliseconds (later waits double).
    pub retry_base_ms: u64,
    /// The branch used when a call names none.
    pub default_branch: Option<String>,
    /// What the agent may see.
    pub scope: Scope,
}

/// The credentials sent with every request.
#[derive(Clone)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic <base64(user:password)>`.
    Basic(String),
    /// The host adds the `Authorization` header; the component holds no secret.
    FromHost,
}

impl Auth {
    /// The `Authorization` header value, if the component sends one.
    pub fn header(&self) -> Option<String> {
        match self {
            Auth::Bearer(token) => Some(format!("Bearer {token}")),
            Auth::Basic(encoded) => Some(format!("Basic {encoded}")),
            Auth::FromHost => None,
        }
    }
}

// Secrets must never reach output, so Debug shows only the kind of credential.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::Bearer(_) => "Bearer(<redacted>)",
            Auth::Basic(_) => "Basic(<redacted>)",
            Auth::FromHost => "FromHost",
        })
    }
}

/// OAuth 2.0 refresh-token grant settings.
#[derive(Clone)]
pub struct OAuthRefresh {
    /// The token endpoint.
    pub token_url: BaseUrl,
    /// `Basic base64(client_id:client_secret)`.
    pub client_basic: String,
    /// The refresh token.
    pub refresh_token: String,
}

impl std::fmt::Debug for OAuthRefresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthRefresh")
            .field("token_url", &self.token_url)
            .finish_non_exhaustive()
    }
}

/// A parsed `http(s)://authority/path` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl {
    /// `true` for https.
    pub https: bool,
    /// `host[:port]`.
    pub authority: String,
    /// The path without a trailing slash (`/2.0`, or empty).
    pub path: String,
}

impl BaseUrl {
    /// Parses an absolute http(s) URL without query or fragment.
    pub fn parse(url: &str, setting: &str) -> ToolResult<Self> {
        let bad = |why: &str| {
            ToolError::config(format!(
                "{setting} must be an absolute http(s) URL such as {DEFAULT_API_BASE_URL} ({why})."
            ))
        };
        let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(bad("it does not start with https:// or http://"));
        };
        if rest.contains(['?', '#', '@', ' ']) {
            return Err(bad(
                "it may not contain a query, fragment, user info or spaces",
            ));
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let path = path.trim_matches('/');
        if authority.is_empty() {
            return Err(bad("it has no host"));
        }
        Ok(BaseUrl {
            https,
            authority: authority.to_owned(),
            path: if path.is_empty() {
                String::new()
            } else {
                format!("/{path}")
            },
        })
    }

    /// `scheme://authority` + `path`, for messages and `next` links.
    pub fn origin(&self) -> String {
        format!(
            "{}://{}",
            if self.https { "https" } else { "http" },
            self.authority
        )
    }
}

/// The error for a setting that is present but blank.
pub fn blank_setting(name: &str) -> ToolError {
    ToolError::config(format!(
        "{name} is set but blank. Give it a value, or remove it altogether (a missing setting \
         means its default; for a scope setting, no restriction). A blank value is refused so \
         that a mis-templated setting cannot silently lift a restriction."
    ))
}

impl Config {
    /// Reads the configuration through `var` (the process environment in the component).
    ///
    /// Every value is read one way (host-demo reads its own the same way): surrounding
    /// whitespace is trimmed, and a variable that is set but blank (empty or only
    /// whitespace) is a `config` error, never "not set", so that a mis-templated
    /// `BITBUCKET_REPOSITORY=" "` cannot lift a restriction. A variable that is missing
    /// means its default: for a scope setting, no restriction.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> ToolResult<Config> {
        if let Some(name) = VARIABLES
            .iter()
            .find(|name| var(name).is_some_and(|v| v.trim().is_empty()))
        {
            return Err(blank_setting(name));
        }
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let workspace = get("BITBUCKET_WORKSPACE").ok_or_else(|| {
            ToolError::config(
                "No workspace is configured: set BITBUCKET_WORKSPACE (config key `workspace`) to \
                 the workspace slug, as in https://bitbucket.org/<workspace>/.",
            )
        })?;
        if !crate::validate::is_slug(&workspace) {
            return Err(ToolError::config(
                "BITBUCKET_WORKSPACE is not a Bitbucket workspace slug (letters, digits, `-`, `_`, `.`).",
            ));
        }
        let api = BaseUrl::parse(
            get("BITBUCKET_API_BASE_URL")
                .as_deref()
                .unwrap_or(DEFAULT_API_BASE_URL),
            "BITBUCKET_API_BASE_URL",
        )?;

        let password = get("BITBUCKET_API_TOKEN").or_else(|| get("BITBUCKET_APP_PASSWORD"));
        let from_host =
            get("BITBUCKET_CREDENTIALS_FROM_HOST").is_some_and(|v| crate::config::truthy(&v));
        let auth = match (get("BITBUCKET_TOKEN"), get("BITBUCKET_USERNAME"), password) {
            _ if from_host => Auth::FromHost,
            (Some(token), _, _) => Auth::Bearer(token),
            (None, Some(user), Some(password)) => {
                Auth::Basic(base64(format!("{user}:{password}").as_bytes()))
            }
            (None, Some(_), None) => {
                return Err(ToolError::config(
                    "BITBUCKET_USERNAME is set but no password: set BITBUCKET_API_TOKEN (an \
                     Atlassian API token, with your Atlassian account email as the username).",
                ));
            }
            (None, None, Some(_)) => {
                return Err(ToolError::config(
                    "An API token or app password is set but BITBUCKET_USERNAME is not: set it to \
                     your Atlassian account email (for API tokens).",
                ));
            }
            (None, None, None) => {
                return Err(ToolError::config(
                    "No credentials are configured: set BITBUCKET_TOKEN (an OAuth 2.0 access token \
                     or a workspace, project or repository access token), or BITBUCKET_USERNAME \
                     (your Atlassian account email) with BITBUCKET_API_TOKEN.",
                ));
            }
        };

        let refresh = match (
            get("BITBUCKET_OAUTH_CLIENT_ID"),
            get("BITBUCKET_OAUTH_CLIENT_SECRET"),
            get("BITBUCKET_OAUTH_REFRESH_TOKEN"),
        ) {
            (Some(id), Some(secret), Some(refresh_token)) => Some(OAuthRefresh {
                token_url: BaseUrl::parse(
                    get("BITBUCKET_OAUTH_TOKEN_URL")
                        .as_deref()
                        .unwrap_or(DEFAULT_TOKEN_URL),
                    "BITBUCKET_OAUTH_TOKEN_URL",
                )?,
                client_basic: base64(format!("{id}:{secret}").as_bytes()),
                refresh_token,
            }),
            (None, None, None) => None,
            _ => {
                return Err(ToolError::config(
                    "OAuth refresh needs all three of BITBUCKET_OAUTH_CLIENT_ID, \
                     BITBUCKET_OAUTH_CLIENT_SECRET and BITBUCKET_OAUTH_REFRESH_TOKEN; set the \
                     missing ones or remove the others.",
                ));
            }
        };

        let timeout_seconds = match get("BITBUCKET_TIMEOUT_SECONDS") {
            None => DEFAULT_TIMEOUT_SECONDS,
            Some(text) => text.parse::<u64>().ok().filter(|s| (1..=3600).contains(s)).ok_or_else(|| {
                ToolError::config("BITBUCKET_TIMEOUT_SECONDS must be a whole number of seconds from 1 to 3600.")
            })?,
        };

        let retry_base_ms = match get("BITBUCKET_RETRY_BASE_MS") {
            None => DEFAULT_RETRY_BASE_MS,
            Some(text) => text.parse::<u64>().ok().filter(|ms| *ms <= 60_000).ok_or_else(|| {
                ToolError::config("BITBUCKET_RETRY_BASE_MS must be a whole number of milliseconds from 0 to 60000.")
            })?,
        };

        let default_branch = get("BITBUCKET_DEFAULT_BRANCH");
        if let Some(branch) = &default_branch {
            crate::validate::branch_name(branch).map_err(|_| {
                ToolError::config("BITBUCKET_DEFAULT_BRANCH is not a valid branch name.")
            })?;
        }

        let scope = Scope::from_settings(
            &workspace,
            get("BITBUCKET_REPOSITORY").as_deref(),
            get("BITBUCKET_REPOSITORY_REGEX").as_deref(),
            get("BITBUCKET_BRANCH_REGEX").as_deref(),
        )?;
        if let (Some(branch), Some(_)) = (&default_branch, &scope.branch_regex)
            && !scope.branch_allowed(branch)
        {
            return Err(ToolError::config(format!(
                "BITBUCKET_DEFAULT_BRANCH `{branch}` does not match BITBUCKET_BRANCH_REGEX; \
                     change one of them."
            )));
        }

        Ok(Config {
            workspace,
            api,
            auth,
            refresh,
            timeout_seconds,
            retry_base_ms,
            default_branch,
            scope,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ErrorKind;
    use std::collections::BTreeMap;

    fn config(pairs: &[(&str, &str)]) -> ToolResult<Config> {
        let vars: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn bearer_token_and_defaults() {
        let c = config(&[("BITBUCKET_WORKSPACE", "acme"), ("BITBUCKET_TOKEN", "tok")]).unwrap();
        assert_eq!(c.workspace, "acme");
        assert_eq!(c.api.authority, "api.bitbucket.org");
        assert_eq!(c.api.path, "/2.0");
        assert!(c.api.https);
        assert_eq!(c.auth.header().as_deref(), Some("Bearer tok"));
        assert_eq!(c.timeout_seconds, 30);
        assert!(c.refresh.is_none());
    }

    #[test]
    fn basic_credentials_from_email_and_api_token() {
        let c = config(&[
            ("BITBUCKET_WORKSPACE", "acme"),
            ("BITBUCKET_USERNAME", "me@example.com"),
            ("BITBUCKET_API_TOKEN", "secret"),
        ])
        .unwrap();
        assert_eq!(
            c.auth.header().unwrap(),
            format!("Basic {}", base64(b"me@example.com:secret"))
        );
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn missing_pieces_are_config_errors_that_name_the_setting() {
        let e = config(&[("BITBUCKET_TOKEN", "t")]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config);
        assert!(e.message.contains("BITBUCKET_WORKSPACE"));
        let e = config(&[("BITBUCKET_WORKSPACE", "acme")]).unwrap_err();
        assert!(e.message.contains("No credentials"));
        let e =
            config(&[("BITBUCKET_WORKSPACE", "acme"), ("BITBUCKET_USERNAME", "u")]).unwrap_err();
        assert!(e.message.contains("BITBUCKET_API_TOKEN"));
        let e = config(&[
            ("BITBUCKET_WORKSPACE", "acme"),
            ("BITBUCKET_TOKEN", "t"),
            ("BITBUCKET_OAUTH_CLIENT_ID", "id"),
        ])
        .unwrap_err();
        assert!(e.message.contains("BITBUCKET_OAUTH_REFRESH_TOKEN"));
        let e = config(&[
            ("BITBUCKET_WORKSPACE", "acme"),
            ("BITBUCKET_TOKEN", "t"),
            ("BITBUCKET_TIMEOUT_SECONDS", "0"),
        ])
        .unwrap_err();
        assert!(e.message.contains("BITBUCKET_TIMEOUT_SECONDS"));
        let e = config(&[
            ("BITBUCKET_WORKSPACE", "acme"),
            ("BITBUCKET_TOKEN", "t"),
            ("BITBUCKET_API_BASE_URL", "ftp://x"),
        ])
        .unwrap_err();
        assert!(e.message.contains("BITBUCKET_API_BASE_URL"));
    }

    #[test]
    fn reads_exactly_the_listed_variables() {
        let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
        let _ = Config::from_vars(|name| {
            asked.borrow_mut().insert(name.to_owned());
            match name {
                "BITBUCKET_WORKSPACE" => Some("acme".into()),
                // No API token, so the app password is asked for too.
                "BITBUCKET_TOKEN" | "BITBUCKET_USERNAME" | "BITBUCKET_APP_PASSWORD" => {
                    Some("x".into())
                }
                "BITBUCKET_OAUTH_CLIENT_ID"
                | "BITBUCKET_OAUTH_CLIENT_SECRET"
                | "BITBUCKET_OAUTH_REFRESH_TOKEN" => Some("x".into()),
                _ => None,
            }
        })
        .unwrap();
        let listed: std::collections::BTreeSet<String> =
            VARIABLES.iter().map(|v| v.to_string()).collect();
        assert_eq!(*asked.borrow(), listed);
    }

    #[test]
    fn base_url_parsing() {
        let u = BaseUrl::parse("http://127.0.0.1:8080/2.0/", "X").unwrap();
        assert_eq!(
            (u.https, u.authority.as_str(), u.path.as_str()),
            (false, "127.0.0.1:8080", "/2.0")
        );
        assert_eq!(u.origin(), "http://127.0.0.1:8080");
        let root = BaseUrl::parse("https://example.com", "X").unwrap();
        assert_eq!(root.path, "");
        assert!(BaseUrl::parse("https://user@host/", "X").is_err());
        assert!(BaseUrl::parse("https:///x", "X").is_err());
    }

    #[test]
    fn a_blank_setting_is_a_config_error_naming_it() {
        for name in VARIABLES {
            for blank in ["", " ", "\t \n"] {
                let mut pairs = vec![("BITBUCKET_WORKSPACE", "acme"), ("BITBUCKET_TOKEN", "t")];
                pairs.retain(|(k, _)| k != name);
                pairs.push((name, blank));
                let e = config(&pairs).unwrap_err();
                assert_eq!(e.kind, ErrorKind::Config, "{name}={blank:?}");
                assert!(e.message.contains(name), "{}", e.message);
            }
        }
        // Surrounding whitespace of a real value is trimmed.
        let c = config(&[
            ("BITBUCKET_WORKSPACE", " acme "),
            ("BITBUCKET_TOKEN", "t"),
            ("BITBUCKET_REPOSITORY", " acme/widgets\n"),
        ])
        .unwrap();
        assert_eq!(c.scope.repository.unwrap().slug, "widgets");
    }

    #[test]
    fn url_settings_are_not_echoed() {
        for url in [
            "https://user:hunter2@api.example/2.0",
            "https://api.example/2.0?sig=hunter2",
            "ftp://hunter2@x/",
        ] {
            let e = config(&[
                ("BITBUCKET_WORKSPACE", "acme"),
                ("BITBUCKET_TOKEN", "t"),
                ("BITBUCKET_API_BASE_URL", url),
            ])
            .unwrap_err();
            assert!(!e.message.contains("hunter2"), "{}", e.message);
        }
    }

    #[test]
    fn oauth_refresh_needs_all_three() {
        let c = config(&[
            ("BITBUCKET_WORKSPACE", "acme"),
            ("BITBUCKET_TOKEN", "t"),
            ("BITBUCKET_OAUTH_CLIENT_ID", "id"),
            ("BITBUCKET_OAUTH_CLIENT_SECRET", "cs"),
            ("BITBUCKET_OAUTH_REFRESH_TOKEN", "rt"),
        ])
        .unwrap();
        let r = c.refresh.unwrap();
        assert_eq!(r.token_url.authority, "bitbucket.org");
        assert_eq!(r.client_basic, base64(b"id:cs"));
    }
}
