//! The Spin component in an independent host: `jco serve` (Node, jco's WASI HTTP server) with
//! `jco/spin-vars.mjs` standing in for `fermyon:spin/variables`, against the fake Bitbucket.
//! MCP over HTTP through it must answer exactly as `host-demo serve` does, and the endpoint
//! rules must hold there too.
//!
//! Needs `jco/node_modules` (`make jco-install`, which `.ci/run` runs). Without it the test
//! says so and passes, except under CI (`CI` set), where it fails.

mod common;

use common::{component, host_demo, workspace_root};
use fake_bitbucket::FakeBitbucket;
use fake_bitbucket::served::{Connection, McpSession, Served};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SERVER_TOKEN: &str = "jco-serve-test-token-93be61";

/// `jco serve` running the Spin component; killed when dropped.
struct JcoServe {
    child: Child,
    addr: SocketAddr,
}

impl Drop for JcoServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn jco() -> Option<PathBuf> {
    let jco = workspace_root().join("jco/node_modules/.bin/jco");
    if jco.exists() {
        return Some(jco);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing: CI must install it (`make jco-install`)",
        jco.display()
    );
    eprintln!("skipped: jco is not installed here; run `make jco-install` (needs npm)");
    None
}

fn spin_component() -> PathBuf {
    let p = common::target_dir().join("spin/wasm32-wasip2/component/bitbucket_spin.wasm");
    assert!(p.exists(), "{} is missing: run `make build`", p.display());
    p
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_jco(jco: &PathBuf, fake: &FakeBitbucket, variables: &[(&str, &str)]) -> JcoServe {
    let port = free_port();
    let vars = workspace_root().join("jco/spin-vars.mjs");
    let mut command = Command::new(jco);
    command
        .arg("serve")
        .arg(spin_component())
        .args(["--port", &port.to_string(), "--host", "127.0.0.1"])
        .arg("--jco-map")
        .arg(format!("fermyon:spin/variables=file://{}", vars.display()))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SPIN_VARIABLE_BITBUCKET_WORKSPACE", "acme")
        .env("SPIN_VARIABLE_BITBUCKET_API_BASE_URL", fake.base_url())
        .env("SPIN_VARIABLE_BITBUCKET_TOKEN", "test-token-valid")
        .stdin(Stdio::null());
    if let Ok(home) = std::env::var("HOME") {
        command.env("HOME", home);
    }
    for (name, value) in variables {
        command.env(
            format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()),
            value,
        );
    }
    // jco says where it listens on standard output or error, depending on the version.
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("start jco serve");
    let (tx, rx) = std::sync::mpsc::channel();
    let outputs: [Box<dyn Read + Send>; 2] = [
        Box::new(child.stdout.take().unwrap()),
        Box::new(child.stderr.take().unwrap()),
    ];
    for output in outputs {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines().map_while(Result::ok) {
                if line.contains("listening") {
                    let _ = tx.send(());
                } else {
                    eprintln!("jco serve: {line}");
                }
            }
        });
    }
    // Killed on drop, also when it does not start.
    let mut served = JcoServe {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    };
    let deadline = Instant::now() + Duration::from_secs(180);
    while rx.recv_timeout(Duration::from_millis(100)).is_err() {
        assert!(
            served.child.try_wait().unwrap().is_none(),
            "jco serve stopped"
        );
        assert!(
            Instant::now() < deadline,
            "jco serve did not start within 180 s"
        );
    }
    served
}

