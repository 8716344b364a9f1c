//! End-to-end tests of `host-demo serve`: the real binary and component over real HTTP
//! against the fake Bitbucket. The endpoint's rules (server token on every route, `Host` and
//! `Origin` allow-list, refusing to start open, body cap), MCP answers equal to the command
//! line's, bounded concurrency that queues, and a graceful shutdown on SIGTERM.
//! Run `make build` first.

mod common;

use common::{Host, component, host_demo};
use fake_bitbucket::FakeBitbucket;
use fake_bitbucket::served::{Connection, McpSession, Reply, Served};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

const SERVER_TOKEN: &str = "serve-test-token-6f1d2a9c8b7e";

/// The connector's environment for `fake`, plus `extra`.
fn env(fake: &FakeBitbucket, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = vec![
        ("BITBUCKET_WORKSPACE".to_string(), "acme".to_string()),
        ("BITBUCKET_API_BASE_URL".to_string(), fake.base_url()),
        (
            "BITBUCKET_TOKEN".to_string(),
            "test-token-valid".to_string(),
        ),
    ];
    if let Ok(home) = std::env::var("HOME") {
        env.push(("HOME".into(), home));
    }
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

/// `serve` with the server token and `args`, `config` as the config file (if any).
fn start(fake: &FakeBitbucket, config: Option<&str>, args: &[&str]) -> Served {
    start_with(
        fake,
        config,
        args,
        &[("CONNECTOR_SERVER_TOKEN", SERVER_TOKEN)],
    )
    .unwrap_or_else(|(code, stderr)| panic!("serve stopped with {code}: {stderr}"))
}

fn start_with(
    fake: &FakeBitbucket,
    config: Option<&str>,
    args: &[&str],
    extra_env: &[(&str, &str)],
) -> Result<Served, (i32, String)> {
    let component = component();
    let mut pre = vec!["--component", component.to_str().unwrap()];
    let file = config.map(|text| {
        let path = std::env::temp_dir().join(format!(
            "serve-test-{}-{}.toml",
            std::process::id(),
            fake.port()
        ));
        std::fs::write(&path, text).unwrap();
        path
    });
    if let Some(path) = &file {
        pre.extend(["--config", path.to_str().unwrap()]);
    }
    let mut all = vec!["--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    Served::start(&host_demo(), &pre, &all, &env(fake, extra_env))
}

fn send(served: &Served, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    Connection::open(served.addr())
        .unwrap()
        .send(method, path, headers, body.as_bytes())
        .unwrap()
}

const BEARER: &str = "Bearer serve-test-token-6f1d2a9c8b7e";
const PING: &str = r#"{"jsonrpc": "2.0", "id": 1, "method": "ping"}"#;

/// Every route, each with a request that would reach Bitbucket (or list the tools) if it
/// were let through.
fn every_route() -> Vec<(&'static str, &'static str, String)> {
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                      "params": {"name": "list_repositories", "arguments": {}}});
    vec![
        ("POST", "/mcp", call.to_string()),
        ("POST", "/mcp", PING.to_string()),
        ("GET", "/tools", String::new()),
        ("POST", "/tools/list_repositories", "{}".to_string()),
        (
            "POST",
            "/tools/read_file",
            r#"{"repo": "widgets", "path": "README.md"}"#.to_string(),
        ),
    ]
}

#[test]
fn serve_refuses_to_start_without_a_usable_token() {
    let fake = FakeBitbucket::start();
    let refused = |args: &[&str], env: &[(&str, &str)]| {
        let (code, stderr) = start_with(&fake, None, args, env)
            .err()
            .expect("serve must not start");
        assert_eq!(code, 2, "{stderr}");
        stderr
    };
    let e = refused(&[], &[]);
    assert!(
        e.contains("needs a server token") && e.contains("CONNECTOR_SERVER_TOKEN"),
        "{e}"
    );
    // Unauthenticated only on loopback.
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let e = refused(&["--listen", listen, "--allow-unauthenticated"], &[]);
        assert!(e.contains("loopback"), "{e}");
    }
    // A blank token is a slip, not "no token"; a short one is refused without being echoed.
    let e = refused(
        &["--allow-unauthenticated"],
        &[("CONNECTOR_SERVER_TOKEN", "  ")],
    );
    assert!(e.contains("blank"), "{e}");
    let e = refused(&[], &[("CONNECTOR_SERVER_TOKEN", "tiny-secret")]);
    assert!(e.contains("shorter") && !e.contains("tiny-secret"), "{e}");
    let e = start_with(&fake, Some("[server]\ntoken = \"\"\n"), &[], &[])
        .err()
        .unwrap();
    assert_eq!(e.0, 2);
    assert!(e.1.contains("server.token"), "{}", e.1);
    assert!(fake.requests().is_empty());
}

