//! Configuration: the TOML file and the host's environment → the component's environment and
//! the host's own settings (outbound allowlist, deadline, host-side credentials).
//!
//! The component reads only environment variables. It gets exactly the `BITBUCKET_*` names of
//! the contract: first from the file, then overridden by the host process's variables of the
//! same names. Nothing else of the host environment reaches it.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::outbound::{Origin, redact_url};

pub const DEFAULT_API_BASE_URL: &str = "https://api.bitbucket.org/2.0";
pub const DEFAULT_TOKEN_URL: &str = "https://bitbucket.org/site/oauth2/access_token";
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 30;

/// Tells the component that the host adds the credentials to its requests.
pub const CREDENTIALS_FROM_HOST: &str = "BITBUCKET_CREDENTIALS_FROM_HOST";

/// The variables passed to the component (when set), in a stable order.
pub const COMPONENT_VARS: &[&str] = &[
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
];

/// Variables whose values are secrets: never printed.
pub const SECRET_VARS: &[&str] = &[
    "BITBUCKET_TOKEN",
    "BITBUCKET_APP_PASSWORD",
    "BITBUCKET_API_TOKEN",
    "BITBUCKET_OAUTH_CLIENT_SECRET",
    "BITBUCKET_OAUTH_REFRESH_TOKEN",
];

/// Variables the host keeps to itself when it injects the credentials.
const HOST_HELD_VARS: &[&str] = &[
    "BITBUCKET_TOKEN",
    "BITBUCKET_USERNAME",
    "BITBUCKET_APP_PASSWORD",
    "BITBUCKET_API_TOKEN",
    "BITBUCKET_OAUTH_CLIENT_ID",
    "BITBUCKET_OAUTH_CLIENT_SECRET",
    "BITBUCKET_OAUTH_REFRESH_TOKEN",
];

/// The TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    /// The component file, relative to the config file's directory unless absolute.
    component: Option<String>,
    workspace: Option<String>,
    api_base_url: Option<String>,
    credentials: Option<FileCredentials>,
    timeout_seconds: Option<u64>,
    retry_base_ms: Option<u64>,
    default_branch: Option<String>,
    scope: Option<FileScope>,
    server: Option<FileServer>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCredentials {
    token: Option<String>,
    username: Option<String>,
    password: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
    token_url: Option<String>,
    /// `"component"` (default): the component gets the credentials in its environment;
    /// `"host"`: the host keeps them and adds the `Authorization` header itself.
    inject: Option<String>,
}

impl fmt::Debug for FileCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FileCredentials { .. }")
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileScope {
    repository: Option<String>,
    repository_regex: Option<String>,
    branch_regex: Option<String>,
}

/// `[server]`: the settings of `host-demo serve` itself (read by `serve::options`).
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileServer {
    /// The server token (`CONNECTOR_SERVER_TOKEN` overrides it).
    pub token: Option<String>,
    /// Names (or `name:port`) served besides the loopback names.
    pub allowed_hosts: Option<Vec<String>>,
    /// How many tool calls run at once; more wait their turn.
    pub max_concurrent_calls: Option<u64>,
    /// The linear memory all calls in flight may use together, in MiB.
    pub memory_budget_mb: Option<u64>,
    /// How long a call may wait for a free slot before it fails with `timeout`.
    pub queue_timeout_seconds: Option<u64>,
}

impl fmt::Debug for FileServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileServer")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("allowed_hosts", &self.allowed_hosts)
            .field("max_concurrent_calls", &self.max_concurrent_calls)
            .field("memory_budget_mb", &self.memory_budget_mb)
            .field("queue_timeout_seconds", &self.queue_timeout_seconds)
            .finish()
    }
}

/// Credentials the host adds to API requests (host-side injection).
#[derive(Clone)]
pub enum HostCredentials {
    Bearer(String),
    Basic { username: String, password: String },
}

impl HostCredentials {
    /// The `Authorization` header value.
    pub fn header_value(&self) -> String {
        match self {
            HostCredentials::Bearer(token) => format!("Bearer {token}"),
            HostCredentials::Basic { username, password } => {
                format!(
                    "Basic {}",
                    base64(format!("{username}:{password}").as_bytes())
                )
            }
        }
    }
}

