//! The Bitbucket connector's tools as a Spin HTTP component (`wasi:http/incoming-handler`
//! 0.2, built with spin-sdk 5.2).
//!
//! Routes: `POST /mcp` (MCP Streamable HTTP, JSON responses), `GET /tools` and
//! `POST /tools/{name}` (the JSON API). The routes and the endpoint's access rules (server
//! token, allowed `Host` and `Origin`, body cap) are `mcp_protocol::http`, the same code
//! `host-demo serve` runs; this crate adds where the settings come from (Spin variables, see
//! [`access_policy`]) and the wasi:http glue.
//!
//! The tools are the `bitbucket-connector` library linked in (without its own export), run
//! with a configuration read from Spin variables and sending through wasi:http. Everything but
//! the `component` module is plain Rust, unit-tested natively.

use mcp_protocol::http::AccessPolicy;
use mcp_protocol::{CallOutcome, ToolSpec};
use serde_json::Value;

/// The tool list rendered from `wit/connector.wit` by `build.rs`.
const TOOLS_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/tools.json"));

/// The tools (name, description, input schema), in WIT order.
pub fn embedded_tools() -> Vec<ToolSpec> {
    let list: Value = serde_json::from_str(TOOLS_JSON).expect("build.rs writes valid JSON");
    list.as_array()
        .expect("build.rs writes an array")
        .iter()
        .map(|t| ToolSpec::from_json(t).expect("build.rs writes complete tools"))
        .collect()
}

/// The settings read from Spin variables: the connector's variables, each from the Spin
/// variable of the same name in lower case (`BITBUCKET_WORKSPACE` → `bitbucket_workspace`),
/// except `BITBUCKET_CREDENTIALS_FROM_HOST`: Spin does not add credentials to outbound
/// requests, so the component always sends them itself.
pub fn settings() -> impl Iterator<Item = &'static str> {
    bitbucket_connector::config::VARIABLES
        .iter()
        .copied()
        .filter(|name| *name != "BITBUCKET_CREDENTIALS_FROM_HOST")
}

/// The Spin variable that holds the setting `name`, if it is one of [`settings`].
pub fn spin_variable(name: &str) -> Option<String> {
    settings()
        .any(|s| s == name)
        .then(|| name.to_ascii_lowercase())
}

/// The Spin variables of the endpoint itself (not passed to the tools).
pub const SERVER_VARIABLES: [&str; 3] = [
    "server_token",
    "server_allowed_hosts",
    "server_allow_unauthenticated",
];

/// The endpoint's access rules from the Spin variables: `server_token` (a secret; blank
/// means none), `server_allowed_hosts` (comma-separated names, or `name:port`, that may
/// appear in `Host` and `Origin` besides the loopback names) and
/// `server_allow_unauthenticated` (`true`: serve loopback requests without a token when no
/// token is set). The rules themselves are `mcp_protocol::http`, the same as `host-demo serve`.
pub fn access_policy(var: impl Fn(&str) -> Option<String>) -> AccessPolicy {
    let token = var("server_token").filter(|t| !t.trim().is_empty());
    let hosts = var("server_allowed_hosts").unwrap_or_default();
    let open = var("server_allow_unauthenticated")
        .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"));
    AccessPolicy::new(
        token.map(|t| t.trim().to_string()),
        hosts.split(',').map(str::to_string),
        open,
    )
}

/// Whether the client is on a loopback address, from the `spin-client-addr` header Spin
/// sets (`None` when the host sets none; unreadable counts as remote).
pub fn peer_is_loopback(client_addr: Option<&str>) -> Option<bool> {
    client_addr.map(|addr| {
        addr.trim()
            .parse::<std::net::SocketAddr>()
            .is_ok_and(|a| a.ip().is_loopback())
    })
}

