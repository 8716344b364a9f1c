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
#[path = "config_tests.rs"]
mod tests;