impl fmt::Debug for HostCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostCredentials::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            HostCredentials::Basic { username, .. } => {
                write!(f, "Basic({username}:<redacted>)")
            }
        }
    }
}

/// What the host runs the component with.
#[derive(Clone)]
pub struct Settings {
    /// The component's whole environment.
    pub component_env: Vec<(String, String)>,
    /// Where API requests may go.
    pub api_base: Origin,
    /// The API base URL's path (`/2.0`; empty for the root): reads must stay below it.
    pub api_path: String,
    /// Where token refreshes may go.
    pub token_url: Origin,
    /// The token URL's path.
    pub token_path: String,
    /// How long one call may wait on Bitbucket (the component's own timeout).
    pub timeout_seconds: u64,
    /// Set when the host adds the credentials to API requests.
    pub host_credentials: Option<HostCredentials>,
    /// The config file's `component` (made absolute against the file's directory by
    /// [`Settings::load`]).
    pub component: Option<PathBuf>,
    /// The file's `[server]` table, for `serve`.
    pub server: FileServer,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env: Vec<String> = self
            .component_env
            .iter()
            .map(|(k, v)| {
                if SECRET_VARS.contains(&k.as_str()) {
                    format!("{k}=<redacted>")
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        f.debug_struct("Settings")
            .field("component_env", &env)
            .field("api_base", &self.api_base)
            .field("token_url", &self.token_url)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("host_credentials", &self.host_credentials)
            .field("server", &self.server)
            .finish()
    }
}

/// A configuration the host cannot use (exit 2). Never contains a secret.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on" | "host"
    )
}

