//! The Model Context Protocol, transport-free: JSON-RPC 2.0 messages in, responses out.
//!
//! Shared by `host-demo mcp` (newline-delimited JSON on stdin/stdout) and the Spin HTTP
//! component (`POST /mcp`, Streamable HTTP with JSON responses), so both speak exactly the
//! same protocol. [`handle_message`] takes one parsed message (or a batch) and a
//! [`ToolBackend`], and returns the response, if the message needs one.
//!
//! Tool results are written for a language model: the text content is a compact rendering
//! ([`render`]: a header line, one line per item, numbered lines for files);
//! `structuredContent` carries the JSON object (for `read_file` without `lines`, which the
//! text already holds, so a file is not sent twice). A failing tool is an ordinary result with
//! `isError: true`, the text `KIND: message` and no `structuredContent`; JSON-RPC errors are
//! kept for protocol problems (unknown method, bad parameters, unparseable JSON, unknown tool).

pub mod http;
pub mod limits;
pub mod render;
#[cfg(feature = "wit")]
pub mod schema;
pub mod wit_docs;

pub use render::read_file::render as render_file;

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value, json};

/// The protocol version this server implements.
pub const PROTOCOL_VERSION: &str = "2025-06-18";
/// Versions a client may ask for; any other is answered with [`PROTOCOL_VERSION`].
pub const SUPPORTED_PROTOCOL_VERSIONS: [&str; 3] = ["2025-06-18", "2025-03-26", "2024-11-05"];
/// `serverInfo.name`.
pub const SERVER_NAME: &str = "bitbucket-connector";

/// What the server tells the model about itself in `initialize`.
const INSTRUCTIONS: &str = "Read-only access to one Bitbucket Cloud workspace; the operator \
configured the workspace, credentials and scope. Find repositories with list_repositories, \
read code with browse_repository, read_file (pick lines with start_line/end_line) and \
search_code, and history with list_commits, get_commit, list_pull_requests and list_pipelines. \
Lists are paged: pass next_page back as page. A failed call's text starts with its kind \
(not_found, out_of_scope, ...) and says what to do.";

/// JSON-RPC 2.0 error codes.
pub mod code {
    /// The message is not valid JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// The JSON is not a valid request object.
    pub const INVALID_REQUEST: i64 = -32600;
    /// The method does not exist.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Invalid method parameters (including an unknown tool name).
    pub const INVALID_PARAMS: i64 = -32602;
    /// The server failed.
    pub const INTERNAL_ERROR: i64 = -32603;
}

/// A boxed, sendable future: what [`ToolBackend::call_tool`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the protocol layer needs from whatever runs the tools.
pub trait ToolBackend: Send + Sync {
    /// The tools, in the order they are listed.
    fn tools(&self) -> &[ToolSpec];

    /// Runs one tool (its name is one of [`ToolBackend::tools`]). `Err` is a failure of the
    /// server itself (its text), answered as a JSON-RPC internal error; a failing tool is an
    /// `Ok` [`CallOutcome::ToolError`].
    fn call_tool<'a>(
        &'a self,
        name: &'a str,
        args: &'a Value,
    ) -> BoxFuture<'a, Result<CallOutcome, String>>;
}

/// What `tools/list` and the tools JSON say about one tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// The JSON / MCP name (`list_repositories`).
    pub name: String,
    /// The WIT export name (`list-repositories`), also accepted by `tools/call`.
    pub wit_name: String,
    /// The title written in the WIT doc's heading (`Read a file`).
    pub title: String,
    /// What the tool does (the WIT doc comment, WIT names in their JSON form).
    pub description: String,
    /// The JSON Schema of the arguments object.
    pub input_schema: Value,
}

impl ToolSpec {
    /// `{name, wit_name, title, description, input_schema}`: the form embedded at build time.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "wit_name": self.wit_name,
            "title": self.title,
            "description": self.description,
            "input_schema": self.input_schema,
        })
    }

    /// The inverse of [`ToolSpec::to_json`].
    pub fn from_json(value: &Value) -> Option<ToolSpec> {
        let text = |key: &str| value.get(key)?.as_str().map(str::to_owned);
        Some(ToolSpec {
            name: text("name")?,
            wit_name: text("wit_name")?,
            title: text("title")?,
            description: text("description")?,
            input_schema: value.get("input_schema")?.clone(),
        })
    }
}

/// `[{name, description, input_schema}]`, the form `host-demo tools` prints (and the Spin
/// component's `GET /tools` serves).
pub fn tools_json(tools: &[ToolSpec]) -> Value {
    Value::Array(
        tools
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "description": t.description,
                    "input_schema": t.input_schema,
                })
            })
            .collect(),
    )
}

/// What one tool call gave.
#[derive(Debug, Clone, PartialEq)]
pub enum CallOutcome {
    /// The tool's result, as JSON.
    Success(Value),
    /// The tool failed (or the host refused the arguments, or the component failed).
    ToolError { kind: String, message: String },
}

