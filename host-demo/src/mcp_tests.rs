//! Tests of `mcp.rs`: the stdio MCP front end: framing, limits, concurrency and ordering.

use super::*;
use serde_json::json;
use std::time::Duration;

/// Tools from the embedded WIT; outcomes from a closure.
struct Fake {
    tools: Vec<ToolSpec>,
    answer: fn(&str, &Value) -> CallOutcome,
    delay: Duration,
}

impl Fake {
    fn new(answer: fn(&str, &Value) -> CallOutcome) -> Fake {
        Fake {
            tools: Catalog::embedded().unwrap().specs(),
            answer,
            delay: Duration::ZERO,
        }
    }
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
    assert_eq!(tools.len(), fake.tools.len());
    for (t, c) in tools.iter().zip(&fake.tools) {
        assert_eq!(t["name"], c.name.as_str());
        assert_eq!(t["description"], c.description.as_str());
        assert_eq!(t["inputSchema"], c.input_schema);
        assert_eq!(t["annotations"]["readOnlyHint"], true);
        assert_eq!(t["annotations"]["idempotentHint"], true);
        assert_eq!(t["title"], c.title.as_str());
        assert_eq!(t["annotations"]["title"], c.title.as_str());
    }
    assert_eq!(tools[0]["title"], "List repositories");
    assert_eq!(tools[1]["title"], "Browse a directory");
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
        "acme/widgets at main, src/lib.rs: lines 9-10 of 12, 120 bytes\n 9| fn main() {\n10|     \"x\"\t}"
    );
    // The lines are in the text only; the rest of the result is structured.
    assert_eq!(r["result"]["structuredContent"]["end_line"], 10);
    assert!(r["result"]["structuredContent"].get("lines").is_none());
}

#[test]
fn a_malformed_answer_still_goes_out_as_json() {
    let r = tool_result("read_file", &CallOutcome::Success(json!({"odd": true})));
    assert_eq!(r["content"][0]["text"], r#"{"odd":true}"#);
    assert_eq!(r["structuredContent"], json!({"odd": true}));
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
    assert!(r["result"].get("structuredContent").is_none(), "{r}");
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
        Catalog::embedded().unwrap().tools.len()
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

#[tokio::test]
async fn a_message_over_the_cap_is_refused_and_the_next_one_served() {
    let huge = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{{\"name\":\"read_file\",\"arguments\":{{\"path\":\"{}\"}}}}}}",
        "a".repeat(limits::MAX_MESSAGE_BYTES)
    );
    let input = [huge, request(2, "ping", json!({})).to_string()].join("\n");
    let out = serve_lines(Fake::new(echo), &input).await;
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[0]["id"], Value::Null);
    assert_eq!(out[0]["error"]["code"], code::INVALID_REQUEST);
    assert!(
        out[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than 4 MiB"),
        "{}",
        out[0]
    );
    assert_eq!(out[1], json!({"jsonrpc": "2.0", "id": 2, "result": {}}));
}

#[tokio::test]
async fn batches_are_refused_once_2025_06_18_is_negotiated() {
    let fake = Fake::new(echo);
    let batch = json!([request(1, "ping", json!({})), request(2, "ping", json!({}))]);
    for (version, refused) in [
        ("2025-06-18", true),
        ("2025-03-26", false),
        ("2024-11-05", false),
    ] {
        let session = Session::default();
        let init = request(0, "initialize", json!({"protocolVersion": version}));
        handle_message_in(&init, &fake, &session).await.unwrap();
        assert_eq!(session.version().as_deref(), Some(version));
        let r = handle_message_in(&batch, &fake, &session).await.unwrap();
        if refused {
            assert_eq!(r["error"]["code"], code::INVALID_REQUEST, "{version}: {r}");
            assert!(
                r["error"]["message"].as_str().unwrap().contains("batch"),
                "{r}"
            );
        } else {
            assert_eq!(r.as_array().map(Vec::len), Some(2), "{version}: {r}");
        }
    }
    // Over stdio too: the session lasts for the connection.
    let input = [
        request(1, "initialize", json!({"protocolVersion": "2025-06-18"})).to_string(),
        batch.to_string(),
    ]
    .join("\n");
    let out = serve_lines(Fake::new(echo), &input).await;
    assert_eq!(out[1]["error"]["code"], code::INVALID_REQUEST, "{out:?}");
}

#[tokio::test]
async fn an_invalid_tools_list_cursor_is_invalid_params() {
    let fake = Fake::new(echo);
    let r = ask(&fake, request(1, "tools/list", json!({"cursor": "bogus"}))).await;
    assert_eq!(r["error"]["code"], code::INVALID_PARAMS, "{r}");
    let r = ask(&fake, request(2, "tools/list", json!({"cursor": null}))).await;
    assert!(r["result"]["tools"].is_array(), "{r}");
}

/// Records the order in which calls start.
struct Recorder {
    tools: Vec<ToolSpec>,
    started: Mutex<Vec<i64>>,
}

impl ToolBackend for Recorder {
    fn tools(&self) -> &[ToolSpec] {
        &self.tools
    }
    fn call_tool<'a>(
        &'a self,
        _: &'a str,
        args: &'a Value,
    ) -> BoxFuture<'a, Result<CallOutcome, String>> {
        Box::pin(async move {
            self.started
                .lock()
                .unwrap()
                .push(args["n"].as_i64().unwrap());
            tokio::time::sleep(Duration::from_millis(2)).await;
            Ok(CallOutcome::Success(json!({})))
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn calls_waiting_for_a_slot_start_in_arrival_order() {
    let recorder = Arc::new(Recorder {
        tools: Catalog::embedded().unwrap().specs(),
        started: Mutex::new(Vec::new()),
    });
    let input: Vec<String> = (0..40)
        .map(|n| {
            request(
                n,
                "tools/call",
                json!({"name": "list_commits", "arguments": {"n": n}}),
            )
            .to_string()
        })
        .collect();
    let (out_w, mut out_r) = tokio::io::duplex(1 << 20);
    let backend: Arc<dyn ToolBackend> = recorder.clone();
    let reader = tokio::spawn(async move {
        let mut all = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut out_r, &mut all)
            .await
            .unwrap();
        all
    });
    // One slot: each call can start only when the one before it ended, so the order
    // they start in is the order the server handed out the slot.
    serve_with(input.join("\n").as_bytes(), out_w, backend, 1)
        .await
        .unwrap();
    let out = reader.await.unwrap();
    assert_eq!(String::from_utf8(out).unwrap().lines().count(), 40);
    assert_eq!(
        *recorder.started.lock().unwrap(),
        (0..40).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_call_cancelled_while_it_waits_never_runs() {
    let recorder = Arc::new(Recorder {
        tools: Catalog::embedded().unwrap().specs(),
        started: Mutex::new(Vec::new()),
    });
    let call = |n: i64| {
        request(
            n,
            "tools/call",
            json!({"name": "list_commits", "arguments": {"n": n}}),
        )
        .to_string()
    };
    let input = [
        call(1),
        call(2),
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2}})
            .to_string(),
        call(3),
    ]
    .join("\n");
    let (out_w, out_r) = tokio::io::duplex(1 << 20);
    let backend: Arc<dyn ToolBackend> = recorder.clone();
    serve_with(input.as_bytes(), out_w, backend, 1)
        .await
        .unwrap();
    drop(out_r);
    assert_eq!(*recorder.started.lock().unwrap(), [1, 3]);
}