fn start_serve(fake: &FakeBitbucket) -> Served {
    let env: Vec<(String, String)> = [
        ("BITBUCKET_WORKSPACE", "acme".to_string()),
        ("BITBUCKET_API_BASE_URL", fake.base_url()),
        ("BITBUCKET_TOKEN", "test-token-valid".to_string()),
        ("CONNECTOR_SERVER_TOKEN", SERVER_TOKEN.to_string()),
        ("HOME", std::env::var("HOME").unwrap_or_default()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let component = component();
    Served::start(
        &host_demo(),
        &["--component", component.to_str().unwrap()],
        &["--listen", "127.0.0.1:0"],
        &env,
    )
    .unwrap_or_else(|(code, stderr)| panic!("serve stopped with {code}: {stderr}"))
}

/// The MCP exchanges compared between the two hosts.
fn exchanges() -> Vec<(&'static str, Value)> {
    vec![
        ("tools/list", json!({})),
        ("ping", json!({})),
        (
            "tools/call",
            json!({"name": "list_repositories", "arguments": {"limit": 4}}),
        ),
        (
            "tools/call",
            json!({"name": "read_file", "arguments": {"repo": "widgets", "path": "README.md", "end_line": 5}}),
        ),
        (
            "tools/call",
            json!({"name": "browse_repository", "arguments": {"repo": "widgets"}}),
        ),
        (
            "tools/call",
            json!({"name": "list_commits", "arguments": {"repo": "widgets", "limit": 3}}),
        ),
        (
            "tools/call",
            json!({"name": "list_pull_requests", "arguments": {"repo": "widgets", "state": ["OPEN", "MERGED"]}}),
        ),
        (
            "tools/call",
            json!({"name": "list_branches", "arguments": {"repo": "widgets"}}),
        ),
        (
            "tools/call",
            json!({"name": "read_file", "arguments": {"repo": "no-such-repo", "path": "x"}}),
        ),
        (
            "tools/call",
            json!({"name": "get_commit", "arguments": {"repo": "widgets", "commit": "zz"}}),
        ),
        ("tools/call", json!({"name": "no_such_tool"})),
        ("resources/list", json!({})),
    ]
}

#[test]
fn the_spin_component_under_jco_serve_answers_like_host_demo() {
    let Some(jco) = jco() else { return };
    let fake = FakeBitbucket::start();
    let served = start_serve(&fake);
    let node = start_jco(&jco, &fake, &[("server_token", SERVER_TOKEN)]);

    let mut from_node = McpSession::start(node.addr, Some(SERVER_TOKEN)).expect("MCP through jco");
    let mut from_wasmtime = McpSession::start(served.addr(), Some(SERVER_TOKEN)).unwrap();
    let mut compared = 0;
    for (method, params) in exchanges() {
        let a = from_node.request(method, params.clone()).unwrap();
        let b = from_wasmtime.request(method, params.clone()).unwrap();
        assert_eq!(a, b, "{method} {params}");
        compared += 1;
    }
    assert_eq!(compared, exchanges().len());
    // The answers carry the fake's data, so both really reached it.
    let r = from_node
        .call("list_repositories", json!({"limit": 2}))
        .unwrap();
    assert_eq!(
        r["structuredContent"]["repositories"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The endpoint rules hold under jco too.
    let mut connection = Connection::open(node.addr).unwrap();
    let ping = br#"{"jsonrpc": "2.0", "id": 1, "method": "ping"}"#;
    let host = node.addr.to_string();
    let r = connection
        .send(
            "POST",
            "/mcp",
            &[("host", &host), ("content-type", "application/json")],
            ping,
        )
        .unwrap();
    assert_eq!(r.status, 401);
    let bearer = format!("Bearer {SERVER_TOKEN}");
    let r = connection
        .send(
            "POST",
            "/tools/list_repositories",
            &[
                ("host", "attacker.example"),
                ("origin", "http://attacker.example"),
                ("authorization", &bearer),
            ],
            b"{}",
        )
        .unwrap();
    assert_eq!(r.status, 403);
}

#[test]
fn under_jco_serve_without_a_server_token_nothing_is_served() {
    let Some(jco) = jco() else { return };
    let fake = FakeBitbucket::start();
    let node = start_jco(&jco, &fake, &[]);
    let host = node.addr.to_string();
    let r = Connection::open(node.addr)
        .unwrap()
        .send(
            "POST",
            "/tools/list_repositories",
            &[("host", &host)],
            b"{}",
        )
        .unwrap();
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.json()["error"]["kind"], "config");
    assert!(fake.requests().is_empty());
}