#[test]
fn every_route_needs_the_server_token() {
    let fake = FakeBitbucket::start();
    let served = start(&fake, None, &[]);
    for (method, path, body) in every_route() {
        for authorization in [
            None,
            Some("Bearer wrong-token"),
            Some("Bearer serve-test-token-6f1d2a9c8b7"),
            Some("Bearer serve-test-token-6f1d2a9c8b7e0"),
            Some("Bearer test-token-valid"),
            Some("Basic c2VydmUtdGVzdC10b2tlbi02ZjFkMmE5YzhiN2U="),
        ] {
            let mut headers = vec![("host", "127.0.0.1")];
            headers.extend(authorization.map(|a| ("authorization", a)));
            let r = send(&served, method, path, &headers, &body);
            assert_eq!(
                r.status,
                401,
                "{method} {path} {authorization:?}: {}",
                r.text()
            );
            assert_eq!(
                r.header("www-authenticate"),
                Some("Bearer realm=\"bitbucket-connector\"")
            );
            assert!(!r.text().contains(SERVER_TOKEN));
        }
    }
    assert!(fake.requests().is_empty(), "nothing ran without the token");

    // With it: the same answers as the command line.
    let cli = Host::new(&fake);
    let r = send(
        &served,
        "GET",
        "/tools",
        &[("host", "localhost"), ("authorization", BEARER)],
        "",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), cli.run(&["tools"]).json());
    let args = json!({"repo": "widgets", "path": "README.md", "end_line": 3});
    let r = send(
        &served,
        "POST",
        "/tools/read_file",
        &[("host", "localhost"), ("authorization", BEARER)],
        &args.to_string(),
    );
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("application/json"))
    );
    assert_eq!(r.json(), cli.call("read_file", args));
    let r = send(
        &served,
        "POST",
        "/tools/read_file",
        &[("host", "localhost"), ("authorization", BEARER)],
        r#"{"repo": "no-such-repo", "path": "x"}"#,
    );
    assert_eq!(
        (r.status, &r.json()["error"]["kind"]),
        (404, &json!("not_found"))
    );
    assert!(!served.stderr().contains(SERVER_TOKEN));
}

#[test]
fn foreign_hosts_and_origins_are_refused() {
    let fake = FakeBitbucket::start();
    let served = start(
        &fake,
        Some("[server]\nallowed_hosts = [\"mcp.example.com\"]\n"),
        &[],
    );
    for (method, path, body) in every_route() {
        for (host, origin) in [
            // A DNS-rebinding page: its own name as Host and Origin, which agree.
            (
                "attacker.example:8080",
                Some("http://attacker.example:8080"),
            ),
            ("attacker.example", None),
            ("localhost.attacker.example", None),
            // A page from another site calling a local or an allowed name.
            ("127.0.0.1", Some("https://attacker.example")),
            ("mcp.example.com", Some("https://attacker.example")),
            ("localhost", Some("null")),
        ] {
            let mut headers = vec![("host", host), ("authorization", BEARER)];
            headers.extend(origin.map(|o| ("origin", o)));
            let r = send(&served, method, path, &headers, &body);
            assert_eq!(
                r.status, 403,
                "{method} {path} Host {host} Origin {origin:?}"
            );
        }
    }
    assert!(
        fake.requests().is_empty(),
        "nothing ran for a refused request"
    );
    for (host, origin) in [
        ("mcp.example.com", Some("https://mcp.example.com")),
        ("mcp.example.com:443", None),
        ("127.0.0.1:8080", Some("http://localhost:6274")),
        ("[::1]:8080", None),
    ] {
        let mut headers = vec![("host", host), ("authorization", BEARER)];
        headers.extend(origin.map(|o| ("origin", o)));
        let r = send(&served, "POST", "/mcp", &headers, PING);
        assert_eq!(r.status, 200, "Host {host} Origin {origin:?}: {}", r.text());
    }
}