impl CallOutcome {
    pub fn tool_error(kind: &str, message: impl Into<String>) -> CallOutcome {
        CallOutcome::ToolError {
            kind: kind.to_string(),
            message: message.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, CallOutcome::ToolError { .. })
    }

    /// The JSON printed for this outcome: the result, or `{"error": {kind, message}}`.
    pub fn to_json(&self) -> Value {
        match self {
            CallOutcome::Success(v) => v.clone(),
            CallOutcome::ToolError { kind, message } => {
                json!({"error": {"kind": kind, "message": message}})
            }
        }
    }
}

/// A JSON-RPC error before it is put into a response.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

impl RpcError {
    fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
        }
    }
}

/// `{"jsonrpc": "2.0", "id": id, "error": {code, message}}`.
pub fn error_response(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn success_response(id: Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// What one connection has negotiated: the protocol version, which decides whether a batch
/// is allowed (2025-06-18 removed JSON-RPC batching).
#[derive(Debug, Default)]
pub struct Session {
    version: std::sync::Mutex<Option<String>>,
}

impl Session {
    /// A session whose version is already known (e.g. from an HTTP `MCP-Protocol-Version`
    /// header).
    pub fn with_version(version: Option<&str>) -> Session {
        Session {
            version: std::sync::Mutex::new(version.map(str::to_owned)),
        }
    }

    /// The negotiated protocol version, if `initialize` was answered.
    pub fn version(&self) -> Option<String> {
        self.version.lock().unwrap().clone()
    }

    /// Whether batches are refused: the version is 2025-06-18 or later.
    fn refuses_batches(&self) -> bool {
        self.version().is_some_and(|v| v.as_str() >= "2025-06-18")
    }
}

/// Handles one line of text: parses it (a parse error is answered with `-32700` and a null
/// id) and hands it to [`handle_message`].
pub async fn handle_text(text: &str, backend: &dyn ToolBackend) -> Option<Value> {
    handle_text_in(text, backend, &Session::default()).await
}

/// [`handle_text`] within a [`Session`].
pub async fn handle_text_in(
    text: &str,
    backend: &dyn ToolBackend,
    session: &Session,
) -> Option<Value> {
    if text.len() > limits::MAX_MESSAGE_BYTES {
        return Some(limits::too_large_response());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(msg) => handle_message_in(&msg, backend, session).await,
        Err(e) => Some(error_response(
            Value::Null,
            code::PARSE_ERROR,
            &format!("the message is not valid JSON: {e}"),
        )),
    }
}

/// Handles one JSON-RPC message or batch outside any session (a batch is allowed); `None`
/// when nothing is to be sent back (notifications, responses from the client, a batch of
/// notifications).
pub async fn handle_message(msg: &Value, backend: &dyn ToolBackend) -> Option<Value> {
    handle_message_in(msg, backend, &Session::default()).await
}

/// Handles one JSON-RPC message or batch within a [`Session`]: `initialize` records the
/// version, and once it is 2025-06-18 or later a batch is answered with an error.
pub async fn handle_message_in(
    msg: &Value,
    backend: &dyn ToolBackend,
    session: &Session,
) -> Option<Value> {
    match msg {
        Value::Array(_) if session.refuses_batches() => Some(error_response(
            Value::Null,
            code::INVALID_REQUEST,
            &format!(
                "JSON-RPC batches are not part of MCP {}; send one message at a time",
                session.version().unwrap_or_default()
            ),
        )),
        Value::Array(batch) if batch.is_empty() => Some(error_response(
            Value::Null,
            code::INVALID_REQUEST,
            "an empty batch",
        )),
        Value::Array(batch) => {
            let mut responses = Vec::new();
            for m in batch {
                if let Some(r) = handle_single(m, backend, session).await {
                    responses.push(r);
                }
            }
            (!responses.is_empty()).then_some(Value::Array(responses))
        }
        single => handle_single(single, backend, session).await,
    }
}

async fn handle_single(msg: &Value, backend: &dyn ToolBackend, session: &Session) -> Option<Value> {
    let Some(obj) = msg.as_object() else {
        return Some(error_response(
            Value::Null,
            code::INVALID_REQUEST,
            "a JSON-RPC message must be an object",
        ));
    };
    let method = obj.get("method");
    // A response to a request of ours: this server sends none, so there is nothing to do.
    if method.is_none() && (obj.contains_key("result") || obj.contains_key("error")) {
        return None;
    }
    let id = obj.get("id");
    let valid_id = matches!(id, Some(Value::String(_))) || id.is_some_and(Value::is_i64);
    let Some(method) = method.and_then(Value::as_str) else {
        return Some(error_response(
            id.filter(|_| valid_id).cloned().unwrap_or(Value::Null),
            code::INVALID_REQUEST,
            "the message has no method",
        ));
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return id.map(|id| {
            error_response(
                if valid_id { id.clone() } else { Value::Null },
                code::INVALID_REQUEST,
                "`jsonrpc` must be \"2.0\"",
            )
        });
    }
    let Some(id) = id else {
        // A notification (`notifications/initialized`, `notifications/cancelled`, ...):
        // never answered. Cancellation is the transport's business (see `serve`).
        return None;
    };
    if !valid_id {
        return Some(error_response(
            Value::Null,
            code::INVALID_REQUEST,
            "`id` must be a string or an integer",
        ));
    }
    let params = match obj.get("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => {
            return Some(error_response(
                id.clone(),
                code::INVALID_PARAMS,
                "`params` must be an object",
            ));
        }
    };
    Some(match dispatch(method, &params, backend, session).await {
        Ok(result) => success_response(id.clone(), result),
        Err(e) => error_response(id.clone(), e.code, &e.message),
    })
}

async fn dispatch(
    method: &str,
    params: &Map<String, Value>,
    backend: &dyn ToolBackend,
    session: &Session,
) -> Result<Value, RpcError> {
    match method {
        "initialize" => {
            let result = initialize_result(params);
            *session.version.lock().unwrap() =
                result["protocolVersion"].as_str().map(str::to_owned);
            Ok(result)
        }
        "ping" => Ok(json!({})),
        "tools/list" => match params.get("cursor") {
            // The list is one page: no cursor this server gave out can be valid.
            None | Some(Value::Null) => Ok(json!({"tools": list_tools(backend.tools())})),
            Some(_) => Err(RpcError::new(
                code::INVALID_PARAMS,
                "invalid cursor: tools/list has a single page; call it without `cursor`",
            )),
        },
        "tools/call" => call_tool(params, backend).await,
        other => Err(RpcError::new(
            code::METHOD_NOT_FOUND,
            format!(
                "unknown method `{other}`; this server has initialize, ping, tools/list and tools/call"
            ),
        )),
    }
}

/// The answer to `initialize`: the client's protocol version when this server supports it,
/// else the newest one it supports.
fn initialize_result(params: &Map<String, Value>) -> Value {
    let asked = params.get("protocolVersion").and_then(Value::as_str);
    let version = asked
        .filter(|v| SUPPORTED_PROTOCOL_VERSIONS.contains(v))
        .unwrap_or(PROTOCOL_VERSION);
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {}},
        "serverInfo": {"name": SERVER_NAME, "version": env!("CARGO_PKG_VERSION")},
        "instructions": INSTRUCTIONS,
    })
}

