//! End-to-end tests of `host-demo mcp`: the real binary serves the real component over MCP
//! (newline-delimited JSON-RPC on stdin/stdout) against the fake Bitbucket, as an agent
//! would use it. Run `make build` first.

mod common;

use common::TOOLS;

use common::{Host, component, host_demo};
use fake_bitbucket::FakeBitbucket;
use fake_bitbucket::model::{Repository, Workspace, line_count};
use fake_bitbucket::sample::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long one answer may take before the test fails instead of hanging.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `host-demo mcp` with a clean environment pointing at a fake Bitbucket.
struct Mcp {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    next_id: i64,
}

impl Mcp {
    fn start(fake: &FakeBitbucket) -> Mcp {
        Mcp::start_with(fake, &[], &[])
    }

    /// Starts `host-demo [ARGS] mcp` with the default fake configuration plus `extra_env`.
    fn start_with(fake: &FakeBitbucket, extra_env: &[(&str, &str)], args: &[&str]) -> Mcp {
        let mut cmd = Command::new(host_demo());
        cmd.env_clear()
            .env("BITBUCKET_WORKSPACE", "acme")
            .env("BITBUCKET_API_BASE_URL", fake.base_url())
            .env("BITBUCKET_TOKEN", "test-token-valid");
        for key in ["PATH", "HOME"] {
            if let Some(v) = std::env::var_os(key) {
                cmd.env(key, v);
            }
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .arg("--component")
            .arg(component())
            .args(args)
            .arg("mcp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start host-demo mcp");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = String::new();
            let _ = err_pipe.read_to_string(&mut buf);
            sink.lock().unwrap().push_str(&buf);
        });
        let stdin = child.stdin.take();
        Mcp {
            child,
            stdin,
            lines,
            stderr,
            next_id: 1,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Writes one line to the server.
    fn send_raw(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        writeln!(stdin, "{text}").expect("write to host-demo mcp");
        stdin.flush().expect("flush");
    }

    fn send(&mut self, msg: &Value) {
        self.send_raw(&msg.to_string());
    }

    /// The next message from the server; every line on stdout must be one JSON message.
    fn recv(&mut self) -> Value {
        match self.lines.recv_timeout(ANSWER_TIMEOUT) {
            Ok(line) => serde_json::from_str(&line).unwrap_or_else(|e| {
                panic!(
                    "host-demo mcp wrote a line that is not JSON ({e}): {line}\nstderr: {}",
                    self.stderr()
                )
            }),
            Err(RecvTimeoutError::Timeout) => panic!(
                "no answer from host-demo mcp within {ANSWER_TIMEOUT:?}\nstderr: {}",
                self.stderr()
            ),
            Err(RecvTimeoutError::Disconnected) => {
                panic!("host-demo mcp closed its output\nstderr: {}", self.stderr())
            }
        }
    }

    /// Sends a request with a fresh id; returns its id.
    fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Sends a request and waits for its response (the whole JSON-RPC response).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        let response = self.recv();
        assert_eq!(response["jsonrpc"], "2.0", "{response}");
        assert_eq!(response["id"], id, "answers come in order here: {response}");
        response
    }

    /// `tools/call`, expecting a successful protocol response; the `result` object.
    fn call(&mut self, tool: &str, args: Value) -> Value {
        let r = self.request("tools/call", json!({"name": tool, "arguments": args}));
        assert!(
            r.get("error").is_none(),
            "tools/call {tool} got a JSON-RPC error: {r}"
        );
        r["result"].clone()
    }

    /// `tools/call` expecting success: the structured content, after checking that the text
    /// content is the compact rendering (not JSON) and no larger than the JSON.
    fn call_ok(&mut self, tool: &str, args: Value) -> Value {
        let result = self.call(tool, args.clone());
        assert_eq!(
            result["isError"],
            false,
            "{tool} {args} failed: {result}\nstderr: {}",
            self.stderr()
        );
        let content = result["content"].as_array().expect("content");
        assert_eq!(content.len(), 1, "{result}");
        assert_eq!(content[0]["type"], "text");
        let structured = result["structuredContent"].clone();
        assert!(structured.is_object(), "{result}");
        let text = content[0]["text"].as_str().unwrap();
        assert!(
            serde_json::from_str::<Value>(text).is_err(),
            "{tool}: the text is a rendering, not JSON: {text}"
        );
        // The rendering that e2e_mcp_text.rs checks for lost values is the one served.
        if tool != "read_file" {
            assert_eq!(
                Some(text.to_string()),
                host_demo::mcp::render::render(tool, &structured),
                "{tool}"
            );
        }
        assert!(
            text.len() < serde_json::to_string(&structured).unwrap().len() || tool == "read_file",
            "{tool}: the text is smaller than the JSON: {text}"
        );
        structured
    }

