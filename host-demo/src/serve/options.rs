//! What `host-demo serve` runs with: the listen address, the endpoint's access policy and
//! the limits, from the command line, the config file's `[server]` table and the environment.
//! Every problem here is a configuration error (exit 2): the server never starts open by
//! accident.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use mcp_protocol::http::AccessPolicy;

use crate::config::{ConfigError, FileServer};

/// The server token's environment variable (overrides `server.token`).
pub const TOKEN_VAR: &str = "CONNECTOR_SERVER_TOKEN";
/// Comma-separated allowed hosts (overrides `server.allowed_hosts`).
pub const ALLOWED_HOSTS_VAR: &str = "CONNECTOR_ALLOWED_HOSTS";
/// The shortest server token accepted: anything shorter is guessable.
pub const MIN_TOKEN_CHARS: usize = 16;
/// The listen address when none is given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_MAX_CONCURRENT_CALLS: usize = 64;
pub const DEFAULT_MEMORY_BUDGET_MB: u64 = 2048;
pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long open connections get to finish after SIGTERM before they are cut.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's headers, and then its body.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once; more wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 1024;

/// `serve`'s own command-line arguments.
#[derive(Debug, Default, PartialEq)]
pub struct ServeArgs {
    pub listen: Option<String>,
    pub allow_unauthenticated: bool,
}

impl ServeArgs {
    /// Parses the arguments after `serve`.
    pub fn parse(args: &[String]) -> Result<ServeArgs, String> {
        let mut parsed = ServeArgs::default();
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_str();
            if arg == "--listen" {
                i += 1;
                let value = args
                    .get(i)
                    .ok_or("--listen needs an address, e.g. 127.0.0.1:8080")?;
                parsed.listen = Some(value.clone());
            } else if let Some(value) = arg.strip_prefix("--listen=") {
                parsed.listen = Some(value.to_string());
            } else if arg == "--allow-unauthenticated" {
                parsed.allow_unauthenticated = true;
            } else {
                return Err(format!(
                    "`serve` takes --listen ADDR and --allow-unauthenticated, not `{arg}`"
                ));
            }
            i += 1;
        }
        Ok(parsed)
    }
}

/// Everything `serve` needs besides the component and the connector's settings.
#[derive(Debug)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub policy: AccessPolicy,
    pub max_concurrent_calls: usize,
    pub memory_budget_bytes: usize,
    pub queue_timeout: Duration,
}