impl Settings {
    /// Reads the file (if any) and the process environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let text = match file {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                ConfigError(format!(
                    "cannot read the configuration file {}: {e}",
                    path.display()
                ))
            })?),
            None => None,
        };
        let name = file.map(|p| p.display().to_string());
        let mut settings =
            Settings::build(name.as_deref(), text.as_deref(), |k| std::env::var(k).ok())?;
        if let (Some(component), Some(file)) = (&settings.component, file)
            && component.is_relative()
        {
            let dir = file.parent().unwrap_or(Path::new(""));
            settings.component = Some(dir.join(component));
        }
        Ok(settings)
    }

    /// Builds the settings from the file's text and an environment lookup (testable core).
    pub fn build(
        file_name: Option<&str>,
        file_text: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let file: FileConfig = match file_text {
            Some(text) => toml::from_str(text).map_err(|e| {
                // toml's own rendering quotes the offending line, which could show a secret
                // value: name the line and key instead.
                let location = e.span().map(|span| toml_location(text, span.start));
                let location = location.unwrap_or_default();
                // A type error quotes the value: not for a secret key.
                let secret = ["token", "password", "client_secret", "refresh_token"]
                    .iter()
                    .any(|k| location.ends_with(&format!("key `{k}`)")));
                let message = if secret && !e.message().starts_with("unknown field") {
                    "the value must be a quoted string".to_string()
                } else {
                    e.message().trim_end().to_string()
                };
                ConfigError(format!(
                    "invalid configuration file {}{location}: {message}",
                    file_name.unwrap_or(""),
                ))
            })?,
            None => FileConfig::default(),
        };
        let creds = file.credentials.unwrap_or_default();
        let scope = file.scope.unwrap_or_default();
        let component = match file.component.as_deref().map(str::trim) {
            None => None,
            Some("") => {
                return Err(ConfigError(
                    "`component` in the configuration file is empty: give the path of bitbucket_connector.wasm, or remove the key".into(),
                ));
            }
            Some(path) => Some(PathBuf::from(path)),
        };
        let server = file.server.unwrap_or_default();

        // From the file.
        let mut vars: Vec<(&str, Option<String>)> = vec![
            ("BITBUCKET_WORKSPACE", file.workspace),
            ("BITBUCKET_API_BASE_URL", file.api_base_url),
            ("BITBUCKET_TOKEN", creds.token),
            ("BITBUCKET_USERNAME", creds.username),
            ("BITBUCKET_APP_PASSWORD", creds.password),
            ("BITBUCKET_API_TOKEN", None),
            ("BITBUCKET_OAUTH_CLIENT_ID", creds.client_id),
            ("BITBUCKET_OAUTH_CLIENT_SECRET", creds.client_secret),
            ("BITBUCKET_OAUTH_REFRESH_TOKEN", creds.refresh_token),
            ("BITBUCKET_OAUTH_TOKEN_URL", creds.token_url),
            (
                "BITBUCKET_TIMEOUT_SECONDS",
                file.timeout_seconds.map(|t| t.to_string()),
            ),
            (
                "BITBUCKET_RETRY_BASE_MS",
                file.retry_base_ms.map(|t| t.to_string()),
            ),
            ("BITBUCKET_DEFAULT_BRANCH", file.default_branch),
            ("BITBUCKET_REPOSITORY", scope.repository),
            ("BITBUCKET_REPOSITORY_REGEX", scope.repository_regex),
            ("BITBUCKET_BRANCH_REGEX", scope.branch_regex),
        ];
        debug_assert_eq!(vars.len(), COMPONENT_VARS.len());

        // A file value that is blank is refused, as the component refuses a blank variable
        // (`bitbucket_connector::config::Config::from_vars`): one rule on both sides.
        for (name, value) in vars.iter_mut() {
            if let Some(v) = value {
                if v.trim().is_empty() {
                    return Err(ConfigError(format!(
                        "`{}` in the configuration file is blank: give it a value, or remove the key (a missing setting means its default; for a scope setting, no restriction)",
                        file_key(name)
                    )));
                }
                *v = v.trim().to_string();
            }
        }

        // The host environment overrides the file. A variable that is set but blank is
        // refused, never read as "not set": `BITBUCKET_REPOSITORY=" "` must not lift the
        // file's restriction. The password has two names: either one from the environment
        // replaces the file's password.
        let env_value = |k: &str| -> Result<Option<String>, ConfigError> {
            match env(k) {
                None => Ok(None),
                Some(v) if v.trim().is_empty() => Err(ConfigError(format!(
                    "{k} is set but blank: give it a value, or unset it (a missing variable means the config file's value or the default; for a scope setting, no restriction)"
                ))),
                Some(v) => Ok(Some(v.trim().to_string())),
            }
        };
        let env_password = env_value("BITBUCKET_APP_PASSWORD")?.is_some()
            || env_value("BITBUCKET_API_TOKEN")?.is_some();
        for (name, value) in vars.iter_mut() {
            if let Some(v) = env_value(name)? {
                *value = Some(v);
            } else if env_password && (*name == "BITBUCKET_APP_PASSWORD") {
                *value = None;
            }
        }
        let get = |vars: &[(&str, Option<String>)], k: &str| -> Option<String> {
            vars.iter()
                .find(|(n, _)| *n == k)
                .and_then(|(_, v)| v.clone())
        };

        // Host-side settings.
        let api_url = get(&vars, "BITBUCKET_API_BASE_URL")
            .unwrap_or_else(|| DEFAULT_API_BASE_URL.to_string());
        let (api_base, api_path) = Origin::parse(&api_url).map_err(|e| {
            ConfigError(format!(
                "api_base_url / BITBUCKET_API_BASE_URL `{}` is not usable: {e}",
                redact_url(&api_url)
            ))
        })?;
        let token_url_text = get(&vars, "BITBUCKET_OAUTH_TOKEN_URL")
            .unwrap_or_else(|| DEFAULT_TOKEN_URL.to_string());
        let (token_url, token_path) = Origin::parse(&token_url_text).map_err(|e| {
            ConfigError(format!(
                "credentials.token_url / BITBUCKET_OAUTH_TOKEN_URL `{}` is not usable: {e}",
                redact_url(&token_url_text)
            ))
        })?;
        let timeout_seconds = match get(&vars, "BITBUCKET_TIMEOUT_SECONDS") {
            None => DEFAULT_TIMEOUT_SECONDS,
            Some(t) => match t.trim().parse::<u64>() {
                Ok(n) if (1..=3600).contains(&n) => n,
                _ => {
                    return Err(ConfigError(format!(
                        "timeout_seconds / BITBUCKET_TIMEOUT_SECONDS must be a whole number of seconds from 1 to 3600, not `{t}`"
                    )));
                }
            },
        };

        // Host-side credential injection.
        let inject_host = match env_value(CREDENTIALS_FROM_HOST)? {
            Some(v) => truthy(&v),
            None => match creds.inject.as_deref().map(str::trim) {
                None | Some("component") | Some("") => false,
                Some("host") => true,
                Some(other) => {
                    return Err(ConfigError(format!(
                        "credentials.inject must be \"host\" or \"component\", not \"{other}\""
                    )));
                }
            },
        };
        let host_credentials = if inject_host {
            let token = get(&vars, "BITBUCKET_TOKEN");
            let username = get(&vars, "BITBUCKET_USERNAME");
            let password =
                get(&vars, "BITBUCKET_API_TOKEN").or_else(|| get(&vars, "BITBUCKET_APP_PASSWORD"));
            let creds = match (token, username, password) {
                (Some(token), _, _) => HostCredentials::Bearer(token),
                (None, Some(username), Some(password)) => {
                    HostCredentials::Basic { username, password }
                }
                _ => {
                    return Err(ConfigError(
                        "host-side credentials (credentials.inject = \"host\" or BITBUCKET_CREDENTIALS_FROM_HOST) need credentials.token / BITBUCKET_TOKEN, or credentials.username and credentials.password / BITBUCKET_USERNAME and BITBUCKET_APP_PASSWORD (or BITBUCKET_API_TOKEN)"
                            .into(),
                    ));
                }
            };
            for (name, value) in vars.iter_mut() {
                if HOST_HELD_VARS.contains(name) {
                    *value = None;
                }
            }
            Some(creds)
        } else {
            None
        };

        let mut component_env: Vec<(String, String)> = vars
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect();
        if host_credentials.is_some() {
            component_env.push((CREDENTIALS_FROM_HOST.to_string(), "1".to_string()));
        }

        Ok(Settings {
            component_env,
            api_base,
            api_path,
            token_url,
            token_path,
            timeout_seconds,
            host_credentials,
            component,
            server,
        })
    }
}

