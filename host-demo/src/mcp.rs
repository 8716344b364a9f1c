//! The Model Context Protocol front end: JSON-RPC 2.0 requests in, responses out.
//!
//! [`handle_message`] knows nothing about transports: it takes one parsed JSON-RPC message
//! (or a batch) and a [`ToolBackend`], and returns the response, if the message needs one.
//! [`serve`] is the stdio transport (newline-delimited JSON on stdin/stdout); an HTTP
//! endpoint can call [`handle_message`] (or [`handle_text`]) the same way.
//!
//! Tool results are written for a language model: the text content is compact JSON, except
//! `read_file`, whose text is a one-line header and numbered lines; `structuredContent`
//! always carries the full JSON object. A failing tool is an ordinary result with
//! `isError: true` and the text `KIND: message`; JSON-RPC errors are kept for protocol
//! problems (unknown method, bad parameters, unparseable JSON, unknown tool).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::{AbortHandle, JoinSet};

use crate::runtime::{CallOutcome, Runtime};
use crate::schema::{Catalog, Tool};

/// The protocol version this server implements.
pub const PROTOCOL_VERSION: &str = "2025-06-18";
/// Versions a client may ask for; any other is answered with [`PROTOCOL_VERSION`].
pub const SUPPORTED_PROTOCOL_VERSIONS: [&str; 3] = ["2025-06-18", "2025-03-26", "2024-11-05"];
/// `serverInfo.name`.
pub const SERVER_NAME: &str = "bitbucket-connector";
/// How many tool calls one connection runs at the same time; more wait their turn.
pub const MAX_CONCURRENT_CALLS: usize = 8;

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
    fn tools(&self) -> &[Tool];

    /// Runs one tool (its name is one of [`ToolBackend::tools`]). `Err` is a failure of the
    /// server itself, answered as a JSON-RPC internal error; a failing tool is an `Ok`
    /// [`CallOutcome::ToolError`].
    fn call_tool<'a>(
        &'a self,
        name: &'a str,
        args: &'a Value,
    ) -> BoxFuture<'a, anyhow::Result<CallOutcome>>;
}

/// The real backend: the WIT-derived catalogue and the wasmtime [`Runtime`] (a fresh store
/// per call).
pub struct RuntimeBackend {
    catalog: Arc<Catalog>,
    runtime: Runtime,
}

impl RuntimeBackend {
    /// `catalog` must be the one `runtime` was built with.
    pub fn new(catalog: Arc<Catalog>, runtime: Runtime) -> RuntimeBackend {
        RuntimeBackend { catalog, runtime }
    }
}

impl ToolBackend for RuntimeBackend {
    fn tools(&self) -> &[Tool] {
        &self.catalog.tools
    }

    fn call_tool<'a>(
        &'a self,
        name: &'a str,
        args: &'a Value,
    ) -> BoxFuture<'a, anyhow::Result<CallOutcome>> {
        Box::pin(self.runtime.call(name, args))
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

/// Handles one line of text: parses it (a parse error is answered with `-32700` and a null
/// id) and hands it to [`handle_message`].
pub async fn handle_text(text: &str, backend: &dyn ToolBackend) -> Option<Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(msg) => handle_message(&msg, backend).await,
        Err(e) => Some(error_response(
            Value::Null,
            code::PARSE_ERROR,
            &format!("the message is not valid JSON: {e}"),
        )),
    }
}

/// Handles one JSON-RPC message or batch; `None` when nothing is to be sent back
/// (notifications, responses from the client, a batch of notifications).
pub async fn handle_message(msg: &Value, backend: &dyn ToolBackend) -> Option<Value> {
    match msg {
        Value::Array(batch) if batch.is_empty() => Some(error_response(
            Value::Null,
            code::INVALID_REQUEST,
            "an empty batch",
        )),
        Value::Array(batch) => {
            let mut responses = Vec::new();
            for m in batch {
                if let Some(r) = handle_single(m, backend).await {
                    responses.push(r);
                }
            }
            (!responses.is_empty()).then_some(Value::Array(responses))
        }
        single => handle_single(single, backend).await,
    }
}