/// Turns the library's result into an outcome.
pub fn outcome(result: Result<Value, Value>) -> CallOutcome {
    match result {
        Ok(value) => CallOutcome::Success(value),
        Err(error) => {
            let field = |key: &str| {
                error
                    .pointer(&format!("/error/{key}"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            CallOutcome::ToolError {
                kind: field("kind"),
                message: field("message"),
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod component {
    //! The Spin entry point: configuration from Spin variables, outbound HTTP through
    //! wasi:http (Spin applies `allowed_outbound_hosts`), the tools from the linked library.

    use bitbucket_connector::config::Config;
    use bitbucket_connector::json;
    use bitbucket_connector::tools::Ctx;
    use bitbucket_connector::wasi_http::WasiHttp;
    use futures::StreamExt;
    use mcp_protocol::http::{Answer, MAX_BODY_BYTES, RequestHead};
    use mcp_protocol::{BoxFuture, CallOutcome, ToolBackend, ToolSpec};
    use serde_json::Value;
    use spin_sdk::http::{IncomingRequest, Method, Response};
    use spin_sdk::http_component;

    /// A fresh backend per request: Spin gives every request a fresh instance anyway.
    struct SpinBackend {
        tools: Vec<ToolSpec>,
    }

    fn variable(name: &str) -> Option<String> {
        spin_sdk::variables::get(name).ok()
    }

    impl SpinBackend {
        fn run(&self, name: &str, args: &Value) -> CallOutcome {
            // A Spin variable cannot be unset: spin.toml declares each with the default "",
            // which means "not set". Anything else blank (" ") is refused by the connector.
            let var = |name: &str| variable(&super::spin_variable(name)?).filter(|v| !v.is_empty());
            let config = match Config::from_vars(var) {
                Ok(config) => config,
                Err(error) => return super::outcome(Err(json::error_json(&error))),
            };
            let transport = WasiHttp {
                timeout_ns: config.timeout_seconds * 1_000_000_000,
            };
            let ctx = Ctx::new(&config, &transport);
            let empty = serde_json::Map::new();
            let args = args.as_object().unwrap_or(&empty);
            super::outcome(json::call(&ctx, name, args).map_err(|e| json::error_json(&e)))
        }
    }

    impl ToolBackend for SpinBackend {
        fn tools(&self) -> &[ToolSpec] {
            &self.tools
        }

        fn call_tool<'a>(
            &'a self,
            name: &'a str,
            args: &'a Value,
        ) -> BoxFuture<'a, Result<CallOutcome, String>> {
            let outcome = self.run(name, args);
            Box::pin(async move { Ok(outcome) })
        }
    }

    fn method_name(method: &Method) -> String {
        method.to_string()
    }

    fn response(answer: Answer) -> Response {
        let mut response = Response::builder();
        response.status(answer.status);
        for (name, value) in &answer.headers {
            response.header(*name, value.as_str());
        }
        response.body(answer.body).build()
    }

    /// Reads the body, refusing more than [`MAX_BODY_BYTES`] (a chunked body has no
    /// `Content-Length` for `admit` to check).
    async fn read_body(req: IncomingRequest) -> Result<Vec<u8>, Answer> {
        let mut stream = req.into_body_stream();
        let mut body = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| {
                Answer::error(400, "invalid_input", "the request body could not be read")
            })?;
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(Answer::too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    #[http_component]
    async fn handle(req: IncomingRequest) -> Response {
        let headers: Vec<(String, String)> = req
            .headers()
            .entries()
            .into_iter()
            .filter_map(|(name, value)| {
                Some((name.to_ascii_lowercase(), String::from_utf8(value).ok()?))
            })
            .collect();
        // wasi:http drops the `Host` header and gives the authority instead (from `Host`).
        let authority = req.authority();
        let header = |name: &str| -> Option<String> {
            if name == "host" {
                return authority.clone();
            }
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let path_and_query = req.path_with_query().unwrap_or_default();
        let path = path_and_query
            .split_once('?')
            .map_or(path_and_query.as_str(), |(p, _)| p);
        let method = method_name(&req.method());
        let head = RequestHead {
            method: &method,
            path,
            header: &header,
            peer_is_loopback: super::peer_is_loopback(header("spin-client-addr").as_deref()),
        };
        if let Err(refused) = super::access_policy(variable).admit(&head) {
            return response(refused);
        }
        let body = match read_body(req).await {
            Ok(body) => body,
            Err(refused) => return response(refused),
        };
        let backend = SpinBackend {
            tools: super::embedded_tools(),
        };
        response(mcp_protocol::http::route(&head, &body, &backend).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_protocol::http::RequestHead;
    use std::collections::HashMap;

    #[test]
    fn the_embedded_tools_are_the_catalogue() {
        let catalog = mcp_protocol::schema::Catalog::embedded().unwrap();
        assert_eq!(embedded_tools(), catalog.specs());
        assert_eq!(
            mcp_protocol::tools_json(&embedded_tools()),
            catalog.tools_json()
        );
    }

    /// What `admit` says for a request with these headers under these variables.
    fn admitted(vars: &[(&str, &str)], headers: &[(&str, &str)]) -> Result<(), u16> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let headers: HashMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let header = |name: &str| headers.get(name).cloned();
        let head = RequestHead {
            method: "POST",
            path: "/tools/read_file",
            header: &header,
            peer_is_loopback: peer_is_loopback(header("spin-client-addr").as_deref()),
        };
        access_policy(|k| vars.get(k).cloned())
            .admit(&head)
            .map_err(|a| a.status)
    }

    #[test]
    fn the_access_rules_come_from_the_server_variables() {
        let token = [
            ("server_token", "tok-123"),
            ("server_allowed_hosts", " mcp.example.com , ,x.org:8443"),
        ];
        let local = [
            ("host", "localhost:3000"),
            ("authorization", "Bearer tok-123"),
        ];
        assert_eq!(admitted(&token, &local), Ok(()));
        assert_eq!(admitted(&token, &[("host", "localhost:3000")]), Err(401));
        assert_eq!(
            admitted(
                &token,
                &[("host", "localhost"), ("authorization", "Bearer tok-1234")]
            ),
            Err(401)
        );
        for host in ["mcp.example.com", "x.org:8443"] {
            assert_eq!(
                admitted(
                    &token,
                    &[("host", host), ("authorization", "Bearer tok-123")]
                ),
                Ok(())
            );
        }
        assert_eq!(
            admitted(
                &token,
                &[("host", "x.org"), ("authorization", "Bearer tok-123")]
            ),
            Err(403)
        );
        // No token (unset, empty as spin.toml's default, or blank): nothing is served.
        for blank in [
            &[][..],
            &[("server_token", "")][..],
            &[("server_token", "  ")][..],
        ] {
            assert_eq!(admitted(blank, &local), Err(500), "{blank:?}");
        }
        // Unauthenticated loopback use, only when asked for, and not from a remote client.
        let open = [
            ("server_token", ""),
            ("server_allow_unauthenticated", "true"),
        ];
        assert_eq!(admitted(&open, &[("host", "127.0.0.1:3000")]), Ok(()));
        assert_eq!(
            admitted(
                &open,
                &[
                    ("host", "127.0.0.1:3000"),
                    ("spin-client-addr", "127.0.0.1:51234")
                ]
            ),
            Ok(())
        );
        for remote in ["192.0.2.7:51234", "garbage"] {
            assert_eq!(
                admitted(
                    &open,
                    &[("host", "127.0.0.1:3000"), ("spin-client-addr", remote)]
                ),
                Err(403)
            );
        }
        assert_eq!(
            admitted(
                &[("server_allow_unauthenticated", "no")],
                &[("host", "localhost")]
            ),
            Err(500)
        );
        // With a token, allowing unauthenticated use opens nothing.
        let both = [
            ("server_token", "tok-123"),
            ("server_allow_unauthenticated", "true"),
        ];
        assert_eq!(admitted(&both, &[("host", "localhost")]), Err(401));
    }

    #[test]
    fn settings_map_to_lower_case_spin_variables() {
        assert_eq!(
            spin_variable("BITBUCKET_WORKSPACE").as_deref(),
            Some("bitbucket_workspace")
        );
        assert_eq!(
            spin_variable("BITBUCKET_OAUTH_CLIENT_SECRET").as_deref(),
            Some("bitbucket_oauth_client_secret")
        );
        assert_eq!(spin_variable("BITBUCKET_CREDENTIALS_FROM_HOST"), None);
        assert_eq!(spin_variable("HOME"), None);
    }

    /// spin.toml declares every setting and the endpoint's own variables as component
    /// variables, marks the secrets (the server token among them), and allows only the
    /// Bitbucket origins.
    #[test]
    fn the_manifest_matches_the_settings() {
        let text = include_str!("../spin.toml");
        let manifest: toml::Table = toml::from_str(text).unwrap();
        let app_vars = manifest["variables"].as_table().unwrap();
        let component = manifest["component"]["bitbucket"].as_table().unwrap();
        let component_vars = component["variables"].as_table().unwrap();
        assert_eq!(app_vars.len(), settings().count() + SERVER_VARIABLES.len());
        assert_eq!(
            component_vars.len(),
            settings().count() + SERVER_VARIABLES.len()
        );
        for name in SERVER_VARIABLES {
            assert_eq!(
                component_vars[name].as_str(),
                Some(format!("{{{{ {name} }}}}").as_str())
            );
            let declared = app_vars[name].as_table().unwrap();
            assert_eq!(
                declared.get("default").and_then(toml::Value::as_str),
                Some("")
            );
            assert_eq!(
                declared.get("secret").and_then(toml::Value::as_bool),
                (name == "server_token").then_some(true),
                "{name}"
            );
        }
        for setting in settings() {
            let name = spin_variable(setting).unwrap();
            assert_eq!(
                component_vars[&name].as_str(),
                Some(format!("{{{{ {name} }}}}").as_str())
            );
            let secret = ["TOKEN", "PASSWORD", "SECRET"]
                .iter()
                .any(|word| setting.ends_with(word));
            let declared = app_vars[&name].as_table().unwrap();
            assert_eq!(
                declared.get("secret").and_then(toml::Value::as_bool),
                secret.then_some(true),
                "{name}"
            );
        }
        assert_eq!(
            component["allowed_outbound_hosts"],
            toml::Value::from(vec!["https://api.bitbucket.org", "https://bitbucket.org"])
        );
        assert_eq!(
            component["source"].as_str(),
            Some("../target/spin/wasm32-wasip2/component/bitbucket_spin.wasm")
        );
    }
}