/// The config file key of an environment variable, for messages.
fn file_key(var: &str) -> &'static str {
    match var {
        "BITBUCKET_WORKSPACE" => "workspace",
        "BITBUCKET_API_BASE_URL" => "api_base_url",
        "BITBUCKET_TOKEN" => "credentials.token",
        "BITBUCKET_USERNAME" => "credentials.username",
        "BITBUCKET_APP_PASSWORD" | "BITBUCKET_API_TOKEN" => "credentials.password",
        "BITBUCKET_OAUTH_CLIENT_ID" => "credentials.client_id",
        "BITBUCKET_OAUTH_CLIENT_SECRET" => "credentials.client_secret",
        "BITBUCKET_OAUTH_REFRESH_TOKEN" => "credentials.refresh_token",
        "BITBUCKET_OAUTH_TOKEN_URL" => "credentials.token_url",
        "BITBUCKET_DEFAULT_BRANCH" => "default_branch",
        "BITBUCKET_REPOSITORY" => "scope.repository",
        "BITBUCKET_REPOSITORY_REGEX" => "scope.repository_regex",
        "BITBUCKET_BRANCH_REGEX" => "scope.branch_regex",
        _ => "?",
    }
}

/// ` (line N, key `k`)` for a byte offset into a TOML text.
fn toml_location(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let line_no = text[..offset].matches('\n').count() + 1;
    let line = text.lines().nth(line_no - 1).unwrap_or("");
    match line.split_once('=') {
        Some((key, _)) if !line.trim_start().starts_with('[') => {
            format!(" (line {line_no}, key `{}`)", key.trim())
        }
        _ => format!(" (line {line_no})"),
    }
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn build(file: Option<&str>, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::build(Some("test.toml"), file, |k| env.get(k).cloned())
    }

    fn env_of(s: &Settings) -> HashMap<&str, &str> {
        s.component_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    const FILE: &str = r#"
workspace = "acme"
api_base_url = "http://127.0.0.1:8089/2.0"
timeout_seconds = 12
default_branch = "develop"

[credentials]
token = "file-token"
username = "bob"
password = "file-pass"
client_id = "cid"
client_secret = "csecret"
refresh_token = "rtok"
token_url = "http://127.0.0.1:8090/token"

[scope]
repository = "acme/widgets"
repository_regex = "^w"
branch_regex = "^(main|develop)$"
"#;

    #[test]
    fn file_keys_map_to_env_names() {
        let s = build(Some(FILE), &[]).unwrap();
        let env = env_of(&s);
        assert_eq!(env["BITBUCKET_WORKSPACE"], "acme");
        assert_eq!(env["BITBUCKET_API_BASE_URL"], "http://127.0.0.1:8089/2.0");
        assert_eq!(env["BITBUCKET_TOKEN"], "file-token");
        assert_eq!(env["BITBUCKET_USERNAME"], "bob");
        assert_eq!(env["BITBUCKET_APP_PASSWORD"], "file-pass");
        assert_eq!(env["BITBUCKET_OAUTH_CLIENT_ID"], "cid");
        assert_eq!(env["BITBUCKET_OAUTH_CLIENT_SECRET"], "csecret");
        assert_eq!(env["BITBUCKET_OAUTH_REFRESH_TOKEN"], "rtok");
        assert_eq!(
            env["BITBUCKET_OAUTH_TOKEN_URL"],
            "http://127.0.0.1:8090/token"
        );
        assert_eq!(env["BITBUCKET_TIMEOUT_SECONDS"], "12");
        assert_eq!(env["BITBUCKET_DEFAULT_BRANCH"], "develop");
        assert_eq!(env["BITBUCKET_REPOSITORY"], "acme/widgets");
        assert_eq!(env["BITBUCKET_REPOSITORY_REGEX"], "^w");
        assert_eq!(env["BITBUCKET_BRANCH_REGEX"], "^(main|develop)$");
        assert_eq!(env.len(), 14);
        assert_eq!(s.timeout_seconds, 12);
        assert_eq!(s.api_base.to_string(), "http://127.0.0.1:8089");
        assert_eq!(s.token_url.to_string(), "http://127.0.0.1:8090");
        assert!(s.host_credentials.is_none());
    }

    #[test]
    fn environment_overrides_file_and_nothing_else_passes() {
        let s = build(
            Some(FILE),
            &[
                ("BITBUCKET_WORKSPACE", "other"),
                ("BITBUCKET_API_TOKEN", "env-api-token"),
                ("HOME", "/root"),
                ("PATH", "/bin"),
                ("BITBUCKET_UNKNOWN", "x"),
            ],
        )
        .unwrap();
        let env = env_of(&s);
        assert_eq!(env["BITBUCKET_WORKSPACE"], "other");
        assert_eq!(env["BITBUCKET_API_TOKEN"], "env-api-token");
        assert!(!env.contains_key("BITBUCKET_APP_PASSWORD"));
        assert_eq!(env["BITBUCKET_DEFAULT_BRANCH"], "develop");
        assert!(!env.contains_key("HOME") && !env.contains_key("PATH"));
        assert!(!env.contains_key("BITBUCKET_UNKNOWN"));
    }

    #[test]
    fn defaults_without_file() {
        let s = build(None, &[("BITBUCKET_WORKSPACE", "w")]).unwrap();
        assert_eq!(
            s.component_env,
            [("BITBUCKET_WORKSPACE".into(), "w".into())]
        );
        assert_eq!(s.api_base.to_string(), "https://api.bitbucket.org:443");
        assert_eq!(s.token_url.to_string(), "https://bitbucket.org:443");
        assert_eq!(s.timeout_seconds, DEFAULT_TIMEOUT_SECONDS);
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = build(Some("workspace = \"a\"\nwork_space = \"b\"\n"), &[]).unwrap_err();
        assert!(e.0.contains("work_space"), "{e}");
        let e = build(Some("[credentials]\ntokn = \"secret-value\"\n"), &[]).unwrap_err();
        assert!(e.0.contains("tokn"), "{e}");
        assert!(!e.0.contains("secret-value"), "{e}");
        let e = build(Some("[scope]\nbranch = \"x\"\n"), &[]).unwrap_err();
        assert!(e.0.contains("branch"), "{e}");
    }

    #[test]
    fn bad_values_are_rejected_without_secrets() {
        let e = build(None, &[("BITBUCKET_TIMEOUT_SECONDS", "soon")]).unwrap_err();
        assert!(e.0.contains("BITBUCKET_TIMEOUT_SECONDS"), "{e}");
        let e = build(None, &[("BITBUCKET_API_BASE_URL", "ftp://x")]).unwrap_err();
        assert!(e.0.contains("BITBUCKET_API_BASE_URL"), "{e}");
        let e = build(Some("[credentials]\ntoken = 57319\n"), &[]).unwrap_err();
        assert!(e.0.contains("token") && !e.0.contains("57319"), "{e}");
        let e = build(Some("[credentials]\npassword = [\"hunter2\"]\n"), &[]).unwrap_err();
        assert!(e.0.contains("password") && !e.0.contains("hunter2"), "{e}");
        let e = build(Some("timeout_seconds = \"10\"\n"), &[]).unwrap_err();
        assert!(e.0.contains("timeout_seconds"), "{e}");
    }

    #[test]
    fn host_side_credentials() {
        let s = build(Some(FILE), &[("BITBUCKET_CREDENTIALS_FROM_HOST", "1")]).unwrap();
        let env = env_of(&s);
        for held in HOST_HELD_VARS {
            assert!(!env.contains_key(held), "{held} must stay in the host");
        }
        assert_eq!(env["BITBUCKET_CREDENTIALS_FROM_HOST"], "1");
        assert_eq!(env["BITBUCKET_WORKSPACE"], "acme");
        let creds = s.host_credentials.as_ref().unwrap();
        assert_eq!(creds.header_value(), "Bearer file-token");
        assert!(!format!("{creds:?} {s:?}").contains("file-token"));

        let basic = build(
            Some("[credentials]\ninject = \"host\"\nusername = \"u\"\npassword = \"p\"\n"),
            &[],
        )
        .unwrap();
        assert_eq!(
            basic.host_credentials.unwrap().header_value(),
            format!("Basic {}", base64(b"u:p"))
        );
        let e = build(Some("[credentials]\ninject = \"host\"\n"), &[]).unwrap_err();
        assert!(e.0.contains("host-side credentials"), "{e}");
        let e = build(Some("[credentials]\ninject = \"hots\"\n"), &[]).unwrap_err();
        assert!(e.0.contains("credentials.inject"), "{e}");
    }

    #[test]
    fn blank_values_are_refused_never_unset() {
        for name in COMPONENT_VARS.iter().chain([&CREDENTIALS_FROM_HOST]) {
            for blank in ["", " ", "\t"] {
                let e = build(Some(FILE), &[(name, blank)]).unwrap_err();
                assert!(e.0.contains(name) && e.0.contains("blank"), "{e}");
            }
        }
        let e = build(Some("[scope]\nrepository = \"  \"\n"), &[]).unwrap_err();
        assert!(e.0.contains("scope.repository"), "{e}");
        let e = build(Some("[credentials]\ntoken = \"\"\n"), &[]).unwrap_err();
        assert!(e.0.contains("credentials.token"), "{e}");
        // Real values are trimmed before the component sees them.
        let s = build(None, &[("BITBUCKET_WORKSPACE", " acme\n")]).unwrap();
        assert_eq!(env_of(&s)["BITBUCKET_WORKSPACE"], "acme");
    }

    #[test]
    fn url_errors_show_no_userinfo_or_query() {
        for var in ["BITBUCKET_API_BASE_URL", "BITBUCKET_OAUTH_TOKEN_URL"] {
            for url in [
                "https://user:hunter2@api.example/2.0",
                "ftp://hunter2@x/",
                "https://api.example:99999/2.0?sig=hunter2",
                "htp:/hunter2@api.example?x=hunter2",
            ] {
                let e = build(None, &[(var, url)]).unwrap_err();
                assert!(e.0.contains(var), "{e}");
                assert!(!e.0.contains("hunter2"), "{e}");
            }
        }
    }

    #[test]
    fn debug_redacts_secrets() {
        let s = build(Some(FILE), &[]).unwrap();
        let text = format!("{s:?}");
        for secret in ["file-token", "file-pass", "csecret", "rtok"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("acme"));
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"user@x.com:tok"), "dXNlckB4LmNvbTp0b2s=");
    }
}