/// The `tools/list` entries: name, title, description and input schema come from the same
/// WIT-derived [`ToolSpec`]s as `host-demo tools`; every tool is read-only and idempotent.
pub fn list_tools(tools: &[ToolSpec]) -> Vec<Value> {
    tools
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "title": t.title,
                "description": t.description,
                "inputSchema": t.input_schema,
                "annotations": {
                    "title": t.title,
                    "readOnlyHint": true,
                    "idempotentHint": true,
                    "openWorldHint": true,
                },
            })
        })
        .collect()
}

async fn call_tool(
    params: &Map<String, Value>,
    backend: &dyn ToolBackend,
) -> Result<Value, RpcError> {
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return Err(RpcError::new(
            code::INVALID_PARAMS,
            "tools/call needs `name`, the tool's name",
        ));
    };
    let Some(tool) = backend
        .tools()
        .iter()
        .find(|t| t.name == name || t.wit_name == name)
    else {
        let names: Vec<&str> = backend.tools().iter().map(|t| t.name.as_str()).collect();
        return Err(RpcError::new(
            code::INVALID_PARAMS,
            format!("unknown tool `{name}`; the tools are {}", names.join(", ")),
        ));
    };
    let empty = Value::Object(Map::new());
    let args = match params.get("arguments") {
        None | Some(Value::Null) => &empty,
        Some(a @ Value::Object(_)) => a,
        Some(_) => {
            return Err(RpcError::new(
                code::INVALID_PARAMS,
                "`arguments` must be an object",
            ));
        }
    };
    match backend.call_tool(&tool.name, args).await {
        Ok(outcome) => Ok(tool_result(&tool.name, &outcome)),
        Err(e) => Err(RpcError::new(
            code::INTERNAL_ERROR,
            format!("the tool could not be run: {e}"),
        )),
    }
}

/// A `tools/call` result for one outcome: the text written for a model ([`render`]) and the
/// JSON result as `structuredContent` (`read_file`'s without its lines, which the text
/// carries in full); a tool error is `isError` with the text `KIND: message` and no
/// `structuredContent`, which clients would validate against an `outputSchema`.
pub fn tool_result(tool: &str, outcome: &CallOutcome) -> Value {
    match outcome {
        CallOutcome::Success(value) => {
            let rendered = render::render(tool, value);
            let mut structured = value.clone();
            if tool == "read_file"
                && rendered.is_some()
                && let Some(object) = structured.as_object_mut()
            {
                object.remove("lines");
            }
            let text = rendered.unwrap_or_else(|| value.to_string());
            let mut result = json!({"content": [{"type": "text", "text": text}], "isError": false});
            if structured.is_object() {
                result["structuredContent"] = structured;
            }
            result
        }
        CallOutcome::ToolError { kind, message } => json!({
            "content": [{"type": "text", "text": format!("{kind}: {message}")}],
            "isError": true,
        }),
    }
}