async fn handle_single(msg: &Value, backend: &dyn ToolBackend) -> Option<Value> {
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
    Some(match dispatch(method, &params, backend).await {
        Ok(result) => success_response(id.clone(), result),
        Err(e) => error_response(id.clone(), e.code, &e.message),
    })
}

async fn dispatch(
    method: &str,
    params: &Map<String, Value>,
    backend: &dyn ToolBackend,
) -> Result<Value, RpcError> {
    match method {
        "initialize" => Ok(initialize_result(params)),
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({"tools": list_tools(backend.tools())})),
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

/// `list_repositories` → `List repositories`.
fn title(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

/// The `tools/list` entries: name, title, description and input schema come from the same
/// WIT-derived [`Tool`]s as `host-demo tools`.
pub fn list_tools(tools: &[Tool]) -> Vec<Value> {
    tools
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "title": title(&t.name),
                "description": t.description,
                "inputSchema": t.input_schema,
                "annotations": {
                    "title": title(&t.name),
                    "readOnlyHint": true,
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
            format!("the tool could not be run: {e:#}"),
        )),
    }
}

/// A `tools/call` result for one outcome.
pub fn tool_result(tool: &str, outcome: &CallOutcome) -> Value {
    match outcome {
        CallOutcome::Success(value) => {
            let text = match tool {
                "read_file" => render_file(value),
                _ => None,
            }
            .unwrap_or_else(|| value.to_string());
            let mut result = json!({"content": [{"type": "text", "text": text}], "isError": false});
            if value.is_object() {
                result["structuredContent"] = value.clone();
            }
            result
        }
        CallOutcome::ToolError { kind, message } => json!({
            "content": [{"type": "text", "text": format!("{kind}: {message}")}],
            "structuredContent": outcome.to_json(),
            "isError": true,
        }),
    }
}

/// `read_file`'s result as text: a header line, then `  12| code` lines. `None` when the
/// value does not have the expected shape (the caller falls back to JSON).
pub fn render_file(v: &Value) -> Option<String> {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    let n = |k: &str| v.get(k).and_then(Value::as_u64);
    let b = |k: &str| v.get(k).and_then(Value::as_bool);
    let (repo, reference, path) = (s("repo")?, s("ref")?, s("path")?);
    let (binary, truncated) = (b("binary")?, b("truncated")?);
    let (start, end, size) = (n("start_line")?, n("end_line")?, n("size")?);
    let total = n("total_lines");
    let lines: Vec<(u64, &str)> = v
        .get("lines")?
        .as_array()?
        .iter()
        .map(|l| Some((l.get("number")?.as_u64()?, l.get("text")?.as_str()?)))
        .collect::<Option<_>>()?;

    let of_total = match total {
        Some(t) => format!(" of {t}"),
        None => " of ? (the file was too large to count)".to_string(),
    };
    let range = if binary {
        format!("binary file of {size} bytes, no text shown")
    } else if lines.is_empty() {
        format!("no lines returned (the file has{of_total} lines, {size} bytes)")
    } else {
        format!("lines {start}-{end}{of_total}")
    };
    let mut out = format!("repo: {repo} | ref: {reference} | path: {path} | {range} | truncated: ");
    if truncated {
        out.push_str(&format!(
            "yes, at the 100 KB cap (continue with start_line={})",
            end + 1
        ));
    } else {
        out.push_str("no");
    }
    out.push_str(if binary {
        " | binary: yes"
    } else {
        " | binary: no"
    });
    let width = lines
        .iter()
        .map(|(number, _)| number.to_string().len())
        .max()
        .unwrap_or(1);
    for (number, text) in lines {
        out.push('\n');
        out.push_str(&format!("{number:>width$}| {text}"));
    }
    Some(out)
}

/// The key under which an in-flight request is known, for cancellation.
fn request_key(id: &Value) -> String {
    id.to_string()
}