/// `127.0.0.1:8080`, `[::1]:8080`, `localhost:8080` or `0.0.0.0:8080`.
fn parse_listen(text: &str) -> Result<SocketAddr, ConfigError> {
    if let Some(port) = text.strip_prefix("localhost:") {
        let port = port
            .parse::<u16>()
            .map_err(|_| ConfigError(format!("--listen `{text}`: the port is not a number")))?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    text.parse::<SocketAddr>().map_err(|_| {
        ConfigError(format!(
            "--listen `{text}` is not an address: give IP:PORT, e.g. 127.0.0.1:8080 or 0.0.0.0:8080"
        ))
    })
}

/// A value that is present must not be blank: a blank token is a templating slip, never
/// "no token".
fn present(name: &str, value: Option<String>) -> Result<Option<String>, ConfigError> {
    match value {
        Some(v) if v.trim().is_empty() => Err(ConfigError(format!(
            "{name} is set but blank: give the server token, or remove the setting"
        ))),
        other => Ok(other.map(|v| v.trim().to_string())),
    }
}

impl ServeOptions {
    /// Resolves the options; `env` looks up the process environment.
    pub fn resolve(
        args: &ServeArgs,
        file: &FileServer,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ServeOptions, ConfigError> {
        let listen = parse_listen(args.listen.as_deref().unwrap_or(DEFAULT_LISTEN))?;
        let token = match present(TOKEN_VAR, env(TOKEN_VAR))? {
            Some(token) => Some(token),
            None => present("server.token", file.token.clone())?,
        };
        if let Some(token) = &token
            && token.chars().count() < MIN_TOKEN_CHARS
        {
            return Err(ConfigError(format!(
                "the server token ({TOKEN_VAR} / server.token) is shorter than {MIN_TOKEN_CHARS} characters: use a long random one, e.g. `openssl rand -hex 32`"
            )));
        }
        match (&token, args.allow_unauthenticated) {
            (None, false) => {
                return Err(ConfigError(format!(
                    "serve needs a server token: set {TOKEN_VAR} or server.token in the config file (clients send it as `Authorization: Bearer TOKEN`); for local testing only, --allow-unauthenticated on a loopback address"
                )));
            }
            (None, true) if !listen.ip().is_loopback() => {
                return Err(ConfigError(format!(
                    "--allow-unauthenticated is only allowed on a loopback address (127.0.0.1, [::1]), not {listen}: set a server token to serve other machines"
                )));
            }
            _ => {}
        }
        let allowed_hosts: Vec<String> =
            match env(ALLOWED_HOSTS_VAR).filter(|v| !v.trim().is_empty()) {
                Some(list) => list.split(',').map(str::to_string).collect(),
                None => file.allowed_hosts.clone().unwrap_or_default(),
            };
        if let Some(bad) = allowed_hosts
            .iter()
            .map(|h| h.trim())
            .find(|h| h.is_empty() || h.contains(['/', '@', ' ', '*']))
        {
            return Err(ConfigError(format!(
                "server.allowed_hosts / {ALLOWED_HOSTS_VAR}: `{bad}` is not a host name (give names like mcp.example.com or mcp.example.com:8443, no scheme, no wildcard)"
            )));
        }
        let max_concurrent_calls = match file.max_concurrent_calls {
            None => DEFAULT_MAX_CONCURRENT_CALLS,
            Some(n @ 1..=4096) => n as usize,
            Some(n) => {
                return Err(ConfigError(format!(
                    "server.max_concurrent_calls must be from 1 to 4096, not {n}"
                )));
            }
        };
        let memory_budget_mb = match file.memory_budget_mb {
            None => DEFAULT_MEMORY_BUDGET_MB,
            Some(n @ 16..=1_048_576) => n,
            Some(n) => {
                return Err(ConfigError(format!(
                    "server.memory_budget_mb must be from 16 to 1048576, not {n}"
                )));
            }
        };
        let queue_timeout = match file.queue_timeout_seconds {
            None => DEFAULT_QUEUE_TIMEOUT,
            Some(n @ 1..=3600) => Duration::from_secs(n),
            Some(n) => {
                return Err(ConfigError(format!(
                    "server.queue_timeout_seconds must be from 1 to 3600, not {n}"
                )));
            }
        };
        // With a token, --allow-unauthenticated changes nothing: the token is required.
        let open = token.is_none() && args.allow_unauthenticated;
        Ok(ServeOptions {
            listen,
            policy: AccessPolicy::new(token, allowed_hosts, open),
            max_concurrent_calls,
            memory_budget_bytes: (memory_budget_mb as usize) << 20,
            queue_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef0123";

    fn args(list: &[&str]) -> ServeArgs {
        ServeArgs::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn resolve(a: &[&str], file: FileServer, env: &[(&str, &str)]) -> Result<ServeOptions, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ServeOptions::resolve(&args(a), &file, |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
        .map_err(|e| e.0)
    }

    #[test]
    fn arguments() {
        assert_eq!(args(&[]), ServeArgs::default());
        assert_eq!(
            args(&["--listen", "0.0.0.0:9000", "--allow-unauthenticated"]),
            ServeArgs {
                listen: Some("0.0.0.0:9000".into()),
                allow_unauthenticated: true
            }
        );
        assert_eq!(
            args(&["--listen=[::1]:1"]).listen.as_deref(),
            Some("[::1]:1")
        );
        for bad in [&["--listen"][..], &["--port", "1"][..], &["extra"][..]] {
            let bad: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
            assert!(ServeArgs::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_token_is_required_unless_unauthenticated_loopback_was_asked_for() {
        let e = resolve(&[], FileServer::default(), &[]).unwrap_err();
        assert!(
            e.contains(TOKEN_VAR) && e.contains("--allow-unauthenticated"),
            "{e}"
        );
        let o = resolve(&[], FileServer::default(), &[(TOKEN_VAR, TOKEN)]).unwrap();
        assert!(o.policy.has_token());
        assert_eq!(o.listen.to_string(), DEFAULT_LISTEN);
        let file = FileServer {
            token: Some(TOKEN.into()),
            ..FileServer::default()
        };
        assert!(
            resolve(&["--listen", "0.0.0.0:8080"], file, &[])
                .unwrap()
                .policy
                .has_token()
        );

        for listen in ["127.0.0.1:0", "[::1]:8080", "localhost:8080"] {
            let o = resolve(
                &["--listen", listen, "--allow-unauthenticated"],
                FileServer::default(),
                &[],
            )
            .unwrap();
            assert!(!o.policy.has_token(), "{listen}");
        }
        for listen in ["0.0.0.0:8080", "192.0.2.1:8080", "[::]:8080"] {
            let e = resolve(
                &["--listen", listen, "--allow-unauthenticated"],
                FileServer::default(),
                &[],
            )
            .unwrap_err();
            assert!(e.contains("loopback"), "{listen}: {e}");
        }
        // A token wins over --allow-unauthenticated.
        let o = resolve(
            &["--allow-unauthenticated"],
            FileServer::default(),
            &[(TOKEN_VAR, TOKEN)],
        )
        .unwrap();
        assert!(o.policy.has_token());
    }

    #[test]
    fn a_blank_or_short_token_is_an_error_and_never_printed() {
        for blank in ["", "   "] {
            let e = resolve(
                &["--allow-unauthenticated"],
                FileServer::default(),
                &[(TOKEN_VAR, blank)],
            )
            .unwrap_err();
            assert!(e.contains("blank"), "{e}");
            let file = FileServer {
                token: Some(blank.into()),
                ..FileServer::default()
            };
            assert!(
                resolve(&["--allow-unauthenticated"], file, &[])
                    .unwrap_err()
                    .contains("blank")
            );
        }
        let e = resolve(&[], FileServer::default(), &[(TOKEN_VAR, "short-secret")]).unwrap_err();
        assert!(e.contains("shorter") && !e.contains("short-secret"), "{e}");
        // The environment overrides the file.
        let file = FileServer {
            token: Some("x".into()),
            ..FileServer::default()
        };
        assert!(resolve(&[], file, &[(TOKEN_VAR, TOKEN)]).is_ok());
    }

    #[test]
    fn hosts_and_limits() {
        let file = FileServer {
            token: Some(TOKEN.into()),
            allowed_hosts: Some(vec!["mcp.example.com".into()]),
            max_concurrent_calls: Some(4),
            memory_budget_mb: Some(512),
            queue_timeout_seconds: Some(5),
        };
        let o = resolve(&[], file.clone(), &[]).unwrap();
        assert_eq!(
            (
                o.max_concurrent_calls,
                o.memory_budget_bytes,
                o.queue_timeout
            ),
            (4, 512 << 20, Duration::from_secs(5))
        );
        assert!(format!("{o:?}").contains("mcp.example.com"));
        assert!(!format!("{o:?}").contains(TOKEN));
        let o = resolve(
            &[],
            file.clone(),
            &[(ALLOWED_HOSTS_VAR, "a.example,b.example:8443")],
        )
        .unwrap();
        assert!(format!("{o:?}").contains("b.example:8443"));
        for bad in ["https://a.example", "*.example", "a b"] {
            let e = resolve(&[], file.clone(), &[(ALLOWED_HOSTS_VAR, bad)]).unwrap_err();
            assert!(e.contains("allowed_hosts"), "{e}");
        }
        for (field, value) in [("max", 0), ("mem", 1), ("queue", 0)] {
            let mut f = file.clone();
            match field {
                "max" => f.max_concurrent_calls = Some(value),
                "mem" => f.memory_budget_mb = Some(value),
                _ => f.queue_timeout_seconds = Some(value),
            }
            assert!(resolve(&[], f, &[]).is_err(), "{field}");
        }
        let o = resolve(
            &[],
            FileServer {
                token: Some(TOKEN.into()),
                ..FileServer::default()
            },
            &[],
        )
        .unwrap();
        assert_eq!(o.max_concurrent_calls, DEFAULT_MAX_CONCURRENT_CALLS);
        assert!(resolve(&["--listen", "nowhere"], file, &[]).is_err());
    }
}