    /// `tools/call` expecting a tool error: `(kind, message, text)`.
    fn call_err(&mut self, tool: &str, args: Value) -> (String, String, String) {
        let result = self.call(tool, args.clone());
        assert_eq!(result["isError"], true, "{tool} {args}: {result}");
        let text = result["content"][0]["text"].as_str().unwrap().to_string();
        // No structuredContent: a client validates it against a declared outputSchema even
        // when isError is set.
        assert!(result.get("structuredContent").is_none(), "{result}");
        let (kind, message) = text
            .split_once(": ")
            .unwrap_or_else(|| panic!("the text is `KIND: message`: {text}"));
        assert!(
            kind.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{text}"
        );
        (kind.to_string(), message.to_string(), text)
    }

    /// The MCP handshake; the `initialize` result.
    fn initialize(&mut self, version: &str) -> Value {
        let r = self.request(
            "initialize",
            json!({
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "e2e-test", "version": "0"},
            }),
        );
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        r["result"].clone()
    }

    /// Closes stdin and waits for the process to end; nothing more may be written.
    fn finish(mut self) -> ExitStatus {
        drop(self.stdin.take());
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                if let Ok(extra) = self.lines.try_recv() {
                    panic!("unexpected output after the last answer: {extra}");
                }
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "host-demo mcp did not exit after stdin closed"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Mcp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn widgets(ws: &Workspace) -> &Repository {
    ws.repository(WIDGETS).expect("widgets")
}

fn text_lines(content: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(content)
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect()
}

#[test]
fn mcp_session_lists_and_calls_the_tools() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let mut mcp = Mcp::start(&fake);

    let init = mcp.initialize("2025-06-18");
    assert_eq!(init["protocolVersion"], "2025-06-18");
    assert_eq!(init["serverInfo"]["name"], "bitbucket-connector");
    assert!(init["serverInfo"]["version"].is_string());
    assert!(init["capabilities"]["tools"].is_object(), "{init}");
    assert_eq!(mcp.request("ping", json!({}))["result"], json!({}));

    // tools/list: every tool, with the same descriptions and schemas as `host-demo tools`.
    let listed = mcp.request("tools/list", json!({}))["result"]["tools"].clone();
    let listed = listed.as_array().expect("tools");
    assert_eq!(listed.len(), TOOLS.len());
    let names: Vec<&str> = listed.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, TOOLS);
    let cli = Host::new(&fake).run(&["tools"]).json();
    for (t, c) in listed.iter().zip(cli.as_array().unwrap()) {
        assert_eq!(t["name"], c["name"]);
        assert_eq!(t["description"], c["description"]);
        assert_eq!(t["inputSchema"], c["input_schema"]);
        assert_eq!(t["inputSchema"]["type"], "object");
        assert_eq!(t["annotations"]["readOnlyHint"], true);
    }
    let schema_of =
        |name: &str| listed.iter().find(|t| t["name"] == name).unwrap()["inputSchema"].clone();
    assert_eq!(schema_of("read_file")["required"], json!(["path"]));
    assert_eq!(schema_of("get_commit")["required"], json!(["commit"]));
    assert!(schema_of("list_pipelines")["properties"]["status"].is_object());

    // list_repositories: every repository, most recently updated first.
    let repos = mcp.call_ok("list_repositories", json!({"limit": 100}));
    let expected = common::repositories_newest_first(&ws);
    let got: Vec<&str> = repos["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        expected.iter().map(|r| r.slug.as_str()).collect::<Vec<_>>()
    );
    assert_eq!(
        repos["repositories"][0]["full_name"],
        format!("acme/{}", got[0])
    );

    // read_file: the text is a header and numbered lines; structuredContent holds the rest
    // (not the lines again, so a file is not sent twice).
    let head = widgets(&ws).main_head().unwrap();
    let readme = &head.tree["README.md"];
    let expected_lines = text_lines(readme);
    let result = mcp.call("read_file", json!({"repo": "widgets", "path": "README.md"}));
    assert_eq!(result["isError"], false, "{result}");
    let structured = &result["structuredContent"];
    assert_eq!(structured["repo"], "acme/widgets");
    assert_eq!(structured["total_lines"], line_count(readme));
    assert_eq!(structured["end_line"], expected_lines.len());
    assert!(structured.get("lines").is_none(), "{structured}");
    let text = result["content"][0]["text"].as_str().unwrap();
    let mut rendered = text.lines();
    let header = rendered.next().unwrap();
    assert_eq!(
        header,
        format!(
            "acme/widgets at main, README.md: lines 1-{n} of {n}, {} bytes",
            readme.len(),
            n = expected_lines.len()
        )
    );
    let width = expected_lines.len().to_string().len();
    let body: Vec<&str> = rendered.collect();
    assert_eq!(
        body,
        expected_lines
            .iter()
            .enumerate()
            .map(|(i, l)| format!("{:>width$}| {l}", i + 1))
            .collect::<Vec<_>>()
    );
    assert!(!text.contains("\"number\""), "no JSON-escaped lines");

    // A line range.
    let spur = text_lines(&head.tree[NESTED_FILE]);
    let result = mcp.call(
        "read_file",
        json!({"repo": "widgets", "path": NESTED_FILE, "start_line": 3, "end_line": 6}),
    );
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(
        text.lines().next().unwrap().contains("lines 3-6 of"),
        "{text}"
    );
    assert_eq!(
        text.lines().skip(1).collect::<Vec<_>>(),
        (3..=6)
            .map(|n| format!("{n}| {}", spur[n - 1]))
            .collect::<Vec<_>>()
    );
    assert_eq!(result["structuredContent"]["start_line"], 3);

    // A binary file: a header only.
    let result = mcp.call("read_file", json!({"repo": "widgets", "path": BINARY_FILE}));
    let text = result["content"][0]["text"].as_str().unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("a binary file of"), "{text}");
    assert_eq!(result["structuredContent"]["binary"], true);

    // get_commit and list_commits against the sample history.
    let mixed = widgets(&ws)
        .commits
        .iter()
        .find(|c| c.subject() == MIXED_COMMIT_SUBJECT)
        .unwrap();
    let commit = mcp.call_ok(
        "get_commit",
        json!({"repo": "widgets", "commit": &mixed.hash[..10]}),
    );
    assert_eq!(commit["hash"], mixed.hash.as_str());
    assert_eq!(commit["parents"], json!(mixed.parents));
    let paths: BTreeSet<&str> = commit["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(BINARY_FILE), "{paths:?}");

    let log = widgets(&ws).log(&["main"], &[], None).unwrap();
    let commits = mcp.call_ok("list_commits", json!({"repo": "widgets", "limit": 5}));
    let hashes: Vec<&str> = commits["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["hash"].as_str().unwrap())
        .collect();
    assert_eq!(
        hashes,
        log[..5].iter().map(|c| c.hash.as_str()).collect::<Vec<_>>()
    );
    assert!(commits["next_page"].is_string());

    assert!(mcp.finish().success());
}

#[test]
fn mcp_tool_errors_are_results_and_the_server_keeps_serving() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let mut mcp = Mcp::start(&fake);
    mcp.initialize("2025-06-18");

    let (kind, message, text) = mcp.call_err(
        "read_file",
        json!({"repo": "no-such-repo", "path": "README.md"}),
    );
    assert_eq!(kind, "not_found");
    assert!(text.starts_with("not_found: "), "{text}");
    assert!(message.contains("no-such-repo"), "{message}");

    let (kind, _, _) = mcp.call_err("get_commit", json!({"repo": "widgets", "commit": "xyz!"}));
    assert_eq!(kind, "invalid_input");
    // Arguments the schema does not allow are a tool error too, not a protocol error.
    let (kind, _, _) = mcp.call_err("list_repositories", json!({"limit": "many"}));
    assert_eq!(kind, "invalid_input");

    // The process is still serving after the errors.
    let repos = mcp.call_ok("list_repositories", json!({"limit": 3}));
    assert_eq!(repos["repositories"].as_array().unwrap().len(), 3);
    let dir = mcp.call_ok("browse_repository", json!({"repo": "widgets"}));
    let head = widgets(&ws).main_head().unwrap();
    let expected_root = widgets(&ws).list_dir(head, "").unwrap().len();
    assert_eq!(dir["entries"].as_array().unwrap().len(), expected_root);

    // Protocol errors are JSON-RPC errors, and do not stop the server either.
    let r = mcp.request("resources/list", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    let r = mcp.request(
        "tools/call",
        json!({"name": "delete_repository", "arguments": {}}),
    );
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let r = mcp.request("tools/call", json!({"arguments": {}}));
    assert_eq!(r["error"]["code"], -32602, "{r}");
    mcp.send_raw("{this is not json");
    let r = mcp.recv();
    assert_eq!(r["error"]["code"], -32700, "{r}");
    assert_eq!(r["id"], Value::Null);
    assert_eq!(mcp.request("ping", json!({}))["result"], json!({}));
    let again = mcp.call_ok("list_repositories", json!({"limit": 1}));
    assert_eq!(again["repositories"].as_array().unwrap().len(), 1);

    assert!(mcp.finish().success());
}

#[test]
fn mcp_accepts_older_protocol_versions() {
    let fake = FakeBitbucket::start();
    for version in ["2025-03-26", "2024-11-05"] {
        let mut mcp = Mcp::start(&fake);
        let init = mcp.initialize(version);
        assert_eq!(init["protocolVersion"], version);
        let listed = mcp.request("tools/list", json!({}));
        assert_eq!(
            listed["result"]["tools"].as_array().unwrap().len(),
            TOOLS.len()
        );
        assert!(mcp.finish().success());
    }
    let mut mcp = Mcp::start(&fake);
    assert_eq!(
        mcp.initialize("1999-01-01")["protocolVersion"],
        "2025-06-18"
    );
}

#[test]
fn mcp_answers_concurrent_calls_and_respects_scope() {
    let fake = FakeBitbucket::start();
    let mut mcp = Mcp::start_with(&fake, &[("BITBUCKET_REPOSITORY", "acme/widgets")], &[]);
    mcp.initialize("2025-06-18");
    // Several requests in flight at once: each gets its own answer.
    let ids: Vec<i64> = [
        ("list_commits", json!({"limit": 2})),
        ("list_pull_requests", json!({"limit": 2})),
        (
            "read_file",
            json!({"repo": LEGACY_APP, "path": "README.md"}),
        ),
        ("list_repositories", json!({})),
    ]
    .into_iter()
    .map(|(tool, args)| mcp.send_request("tools/call", json!({"name": tool, "arguments": args})))
    .collect();
    let mut answers: Vec<Value> = (0..ids.len()).map(|_| mcp.recv()).collect();
    answers.sort_by_key(|a| a["id"].as_i64());
    assert_eq!(
        answers
            .iter()
            .map(|a| a["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        ids
    );
    assert_eq!(answers[0]["result"]["isError"], false, "{}", answers[0]);
    assert_eq!(
        answers[0]["result"]["structuredContent"]["commits"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(answers[1]["result"]["isError"], false, "{}", answers[1]);
    let scoped = &answers[2]["result"];
    assert_eq!(scoped["isError"], true, "{scoped}");
    assert!(scoped.get("structuredContent").is_none(), "{scoped}");
    assert!(
        scoped["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("out_of_scope: ")
    );
    let only: Vec<&str> = answers[3]["result"]["structuredContent"]["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["slug"].as_str().unwrap())
        .collect();
    assert_eq!(only, [WIDGETS]);
    assert!(mcp.finish().success());
}

#[test]
fn mcp_with_an_unusable_configuration_exits_2_and_writes_nothing_to_stdout() {
    let fake = FakeBitbucket::start();
    let out = Command::new(host_demo())
        .env_clear()
        .env("BITBUCKET_WORKSPACE", "acme")
        .env("BITBUCKET_API_BASE_URL", fake.base_url())
        .arg("--component")
        .arg(component())
        .args(["--config", "/nonexistent/connector.toml", "mcp"])
        .stdin(Stdio::null())
        .output()
        .expect("run host-demo mcp");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("connector.toml"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
