//! The Bitbucket connector's eight tools as a Spin HTTP component (`wasi:http/incoming-handler`
//! 0.2, built with spin-sdk 5.2).
//!
//! Routes:
//! - `POST /mcp`: MCP Streamable HTTP (JSON-RPC 2.0 with JSON responses; a message that needs
//!   no answer gets 202 Accepted with an empty body). The protocol is the shared
//!   `mcp-protocol` crate, the same code `host-demo mcp` runs.
//! - `GET /tools`: the tools with their JSON Schemas, as `host-demo tools` prints them.
//! - `POST /tools/{name}` with a JSON object: the tool's JSON result (200), or the contract's
//!   `{"error": {"kind", "message"}}` with a status that fits the kind.
//!
//! The tools are the `bitbucket-connector` library linked in (without its own export), run
//! with a configuration read from Spin variables and sending through wasi:http. Routing is
//! plain Rust ([`route`]) and unit-tested natively; only the `component` module is
//! WebAssembly-specific.

use mcp_protocol::{CallOutcome, SUPPORTED_PROTOCOL_VERSIONS, ToolBackend, ToolSpec};
use serde_json::{Map, Value, json};

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

/// The HTTP status for a failed call of this kind.
pub fn status_for_kind(kind: &str) -> u16 {
    match kind {
        "invalid_input" => 400,
        "unauthorized" => 401,
        "out_of_scope" | "forbidden" | "search_unavailable" => 403,
        "not_found" | "pipelines_unavailable" => 404,
        "rate_limited" => 429,
        "upstream" => 502,
        "timeout" => 504,
        // `config` and anything unforeseen: the server is not usable as configured.
        _ => 500,
    }
}

/// An HTTP answer, before it is turned into the host's response type.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    /// `Content-Type: application/json` when true (and the body is JSON).
    pub json: bool,
    /// The `Allow` header of a 405.
    pub allow: Option<&'static str>,
    pub body: Vec<u8>,
}

impl Answer {
    fn json(status: u16, value: &Value) -> Answer {
        Answer {
            status,
            json: true,
            allow: None,
            body: value.to_string().into_bytes(),
        }
    }

    fn error(status: u16, kind: &str, message: &str) -> Answer {
        Answer::json(
            status,
            &json!({"error": {"kind": kind, "message": message}}),
        )
    }

    fn method_not_allowed(allow: &'static str) -> Answer {
        Answer {
            allow: Some(allow),
            ..Answer::error(
                405,
                "invalid_input",
                &format!("method not allowed here; use {allow}"),
            )
        }
    }
}

/// One incoming request, as [`route`] needs it.
pub struct Incoming<'a> {
    pub method: &'a str,
    /// The path, without the query.
    pub path: &'a str,
    /// A request header by lower-case name.
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub body: &'a [u8],
}

/// Answers one request.
pub async fn route(req: &Incoming<'_>, backend: &dyn ToolBackend) -> Answer {
    match req.path {
        "/mcp" => match req.method {
            "POST" => mcp(req, backend).await,
            _ => Answer::method_not_allowed("POST"),
        },
        "/tools" => match req.method {
            "GET" => Answer::json(200, &mcp_protocol::tools_json(backend.tools())),
            _ => Answer::method_not_allowed("GET"),
        },
        path => match path.strip_prefix("/tools/") {
            Some(name) => match req.method {
                "POST" => call(name, req.body, backend).await,
                _ => Answer::method_not_allowed("POST"),
            },
            None => Answer::error(
                404,
                "not_found",
                "no such route: the routes are POST /mcp, GET /tools and POST /tools/{name}",
            ),
        },
    }
}

/// `POST /tools/{name}`: the contract's JSON result or error object.
async fn call(name: &str, body: &[u8], backend: &dyn ToolBackend) -> Answer {
    let Some(tool) = backend.tools().iter().find(|t| t.name == name) else {
        let names: Vec<&str> = backend.tools().iter().map(|t| t.name.as_str()).collect();
        let shown: String = name.chars().take(64).collect();
        return Answer::error(
            404,
            "not_found",
            &format!("unknown tool `{shown}`; the tools are {}", names.join(", ")),
        );
    };
    let args = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(args @ Value::Object(_)) => args,
            Ok(_) => {
                return Answer::error(
                    400,
                    "invalid_input",
                    "the request body must be a JSON object of arguments",
                );
            }
            Err(e) => {
                return Answer::error(
                    400,
                    "invalid_input",
                    &format!("the request body is not valid JSON: {e}"),
                );
            }
        }
    };
    match backend.call_tool(&tool.name, &args).await {
        Ok(CallOutcome::Success(value)) => Answer::json(200, &value),
        Ok(outcome @ CallOutcome::ToolError { .. }) => {
            let CallOutcome::ToolError { kind, .. } = &outcome else {
                unreachable!()
            };
            Answer::json(status_for_kind(kind), &outcome.to_json())
        }
        Err(message) => Answer::error(500, "upstream", &message),
    }
}

