//! The endpoint rules and routes, each rule on every route.

use super::*;
use crate::{BoxFuture, ToolSpec};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

const TOKEN: &str = "s3rver-token-0123456789";

/// Runs a future that never waits (the backend here answers at once).
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

/// Two tools; counts the calls that reach it.
struct Fake {
    tools: Vec<ToolSpec>,
    calls: AtomicUsize,
}

impl Fake {
    fn new() -> Fake {
        let spec = |name: &str| ToolSpec {
            name: name.to_string(),
            wit_name: name.replace('_', "-"),
            title: format!("The {name} tool"),
            description: format!("{name} does things"),
            input_schema: json!({"type": "object"}),
        };
        Fake {
            tools: vec![spec("read_file"), spec("list_commits")],
            calls: AtomicUsize::new(0),
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
        self.calls.fetch_add(1, Ordering::SeqCst);
        let outcome = match args.get("fail").and_then(Value::as_str) {
            Some(kind) => CallOutcome::tool_error(kind, "it failed"),
            None => CallOutcome::Success(json!({"tool": name, "args": args})),
        };
        Box::pin(async move { Ok(outcome) })
    }
}

/// Admits, then routes, as both hosts do.
fn send_with(
    policy: &AccessPolicy,
    backend: &Fake,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    peer_is_loopback: Option<bool>,
    body: &str,
) -> Answer {
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
    let head = RequestHead {
        method,
        path,
        header: &header,
        peer_is_loopback,
    };
    match policy.admit(&head) {
        Err(answer) => answer,
        Ok(()) => ready(route(&head, body.as_bytes(), backend)),
    }
}

fn token_policy() -> AccessPolicy {
    AccessPolicy::new(
        Some(TOKEN.to_string()),
        [
            "mcp.example.com".to_string(),
            "tools.example.org:8443".to_string(),
        ],
        false,
    )
}

const BEARER: &str = "Bearer s3rver-token-0123456789";

/// An authorised request from a loopback client.
fn send(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut all = vec![("host", "localhost:3000"), ("authorization", BEARER)];
    all.extend_from_slice(headers);
    send_with(
        &token_policy(),
        &Fake::new(),
        method,
        path,
        &all,
        None,
        body,
    )
}

fn body(answer: &Answer) -> Value {
    serde_json::from_slice(&answer.body).unwrap()
}

/// One request per route, each of which would run or list tools if admitted.
fn every_route() -> [(&'static str, &'static str, &'static str); 4] {
    let ping = r#"{"jsonrpc": "2.0", "id": 1, "method": "ping"}"#;
    [
        ("POST", "/mcp", ping),
        ("GET", "/tools", ""),
        ("POST", "/tools/read_file", r#"{"path": "x"}"#),
        ("POST", "/tools/list_commits", "{}"),
    ]
}

#[test]
fn the_token_is_required_on_every_route() {
    let policy = token_policy();
    for (method, path, payload) in every_route() {
        for authorization in [
            None,
            Some(""),
            Some("Bearer"),
            Some("Bearer wrong"),
            Some("Bearer s3rver-token-012345678"),
            Some("Bearer s3rver-token-01234567890"),
            Some("Basic czNydmVyLXRva2VuLTAxMjM0NTY3ODk="),
            Some("s3rver-token-0123456789"),
        ] {
            let fake = Fake::new();
            let mut headers = vec![("host", "localhost:3000")];
            headers.extend(authorization.map(|a| ("authorization", a)));
            let a = send_with(&policy, &fake, method, path, &headers, None, payload);
            assert_eq!(a.status, 401, "{method} {path} {authorization:?}");
            assert_eq!(
                a.header("www-authenticate"),
                Some("Bearer realm=\"bitbucket-connector\"")
            );
            assert_eq!(fake.calls.load(Ordering::SeqCst), 0, "nothing runs");
            assert!(!String::from_utf8_lossy(&a.body).contains(TOKEN));
        }
        // The right token, with the scheme in any case.
        for authorization in [BEARER, "bearer s3rver-token-0123456789"] {
            let a = send_with(
                &policy,
                &Fake::new(),
                method,
                path,
                &[("host", "localhost:3000"), ("authorization", authorization)],
                None,
                payload,
            );
            assert_eq!(
                a.status,
                200,
                "{method} {path}: {}",
                String::from_utf8_lossy(&a.body)
            );
        }
    }
    // A JSON-RPC error on /mcp, the contract's error object elsewhere.
    let a = send_with(
        &policy,
        &Fake::new(),
        "POST",
        "/mcp",
        &[("host", "localhost")],
        None,
        "{}",
    );
    assert_eq!(body(&a)["error"]["code"], code::INVALID_REQUEST);
    let a = send_with(
        &policy,
        &Fake::new(),
        "GET",
        "/tools",
        &[("host", "localhost")],
        None,
        "",
    );
    assert_eq!(body(&a)["error"]["kind"], "unauthorized");
}

#[test]
fn only_loopback_and_allowed_hosts_are_served() {
    let policy = token_policy();
    for (method, path, payload) in every_route() {
        for host in [
            "localhost",
            "localhost:3000",
            "LOCALHOST:3000",
            "127.0.0.1:8080",
            "127.1.2.3",
            "[::1]:8080",
            "mcp.example.com",
            "mcp.example.com:443",
            "tools.example.org:8443",
        ] {
            let a = send_with(
                &policy,
                &Fake::new(),
                method,
                path,
                &[("host", host), ("authorization", BEARER)],
                None,
                payload,
            );
            assert_eq!(a.status, 200, "{method} {path} Host: {host}");
        }
        for host in [
            "",
            "evil.example",
            "evil.example:3000",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "mcp.example.com.evil.example",
            "tools.example.org",
            "tools.example.org:9000",
            "user@localhost",
            "localhost:abc",
            "[::2]:8080",
        ] {
            let fake = Fake::new();
            let a = send_with(
                &policy,
                &fake,
                method,
                path,
                &[("host", host), ("authorization", BEARER)],
                None,
                payload,
            );
            assert_eq!(a.status, 403, "{method} {path} Host: {host}");
            assert_eq!(fake.calls.load(Ordering::SeqCst), 0);
        }
        // No Host header at all.
        let a = send_with(
            &policy,
            &Fake::new(),
            method,
            path,
            &[("authorization", BEARER)],
            None,
            payload,
        );
        assert_eq!(a.status, 403);
    }
}

/// A DNS-rebinding page sends its own name as both `Host` and `Origin`: the two agree, and
/// it is still refused.
#[test]
fn a_rebinding_page_whose_origin_matches_its_host_is_refused() {
    for (method, path, payload) in every_route() {
        let a = send_with(
            &token_policy(),
            &Fake::new(),
            method,
            path,
            &[
                ("host", "attacker.example:3000"),
                ("origin", "http://attacker.example:3000"),
                ("authorization", BEARER),
            ],
            None,
            payload,
        );
        assert_eq!(a.status, 403, "{method} {path}");
    }
}

#[test]
fn an_origin_must_be_allowed_on_every_route() {
    for (method, path, payload) in every_route() {
        for origin in [
            "http://localhost:3000",
            "http://127.0.0.1:6274",
            "https://mcp.example.com",
            "https://tools.example.org:8443",
        ] {
            let a = send(method, path, &[("origin", origin)], payload);
            assert_eq!(a.status, 200, "{method} {path} Origin: {origin}");
        }
        for origin in [
            "https://evil.example",
            "http://localhost.evil.example",
            "null",
            "file://",
            "https://tools.example.org",
            "http://user@localhost:3000",
            "localhost",
        ] {
            let a = send(method, path, &[("origin", origin)], payload);
            assert_eq!(a.status, 403, "{method} {path} Origin: {origin}");
        }
    }
}

#[test]
fn without_a_token_nothing_is_served_unless_unauthenticated_loopback_was_allowed() {
    let closed = AccessPolicy::new(None, ["mcp.example.com".to_string()], false);
    let open = AccessPolicy::new(None, ["mcp.example.com".to_string()], true);
    for (method, path, payload) in every_route() {
        let fake = Fake::new();
        let a = send_with(
            &closed,
            &fake,
            method,
            path,
            &[("host", "localhost")],
            Some(true),
            payload,
        );
        assert_eq!(a.status, 500, "{method} {path}");
        assert_eq!(fake.calls.load(Ordering::SeqCst), 0);
        let a = send_with(
            &closed,
            &fake,
            method,
            path,
            &[("host", "localhost"), ("authorization", BEARER)],
            Some(true),
            payload,
        );
        assert_eq!(
            a.status, 500,
            "a token when none is configured opens nothing"
        );

        for peer in [Some(true), None] {
            let a = send_with(
                &open,
                &Fake::new(),
                method,
                path,
                &[("host", "127.0.0.1:8080")],
                peer,
                payload,
            );
            assert_eq!(a.status, 200, "{method} {path} {peer:?}");
        }
        // Unauthenticated use is for loopback only: not an allowed public name, not a
        // remote peer that says `Host: localhost`.
        let a = send_with(
            &open,
            &Fake::new(),
            method,
            path,
            &[("host", "mcp.example.com")],
            Some(true),
            payload,
        );
        assert_eq!(a.status, 403);
        let a = send_with(
            &open,
            &Fake::new(),
            method,
            path,
            &[("host", "localhost")],
            Some(false),
            payload,
        );
        assert_eq!(a.status, 403);
    }
    assert!(!closed.has_token() && token_policy().has_token());
    assert!(!format!("{:?}", token_policy()).contains(TOKEN));
}

#[test]
fn a_body_over_the_cap_is_refused_before_it_is_read() {
    let too_long = (MAX_BODY_BYTES + 1).to_string();
    let a = send(
        "POST",
        "/tools/read_file",
        &[("content-length", &too_long)],
        "{}",
    );
    assert_eq!(a.status, 413);
    let a = send("POST", "/mcp", &[("content-length", "12x")], "{}");
    assert_eq!(a.status, 413);
    let fits = MAX_BODY_BYTES.to_string();
    let fake = Fake::new();
    let head_only = |length: &str| {
        let length = length.to_string();
        let header = move |name: &str| match name {
            "host" => Some("localhost".to_string()),
            "authorization" => Some(BEARER.to_string()),
            "content-length" => Some(length.clone()),
            _ => None,
        };
        token_policy()
            .admit(&RequestHead {
                method: "POST",
                path: "/mcp",
                header: &header,
                peer_is_loopback: None,
            })
            .map_err(|a| a.status)
    };
    assert_eq!(head_only(&fits), Ok(()));
    assert_eq!(head_only(&too_long), Err(413));
    assert_eq!(fake.calls.load(Ordering::SeqCst), 0);
    assert_eq!(Answer::too_large().status, 413);
}

#[test]
fn constant_time_comparison() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
    assert!(!constant_time_eq(b"abc", b""));
    assert!(!constant_time_eq(b"", b"a"));
    assert!(constant_time_eq(b"", b""));
    // A presented value shorter than the token whose bytes would match the padding.
    assert!(!constant_time_eq(&[0xff], &[]));
    assert!(!constant_time_eq(&[0], &[]));
}

#[test]
fn tool_calls_and_error_statuses() {
    let a = send("POST", "/tools/read_file", &[], r#"{"path": "x"}"#);
    assert_eq!(a.status, 200);
    assert_eq!(a.header("content-type"), Some("application/json"));
    assert_eq!(
        body(&a),
        json!({"tool": "read_file", "args": {"path": "x"}})
    );
    let a = send("POST", "/tools/read_file", &[], "  ");
    assert_eq!(body(&a)["args"], json!({}));
    for (kind, status) in [
        ("invalid_input", 400),
        ("out_of_scope", 403),
        ("forbidden", 403),
        ("search_unavailable", 403),
        ("unauthorized", 401),
        ("not_found", 404),
        ("pipelines_unavailable", 404),
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
    assert_eq!(
        (a.status, &body(&a)["error"]["kind"]),
        (404, &json!("not_found"))
    );
    let a = send("POST", "/tools/read_file", &[], "[1]");
    assert_eq!(
        (a.status, &body(&a)["error"]["kind"]),
        (400, &json!("invalid_input"))
    );
    assert_eq!(send("POST", "/tools/read_file", &[], "{broken").status, 400);
    let a = send("GET", "/tools/read_file", &[], "");
    assert_eq!((a.status, a.header("allow")), (405, Some("POST")));
    assert_eq!(send("GET", "/elsewhere", &[], "").status, 404);
    let a = send("GET", "/tools", &[], "");
    assert_eq!(body(&a), crate::tools_json(&Fake::new().tools));
}

#[test]
fn mcp_over_http() {
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                      "params": {"protocolVersion": "2025-06-18"}});
    let a = send("POST", "/mcp", &[], &init.to_string());
    assert_eq!(
        (a.status, a.header("content-type")),
        (200, Some("application/json"))
    );
    assert_eq!(body(&a)["result"]["protocolVersion"], "2025-06-18");
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let a = send("POST", "/mcp", &[], &note.to_string());
    assert_eq!(
        (a.status, a.header("content-type"), a.body.len()),
        (202, None, 0)
    );
    let a = send("POST", "/mcp", &[], "{broken");
    assert_eq!(a.status, 400);
    assert_eq!(body(&a)["error"]["code"], code::PARSE_ERROR);
    for method in ["GET", "DELETE"] {
        let a = send(method, "/mcp", &[], "");
        assert_eq!((a.status, a.header("allow")), (405, Some("POST")));
    }
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}).to_string();
    let a = send(
        "POST",
        "/mcp",
        &[("mcp-protocol-version", "2025-06-18")],
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
    // A batch: answered for a client without the header (2025-03-26), refused for 2025-06-18.
    let batch = format!("[{ping},{ping}]");
    let a = send("POST", "/mcp", &[], &batch);
    assert_eq!(body(&a).as_array().map(Vec::len), Some(2), "{:?}", body(&a));
    let a = send(
        "POST",
        "/mcp",
        &[("mcp-protocol-version", "2025-06-18")],
        &batch,
    );
    assert_eq!(a.status, 400);
    assert_eq!(body(&a)["error"]["code"], code::INVALID_REQUEST);
    let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                      "params": {"name": "read_file", "arguments": {"path": "a"}}});
    let a = send("POST", "/mcp", &[], &call.to_string());
    assert_eq!(
        body(&a)["result"]["structuredContent"]["args"],
        json!({"path": "a"})
    );
}