/// Serves MCP over a newline-delimited JSON stream until `input` ends: each message is
/// handled in its own task (at most [`MAX_CONCURRENT_CALLS`] tool calls run at once), and
/// responses are written one per line as they complete. `notifications/cancelled` stops the
/// named request, which then gets no response.
pub async fn serve<R, W>(input: R, output: W, backend: Arc<dyn ToolBackend>) -> std::io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
    let writer = tokio::spawn(async move {
        let mut output = output;
        while let Some(msg) = rx.recv().await {
            let mut line = msg.to_string();
            line.push('\n');
            output.write_all(line.as_bytes()).await?;
            output.flush().await?;
        }
        std::io::Result::Ok(())
    });

    let in_flight: Arc<Mutex<HashMap<String, AbortHandle>>> = Arc::default();
    let permits = Arc::new(Semaphore::new(MAX_CONCURRENT_CALLS));
    let mut tasks = JoinSet::new();
    let mut input = input;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf).await? == 0 {
            break;
        }
        while tasks.try_join_next().is_some() {}
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let msg = match serde_json::from_str::<Value>(text) {
            Ok(msg) => msg,
            Err(e) => {
                let _ = tx.send(error_response(
                    Value::Null,
                    code::PARSE_ERROR,
                    &format!("the message is not valid JSON: {e}"),
                ));
                continue;
            }
        };
        if msg.get("method").and_then(Value::as_str) == Some("notifications/cancelled") {
            if let Some(id) = msg.pointer("/params/requestId")
                && let Some(handle) = in_flight.lock().unwrap().remove(&request_key(id))
            {
                handle.abort();
            }
            continue;
        }
        let key = msg
            .get("id")
            .filter(|_| msg.get("method").is_some())
            .map(request_key);
        let (backend, tx, permits, registry) = (
            backend.clone(),
            tx.clone(),
            permits.clone(),
            in_flight.clone(),
        );
        let task_key = key.clone();
        // Holding the registry lock while spawning means the task cannot finish (and remove
        // its entry) before the entry exists.
        let mut registry_guard = in_flight.lock().unwrap();
        let handle = tasks.spawn(async move {
            let is_call = msg.get("method").and_then(Value::as_str) == Some("tools/call");
            let _permit = if is_call {
                permits.acquire_owned().await.ok()
            } else {
                None
            };
            let response = handle_message(&msg, &*backend).await;
            if let Some(k) = &task_key {
                registry.lock().unwrap().remove(k);
            }
            if let Some(response) = response {
                let _ = tx.send(response);
            }
        });
        if let Some(k) = key {
            registry_guard.insert(k, handle);
        }
        drop(registry_guard);
    }
    while tasks.join_next().await.is_some() {}
    drop(tx);
    match writer.await {
        Ok(result) => result,
        Err(e) => Err(std::io::Error::other(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Tools from the embedded WIT; outcomes from a closure.
    struct Fake {
        catalog: Catalog,
        answer: fn(&str, &Value) -> CallOutcome,
        delay: Duration,
    }

    impl Fake {
        fn new(answer: fn(&str, &Value) -> CallOutcome) -> Fake {
            Fake {
                catalog: Catalog::embedded().unwrap(),
                answer,
                delay: Duration::ZERO,
            }
        }
    }

    impl ToolBackend for Fake {
        fn tools(&self) -> &[Tool] {
            &self.catalog.tools
        }
        fn call_tool<'a>(
            &'a self,
            name: &'a str,
            args: &'a Value,
        ) -> BoxFuture<'a, anyhow::Result<CallOutcome>> {
            Box::pin(async move {
                tokio::time::sleep(self.delay).await;
                Ok((self.answer)(name, args))
            })
        }
    }

    fn echo(name: &str, args: &Value) -> CallOutcome {
        CallOutcome::Success(json!({"tool": name, "args": args, "nested": {"a": [1, 2]}}))
    }

    fn file(_: &str, _: &Value) -> CallOutcome {
        CallOutcome::Success(json!({
            "repo": "acme/widgets", "ref": "main", "path": "src/lib.rs", "size": 120,
            "binary": false, "truncated": false, "total_lines": 12, "start_line": 9,
            "end_line": 10,
            "lines": [{"number": 9, "text": "fn main() {"}, {"number": 10, "text": "    \"x\"\t}"}],
        }))
    }

    fn failing(_: &str, _: &Value) -> CallOutcome {
        CallOutcome::tool_error("not_found", "no repository `x` in workspace `acme`")
    }

    async fn ask(backend: &dyn ToolBackend, msg: Value) -> Value {
        handle_message(&msg, backend).await.expect("a response")
    }

    fn request(id: i64, method: &str, params: Value) -> Value {
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
    }

    #[tokio::test]
    async fn initialize_negotiates_the_version() {
        let fake = Fake::new(echo);
        for (asked, answered) in [
            (json!("2025-06-18"), "2025-06-18"),
            (json!("2025-03-26"), "2025-03-26"),
            (json!("2024-11-05"), "2024-11-05"),
            (json!("2099-01-01"), PROTOCOL_VERSION),
            (Value::Null, PROTOCOL_VERSION),
        ] {
            let r = ask(
                &fake,
                request(
                    1,
                    "initialize",
                    json!({"protocolVersion": asked, "capabilities": {}}),
                ),
            )
            .await;
            assert_eq!(r["id"], 1);
            assert_eq!(r["result"]["protocolVersion"], answered, "{asked}");
            assert_eq!(r["result"]["serverInfo"]["name"], SERVER_NAME);
            assert_eq!(r["result"]["capabilities"], json!({"tools": {}}));
        }
        let pong = ask(
            &fake,
            json!({"jsonrpc": "2.0", "id": "p", "method": "ping"}),
        )
        .await;
        assert_eq!(pong, json!({"jsonrpc": "2.0", "id": "p", "result": {}}));
    }

    #[tokio::test]
    async fn notifications_and_client_responses_get_no_answer() {
        let fake = Fake::new(echo);
        for msg in [
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}}),
            json!({"jsonrpc": "2.0", "method": "no/such/notification"}),
            json!({"jsonrpc": "2.0", "id": 7, "result": {}}),
            json!([{"jsonrpc": "2.0", "method": "notifications/initialized"}]),
        ] {
            assert_eq!(handle_message(&msg, &fake).await, None, "{msg}");
        }
    }

    #[tokio::test]
    async fn tools_list_comes_from_the_catalog() {
        let fake = Fake::new(echo);
        let r = ask(&fake, request(2, "tools/list", json!({}))).await;
        let tools = r["result"]["tools"].as_array().unwrap();
        assert_eq!(tools.len(), fake.catalog.tools.len());
        for (t, c) in tools.iter().zip(&fake.catalog.tools) {
            assert_eq!(t["name"], c.name.as_str());
            assert_eq!(t["description"], c.description.as_str());
            assert_eq!(t["inputSchema"], c.input_schema);
            assert_eq!(t["annotations"]["readOnlyHint"], true);
        }
        assert_eq!(tools[0]["title"], "List repositories");
    }

    #[tokio::test]
    async fn tools_call_gives_compact_text_and_structured_content() {
        let fake = Fake::new(echo);
        let r = ask(
            &fake,
            request(
                3,
                "tools/call",
                json!({"name": "list_commits", "arguments": {"repo": "w"}}),
            ),
        )
        .await;
        let result = &r["result"];
        assert_eq!(result["isError"], false);
        let text = result["content"][0]["text"].as_str().unwrap();
        assert_eq!(result["content"][0]["type"], "text");
        assert!(
            !text.contains('\n') && !text.contains(": "),
            "compact: {text}"
        );
        let parsed: Value = serde_json::from_str(text).unwrap();
        assert_eq!(parsed, result["structuredContent"]);
        assert_eq!(parsed["args"], json!({"repo": "w"}));
        // The WIT name is accepted too; missing arguments are {}.
        let r = ask(
            &fake,
            request(4, "tools/call", json!({"name": "list-commits"})),
        )
        .await;
        assert_eq!(r["result"]["structuredContent"]["tool"], "list_commits");
        assert_eq!(r["result"]["structuredContent"]["args"], json!({}));
    }

    #[tokio::test]
    async fn read_file_is_rendered_as_numbered_lines() {
        let fake = Fake::new(file);
        let r = ask(
            &fake,
            request(
                5,
                "tools/call",
                json!({"name": "read_file", "arguments": {"path": "src/lib.rs"}}),
            ),
        )
        .await;
        let text = r["result"]["content"][0]["text"].as_str().unwrap();
        assert_eq!(
            text,
            "repo: acme/widgets | ref: main | path: src/lib.rs | lines 9-10 of 12 | truncated: no | binary: no\n 9| fn main() {\n10|     \"x\"\t}"
        );
        assert_eq!(r["result"]["structuredContent"]["lines"][1]["number"], 10);
    }

    #[test]
    fn read_file_header_flags() {
        let base = json!({
            "repo": "acme/w", "ref": "abc123", "path": "big.txt", "size": 500_000,
            "binary": false, "truncated": true, "total_lines": null, "start_line": 1,
            "end_line": 2, "lines": [{"number": 1, "text": "a"}, {"number": 2, "text": "b"}],
        });
        let text = render_file(&base).unwrap();
        let header = text.lines().next().unwrap();
        assert!(
            header.contains("lines 1-2 of ?")
                && header.contains("truncated: yes")
                && header.contains("start_line=3"),
            "{header}"
        );
        let mut binary = base.clone();
        binary["binary"] = json!(true);
        binary["truncated"] = json!(false);
        binary["lines"] = json!([]);
        let text = render_file(&binary).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(
            text.contains("binary file of 500000 bytes") && text.ends_with("binary: yes"),
            "{text}"
        );
        assert_eq!(render_file(&json!({"repo": "x"})), None);
        // A malformed read_file answer still goes out, as JSON.
        let r = tool_result("read_file", &CallOutcome::Success(json!({"odd": true})));
        assert_eq!(r["content"][0]["text"], r#"{"odd":true}"#);
    }

    #[tokio::test]
    async fn tool_errors_are_results_not_protocol_errors() {
        let fake = Fake::new(failing);
        let r = ask(
            &fake,
            request(
                6,
                "tools/call",
                json!({"name": "read_file", "arguments": {}}),
            ),
        )
        .await;
        assert!(r.get("error").is_none(), "{r}");
        assert_eq!(r["result"]["isError"], true);
        assert_eq!(
            r["result"]["content"][0]["text"],
            "not_found: no repository `x` in workspace `acme`"
        );
        assert_eq!(
            r["result"]["structuredContent"],
            json!({"error": {"kind": "not_found", "message": "no repository `x` in workspace `acme`"}})
        );
    }

    #[tokio::test]
    async fn protocol_errors() {
        let fake = Fake::new(echo);
        let code_of = |r: &Value| r["error"]["code"].as_i64().unwrap();
        let r = ask(&fake, request(1, "resources/list", json!({}))).await;
        assert_eq!((code_of(&r), &r["id"]), (code::METHOD_NOT_FOUND, &json!(1)));
        let r = ask(&fake, request(2, "tools/call", json!({"name": "nope"}))).await;
        assert_eq!(code_of(&r), code::INVALID_PARAMS);
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("read_file")
        );
        let r = ask(&fake, request(3, "tools/call", json!({"arguments": {}}))).await;
        assert_eq!(code_of(&r), code::INVALID_PARAMS);
        let r = ask(
            &fake,
            request(
                4,
                "tools/call",
                json!({"name": "read_file", "arguments": [1]}),
            ),
        )
        .await;
        assert_eq!(code_of(&r), code::INVALID_PARAMS);
        let r = ask(
            &fake,
            json!({"jsonrpc": "2.0", "id": 5, "method": "ping", "params": 3}),
        )
        .await;
        assert_eq!(code_of(&r), code::INVALID_PARAMS);
        let r = ask(&fake, json!({"id": 6, "method": "ping"})).await;
        assert_eq!((code_of(&r), &r["id"]), (code::INVALID_REQUEST, &json!(6)));
        let r = ask(&fake, json!({"jsonrpc": "2.0", "id": 7})).await;
        assert_eq!(code_of(&r), code::INVALID_REQUEST);
        let r = ask(
            &fake,
            json!({"jsonrpc": "2.0", "id": [1], "method": "ping"}),
        )
        .await;
        assert_eq!(
            (code_of(&r), &r["id"]),
            (code::INVALID_REQUEST, &Value::Null)
        );
        let r = ask(&fake, json!(42)).await;
        assert_eq!(code_of(&r), code::INVALID_REQUEST);
        let r = ask(&fake, json!([])).await;
        assert_eq!(code_of(&r), code::INVALID_REQUEST);
        let r = handle_text("{not json", &fake).await.unwrap();
        assert_eq!((code_of(&r), &r["id"]), (code::PARSE_ERROR, &Value::Null));
    }

    #[tokio::test]
    async fn batches_answer_each_request() {
        let fake = Fake::new(echo);
        let r = ask(
            &fake,
            json!([
                request(1, "ping", json!({})),
                {"jsonrpc": "2.0", "method": "notifications/initialized"},
                request(2, "nope", json!({})),
            ]),
        )
        .await;
        let r = r.as_array().unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0]["result"], json!({}));
        assert_eq!(r[1]["error"]["code"], code::METHOD_NOT_FOUND);
    }

    /// Runs `serve` over in-memory pipes with the given input; returns the output lines.
    async fn serve_lines(backend: Fake, input: &str) -> Vec<Value> {
        let (out_w, out_r) = tokio::io::duplex(1 << 20);
        let backend: Arc<dyn ToolBackend> = Arc::new(backend);
        serve(input.as_bytes(), out_w, backend).await.unwrap();
        let mut lines = Vec::new();
        let mut reader = tokio::io::BufReader::new(out_r);
        let mut line = String::new();
        while reader.read_line(&mut line).await.unwrap() > 0 {
            lines.push(serde_json::from_str(&line).unwrap());
            line.clear();
        }
        lines
    }

    #[tokio::test]
    async fn serve_answers_every_request_line() {
        let input = [
            request(1, "initialize", json!({"protocolVersion": "2025-06-18"})).to_string(),
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(),
            String::new(),
            "{broken".to_string(),
            request(
                2,
                "tools/call",
                json!({"name": "get_commit", "arguments": {"commit": "ab12"}}),
            )
            .to_string(),
            request(3, "tools/list", json!({})).to_string(),
        ]
        .join("\n");
        let out = serve_lines(Fake::new(echo), &input).await;
        assert_eq!(out.len(), 4, "{out:?}");
        let by_id = |id: Value| out.iter().find(|m| m["id"] == id).unwrap();
        assert_eq!(by_id(json!(1))["result"]["serverInfo"]["name"], SERVER_NAME);
        assert_eq!(by_id(Value::Null)["error"]["code"], code::PARSE_ERROR);
        assert_eq!(
            by_id(json!(2))["result"]["structuredContent"]["args"]["commit"],
            "ab12"
        );
        assert_eq!(
            by_id(json!(3))["result"]["tools"].as_array().unwrap().len(),
            8
        );
    }

    #[tokio::test]
    async fn serve_drops_a_cancelled_request() {
        let mut slow = Fake::new(echo);
        slow.delay = Duration::from_secs(30);
        let input = [
            request(1, "tools/call", json!({"name": "list_repositories"})).to_string(),
            json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                   "params": {"requestId": 1, "reason": "user"}})
            .to_string(),
            request(2, "ping", json!({})).to_string(),
        ]
        .join("\n");
        let started = std::time::Instant::now();
        let out = serve_lines(slow, &input).await;
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(out, vec![json!({"jsonrpc": "2.0", "id": 2, "result": {}})]);
    }
}