#[test]
fn unauthenticated_use_is_loopback_only_and_still_checks_the_host() {
    let fake = FakeBitbucket::start();
    let served = start_with(&fake, None, &["--allow-unauthenticated"], &[]).unwrap();
    assert!(
        served.stderr().contains("NO AUTHENTICATION"),
        "{}",
        served.stderr()
    );
    let mut session = McpSession::start(served.addr(), None).unwrap();
    let r = session
        .call("list_repositories", json!({"limit": 2}))
        .unwrap();
    assert_eq!(r["isError"], false);
    assert_eq!(
        r["structuredContent"]["repositories"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let r = send(
        &served,
        "POST",
        "/mcp",
        &[
            ("host", "attacker.example"),
            ("origin", "http://attacker.example"),
        ],
        PING,
    );
    assert_eq!(r.status, 403);
}

#[test]
fn mcp_over_http_answers_as_the_command_line_does() {
    let fake = FakeBitbucket::start();
    let served = start(&fake, None, &[]);
    let cli = Host::new(&fake);
    let mut session = McpSession::start(served.addr(), Some(SERVER_TOKEN)).unwrap();
    let listed = session.request("tools/list", json!({})).unwrap();
    let listed = listed["result"]["tools"].as_array().unwrap().clone();
    let tools = cli.run(&["tools"]).json();
    assert_eq!(listed.len(), tools.as_array().unwrap().len());
    for (t, c) in listed.iter().zip(tools.as_array().unwrap()) {
        assert_eq!(
            (&t["name"], &t["inputSchema"]),
            (&c["name"], &c["input_schema"])
        );
    }
    for (tool, args) in [
        ("list_repositories", json!({"limit": 3})),
        ("list_commits", json!({"repo": "widgets", "limit": 2})),
        ("list_pull_requests", json!({"repo": "widgets"})),
    ] {
        let r = session.call(tool, args.clone()).unwrap();
        assert_eq!(r["isError"], false, "{tool}: {r}");
        assert_eq!(r["structuredContent"], cli.call(tool, args), "{tool}");
    }
    let r = session
        .call("get_commit", json!({"repo": "widgets", "commit": "zz"}))
        .unwrap();
    assert_eq!(r["isError"], true);
    assert!(
        r["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("invalid_input: ")
    );
    // Stateless: no session id, no event stream.
    let r = session
        .post(&json!({"jsonrpc": "2.0", "id": 9, "method": "ping"}))
        .unwrap();
    assert_eq!(r.header("mcp-session-id"), None);
    let r = send(
        &served,
        "GET",
        "/mcp",
        &[("host", "localhost"), ("authorization", BEARER)],
        "",
    );
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
}

#[test]
fn a_body_over_the_cap_is_refused() {
    let fake = FakeBitbucket::start();
    let served = start(&fake, None, &[]);
    let five_mib = (5usize << 20).to_string();
    let r = send(
        &served,
        "POST",
        "/mcp",
        &[
            ("host", "localhost"),
            ("authorization", BEARER),
            ("content-length", &five_mib),
        ],
        "",
    );
    assert_eq!(r.status, 413, "{}", r.text());
    // Chunked, without a length to check up front: cut at the cap.
    let mut stream = std::net::TcpStream::connect(served.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST /tools/read_file HTTP/1.1\r\nhost: localhost\r\nauthorization: {BEARER}\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b' '; 64 << 10];
    for _ in 0..80 {
        if stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .is_err()
            || stream.write_all(&chunk).is_err()
            || stream.write_all(b"\r\n").is_err()
        {
            break;
        }
    }
    let mut answer = vec![0; 64];
    let n = stream.read(&mut answer).unwrap();
    let status_line = String::from_utf8_lossy(&answer[..n]);
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
    assert!(fake.requests().is_empty());
}

#[test]
fn calls_beyond_the_limit_wait_their_turn_and_a_long_wait_times_out() {
    let fake = FakeBitbucket::start();
    let served = start(
        &fake,
        Some("[server]\nmax_concurrent_calls = 2\nqueue_timeout_seconds = 20\n"),
        &[],
    );
    fake.set_latency(Duration::from_millis(400));
    let started = Instant::now();
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let addr = served.addr();
            std::thread::spawn(move || {
                let mut session = McpSession::start(addr, Some(SERVER_TOKEN)).unwrap();
                session
                    .call("list_repositories", json!({"limit": 1}))
                    .unwrap()
            })
        })
        .collect();
    for call in calls {
        let r = call.join().unwrap();
        assert_eq!(r["isError"], false, "{r}");
    }
    // Six one-request calls, two at a time: at least three waves of 400 ms.
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1200), "{took:?}");
    drop(served);

    let served = start(
        &fake,
        Some("[server]\nmax_concurrent_calls = 1\nqueue_timeout_seconds = 1\n"),
        &[],
    );
    fake.set_latency(Duration::from_millis(2500));
    let first = {
        let addr = served.addr();
        std::thread::spawn(move || {
            McpSession::start(addr, Some(SERVER_TOKEN))
                .unwrap()
                .call("list_repositories", json!({"limit": 1}))
                .unwrap()
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let mut second = McpSession::start(served.addr(), Some(SERVER_TOKEN)).unwrap();
    let r = second
        .call("list_repositories", json!({"limit": 1}))
        .unwrap();
    assert_eq!(r["isError"], true, "{r}");
    let text = r["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("timeout: the server is busy"), "{text}");
    assert_eq!(first.join().unwrap()["isError"], false);
}

#[test]
fn sigterm_lets_the_call_in_flight_finish_then_exits() {
    let fake = FakeBitbucket::start();
    let mut served = start(&fake, None, &[]);
    let mut session = McpSession::start(served.addr(), Some(SERVER_TOKEN)).unwrap();
    fake.set_latency(Duration::from_millis(1500));
    let in_flight =
        std::thread::spawn(move || session.call("list_repositories", json!({"limit": 2})));
    std::thread::sleep(Duration::from_millis(400));
    let addr = served.addr();
    let code = served.terminate(Duration::from_secs(15));
    assert_eq!(code, Some(0), "{}", served.stderr());
    let r: Value = in_flight
        .join()
        .unwrap()
        .expect("the call in flight is answered");
    assert_eq!(r["isError"], false, "{r}");
    assert_eq!(
        r["structuredContent"]["repositories"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "no longer accepting"
    );
    assert!(served.stderr().contains("stopped"));
}