/// `POST /mcp`: one JSON-RPC message or batch.
async fn mcp(req: &Incoming<'_>, backend: &dyn ToolBackend) -> Answer {
    let rpc_error = |status: u16, code: i64, message: &str| {
        Answer::json(
            status,
            &mcp_protocol::error_response(Value::Null, code, message),
        )
    };
    // DNS rebinding protection (required by the transport spec): a browser page from another
    // origin must not reach the endpoint.
    if let Some(origin) = (req.header)("origin") {
        let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
        if (req.header)("host").as_deref() != Some(origin_host) {
            return rpc_error(
                403,
                mcp_protocol::code::INVALID_REQUEST,
                "requests from another origin are not accepted",
            );
        }
    }
    if let Some(version) = (req.header)("mcp-protocol-version")
        && !SUPPORTED_PROTOCOL_VERSIONS.contains(&version.trim())
    {
        return rpc_error(
            400,
            mcp_protocol::code::INVALID_REQUEST,
            &format!(
                "unsupported MCP-Protocol-Version; this server supports {}",
                SUPPORTED_PROTOCOL_VERSIONS.join(", ")
            ),
        );
    }
    let text = String::from_utf8_lossy(req.body);
    match mcp_protocol::handle_text(&text, backend).await {
        // Notifications and responses: accepted, nothing to say.
        None => Answer {
            status: 202,
            json: false,
            allow: None,
            body: Vec::new(),
        },
        // A message that could not be read at all (no id to answer): 400.
        Some(response) if response.get("error").is_some() && response["id"].is_null() => {
            Answer::json(400, &response)
        }
        Some(response) => Answer::json(200, &response),
    }
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

    use super::{Answer, Incoming};
    use bitbucket_connector::config::Config;
    use bitbucket_connector::json;
    use bitbucket_connector::tools::Ctx;
    use bitbucket_connector::wasi_http::WasiHttp;
    use mcp_protocol::{BoxFuture, CallOutcome, ToolBackend, ToolSpec};
    use serde_json::Value;
    use spin_sdk::http::{Method, Request, Response};
    use spin_sdk::http_component;

    /// A fresh backend per request: Spin gives every request a fresh instance anyway.
    struct SpinBackend {
        tools: Vec<ToolSpec>,
    }

    impl SpinBackend {
        fn run(&self, name: &str, args: &Value) -> CallOutcome {
            let var = |name: &str| {
                let variable = super::spin_variable(name)?;
                spin_sdk::variables::get(&variable).ok()
            };
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

    fn method_name(method: &Method) -> &str {
        match method {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
            Method::Other(other) => other,
        }
    }

    #[http_component]
    async fn handle(req: Request) -> Response {
        let backend = SpinBackend {
            tools: super::embedded_tools(),
        };
        let header =
            |name: &str| -> Option<String> { req.header(name)?.as_str().map(str::to_owned) };
        let path = req.path();
        let incoming = Incoming {
            method: method_name(req.method()),
            path: path.split_once('?').map_or(path, |(p, _)| p),
            header: &header,
            body: req.body(),
        };
        let answer: Answer = super::route(&incoming, &backend).await;
        let mut response = Response::builder();
        response.status(answer.status);
        if answer.json {
            response.header("content-type", "application/json");
        }
        if let Some(allow) = answer.allow {
            response.header("allow", allow);
        }
        response.body(answer.body).build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_protocol::BoxFuture;
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    /// Runs a future that never waits (the backends here answer at once).
    fn ready<T>(future: impl Future<Output = T>) -> T {
        let mut future = std::pin::pin!(future);
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(value) => value,
            Poll::Pending => panic!("the future waited"),
        }
    }

    struct Fake {
        tools: Vec<ToolSpec>,
    }

    impl ToolBackend for Fake {
        fn tools(&self) -> &[ToolSpec] {
            &self.tools
        }
        fn call_tool<'a>(
            &'a self,
            name: &'a str,
            args: &'a Value,
        ) -> BoxFuture<'a, Result<CallOutcome, String>> {
            let outcome = match args.get("fail").and_then(Value::as_str) {
                Some(kind) => CallOutcome::tool_error(kind, "it failed"),
                None => CallOutcome::Success(json!({"tool": name, "args": args})),
            };
            Box::pin(async move { Ok(outcome) })
        }
    }

    fn send(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let header = move |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let fake = Fake {
            tools: embedded_tools(),
        };
        let req = Incoming {
            method,
            path,
            header: &header,
            body: body.as_bytes(),
        };
        ready(route(&req, &fake))
    }

    fn body(answer: &Answer) -> Value {
        serde_json::from_slice(&answer.body).unwrap()
    }

    #[test]
    fn the_embedded_tools_are_the_catalogue() {
        let catalog = mcp_protocol::schema::Catalog::embedded().unwrap();
        assert_eq!(embedded_tools(), catalog.specs());
        let a = send("GET", "/tools", &[], "");
        assert_eq!((a.status, a.json), (200, true));
        assert_eq!(body(&a), catalog.tools_json());
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

    /// spin.toml declares every setting as a component variable, marks the secrets, and
    /// allows only the Bitbucket origins.
    #[test]
    fn the_manifest_matches_the_settings() {
        let text = include_str!("../spin.toml");
        let manifest: toml::Table = toml::from_str(text).unwrap();
        let app_vars = manifest["variables"].as_table().unwrap();
        let component = manifest["component"]["bitbucket"].as_table().unwrap();
        let component_vars = component["variables"].as_table().unwrap();
        assert_eq!(app_vars.len(), settings().count());
        assert_eq!(component_vars.len(), settings().count());
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

    #[test]
    fn tool_calls_and_error_statuses() {
        let a = send("POST", "/tools/read_file", &[], r#"{"path": "x"}"#);
        assert_eq!(a.status, 200);
        assert_eq!(
            body(&a),
            json!({"tool": "read_file", "args": {"path": "x"}})
        );
        let a = send("POST", "/tools/list_repositories", &[], "  ");
        assert_eq!(body(&a)["args"], json!({}));
        for (kind, status) in [
            ("invalid_input", 400),
            ("out_of_scope", 403),
            ("forbidden", 403),
            ("unauthorized", 401),
            ("not_found", 404),
            ("rate_limited", 429),
            ("upstream", 502),
            ("timeout", 504),
            ("config", 500),
        ] {
            let a = send(
                "POST",
                "/tools/list_commits",
                &[],
                &json!({ "fail": kind }).to_string(),
            );
            assert_eq!(a.status, status, "{kind}");
            assert_eq!(
                body(&a),
                json!({"error": {"kind": kind, "message": "it failed"}})
            );
        }
        let a = send("POST", "/tools/nope", &[], "{}");
        assert_eq!(a.status, 404);
        assert_eq!(body(&a)["error"]["kind"], "not_found");
        let a = send("POST", "/tools/read_file", &[], "[1]");
        assert_eq!(
            (a.status, &body(&a)["error"]["kind"]),
            (400, &json!("invalid_input"))
        );
        let a = send("POST", "/tools/read_file", &[], "{broken");
        assert_eq!(a.status, 400);
        let a = send("GET", "/tools/read_file", &[], "");
        assert_eq!((a.status, a.allow), (405, Some("POST")));
        assert_eq!(send("GET", "/elsewhere", &[], "").status, 404);
    }

    #[test]
    fn mcp_over_http() {
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                          "params": {"protocolVersion": "2025-06-18"}});
        let a = send("POST", "/mcp", &[], &init.to_string());
        assert_eq!((a.status, a.json), (200, true));
        assert_eq!(body(&a)["result"]["protocolVersion"], "2025-06-18");
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let a = send("POST", "/mcp", &[], &note.to_string());
        assert_eq!((a.status, a.json, a.body.len()), (202, false, 0));
        let a = send("POST", "/mcp", &[], "{broken");
        assert_eq!(a.status, 400);
        assert_eq!(body(&a)["error"]["code"], mcp_protocol::code::PARSE_ERROR);
        let a = send("GET", "/mcp", &[], "");
        assert_eq!((a.status, a.allow), (405, Some("POST")));
        let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}).to_string();
        let a = send(
            "POST",
            "/mcp",
            &[
                ("origin", "https://evil.example"),
                ("host", "localhost:3000"),
            ],
            &ping,
        );
        assert_eq!(a.status, 403);
        let a = send(
            "POST",
            "/mcp",
            &[
                ("origin", "http://localhost:3000"),
                ("host", "localhost:3000"),
            ],
            &ping,
        );
        assert_eq!(body(&a), json!({"jsonrpc": "2.0", "id": 2, "result": {}}));
        let a = send(
            "POST",
            "/mcp",
            &[("mcp-protocol-version", "1999-01-01")],
            &ping,
        );
        assert_eq!(a.status, 400);
    }
}
