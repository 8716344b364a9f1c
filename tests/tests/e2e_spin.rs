//! End-to-end tests of the Spin HTTP component (`spin/`): the built component, served by a
//! wasmtime test host that provides what Spin provides (wasi:http incoming and outgoing,
//! Spin variables, an outbound allowlist), against the fake Bitbucket: MCP over HTTP and
//! the JSON API. Run `make build` first.

mod common;
mod spin_host;

use common::Host;
use fake_bitbucket::FakeBitbucket;
use fake_bitbucket::model::line_count;
use fake_bitbucket::sample::*;
use serde_json::{Value, json};
use spin_host::SpinHost;

const TOKEN: &str = "test-token-valid";

/// The Spin variables of the sample `spin.toml`, pointed at the fake.
fn host(fake: &FakeBitbucket) -> SpinHost {
    SpinHost::new(
        fake.origin(),
        &[
            ("bitbucket_workspace", WORKSPACE),
            ("bitbucket_api_base_url", &fake.base_url()),
            ("bitbucket_token", TOKEN),
        ],
    )
}

fn rpc(id: i64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

#[test]
fn spin_component_speaks_mcp_over_http() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let spin = host(&fake);

    let a = spin.mcp(&rpc(
        1,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "test", "version": "0"}}),
    ));
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.content_type(), Some("application/json"));
    let init = a.json();
    assert_eq!(init["id"], 1);
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(init["result"]["serverInfo"]["name"], "bitbucket-connector");
    assert!(init["result"]["capabilities"]["tools"].is_object());

    // A notification: 202 Accepted, empty body.
    let a = spin.mcp(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    assert_eq!((a.status, a.body.len()), (202, 0), "{}", a.text());

    assert_eq!(
        spin.mcp(&rpc(2, "ping", json!({}))).json(),
        json!({"jsonrpc": "2.0", "id": 2, "result": {}})
    );

    // tools/list: the same names, descriptions and schemas as `host-demo tools`.
    let listed = spin.mcp(&rpc(3, "tools/list", json!({}))).json()["result"]["tools"].clone();
    let listed = listed.as_array().expect("tools");
    let cli = Host::new(&fake).run(&["tools"]).json();
    let cli = cli.as_array().unwrap();
    assert_eq!(listed.len(), common::TOOLS.len());
    assert_eq!(listed.len(), cli.len());
    for (t, c) in listed.iter().zip(cli) {
        assert_eq!(t["name"], c["name"]);
        assert_eq!(t["description"], c["description"]);
        assert_eq!(t["inputSchema"], c["input_schema"]);
        assert_eq!(t["annotations"]["readOnlyHint"], true);
    }

    // tools/call: list_repositories, values from the fake.
    let r = spin.mcp(&rpc(
        4,
        "tools/call",
        json!({"name": "list_repositories", "arguments": {"limit": 100}}),
    ));
    let result = &r.json()["result"];
    assert_eq!(result["isError"], false, "{result}");
    let expected = common::repositories_newest_first(&ws);
    let got: Vec<&str> = result["structuredContent"]["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        expected.iter().map(|r| r.slug.as_str()).collect::<Vec<_>>()
    );
    // The text is the shared crate's rendering of the same result.
    let text = result["content"][0]["text"].as_str().unwrap();
    assert_eq!(
        Some(text.to_string()),
        host_demo::mcp::render::render("list_repositories", &result["structuredContent"])
    );

    // tools/call: read_file, rendered as numbered lines.
    let head = ws.repository(WIDGETS).unwrap().main_head().unwrap();
    let readme = &head.tree["README.md"];
    let first = String::from_utf8_lossy(readme)
        .lines()
        .next()
        .unwrap()
        .to_string();
    let r = spin.mcp(&rpc(
        5,
        "tools/call",
        json!({"name": "read_file", "arguments": {"repo": "widgets", "path": "README.md"}}),
    ));
    let result = &r.json()["result"];
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"]["repo"], "acme/widgets");
    assert_eq!(
        result["structuredContent"]["total_lines"],
        line_count(readme)
    );
    let text = result["content"][0]["text"].as_str().unwrap();
    let mut lines = text.lines();
    assert!(
        lines.next().unwrap().starts_with("acme/widgets at "),
        "{text}"
    );
    assert!(
        lines.next().unwrap().ends_with(&format!("| {first}")),
        "{text}"
    );

    // A failing tool is a result with isError, not a protocol error.
    let r = spin.mcp(&rpc(
        6,
        "tools/call",
        json!({"name": "list_commits", "arguments": {"repo": "no-such-repo"}}),
    ));
    assert_eq!(r.status, 200);
    let result = &r.json()["result"];
    assert_eq!(result["isError"], true, "{result}");
    assert!(result.get("structuredContent").is_none(), "{result}");
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("not_found: ")
    );

    // Protocol errors: unknown method; unparseable JSON is a 400.
    let r = spin.mcp(&rpc(7, "resources/list", json!({}))).json();
    assert_eq!(r["error"]["code"], -32601, "{r}");
    let a = spin.send("POST", "/mcp", &[], "{not json");
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["error"]["code"], -32700);
    assert_eq!(spin.send("GET", "/mcp", &[], "").status, 405);

    // The component sent the configured token to the fake, and nothing else anywhere.
    let auth: Vec<String> = fake
        .requests()
        .iter()
        .flat_map(|r| r.headers.clone())
        .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v)
        .collect();
    assert!(!auth.is_empty());
    assert!(
        auth.iter().all(|v| v == &format!("Bearer {TOKEN}")),
        "{auth:?}"
    );
    assert!(spin.denied().is_empty(), "{:?}", spin.denied());
}

#[test]
fn spin_component_serves_the_json_api() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let spin = host(&fake);

    // GET /tools: exactly what `host-demo tools` prints.
    let a = spin.send("GET", "/tools", &[], "");
    assert_eq!(a.status, 200);
    assert_eq!(a.content_type(), Some("application/json"));
    assert_eq!(a.json(), Host::new(&fake).run(&["tools"]).json());

    // POST /tools/read_file: the contract's JSON result, the same as `host-demo call`.
    let args = json!({"repo": "widgets", "path": NESTED_FILE, "start_line": 2, "end_line": 4});
    let a = spin.call("read_file", &args);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.content_type(), Some("application/json"));
    let got = a.json();
    let spur = ws.repository(WIDGETS).unwrap().main_head().unwrap().tree[NESTED_FILE].clone();
    let spur: Vec<String> = String::from_utf8_lossy(&spur)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(got["path"], NESTED_FILE);
    assert_eq!(
        (got["start_line"].clone(), got["end_line"].clone()),
        (json!(2), json!(4))
    );
    let lines: Vec<&str> = got["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        lines,
        spur[1..4].iter().map(String::as_str).collect::<Vec<_>>()
    );
    let expected = Host::new(&fake).call("read_file", args);
    // Same fields in the same (WIT) order, not only the same values.
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&got), keys(&expected));
    assert_eq!(got, expected);

    // Errors: the contract's error object with a fitting status.
    let a = spin.call("read_file", &json!({"repo": "no-such-repo", "path": "x"}));
    assert_eq!(a.status, 404, "{}", a.text());
    assert_eq!(a.json()["error"]["kind"], "not_found");
    assert!(a.json()["error"]["message"].is_string());
    let a = spin.call("get_commit", &json!({"repo": "widgets"}));
    assert_eq!(a.status, 400, "{}", a.text());
    assert_eq!(a.json()["error"]["kind"], "invalid_input");
    let a = spin.call(
        "read_file",
        &json!({"repo": "other-ws/widgets", "path": "x"}),
    );
    assert_eq!(a.status, 403, "{}", a.text());
    assert_eq!(a.json()["error"]["kind"], "out_of_scope");
    let a = spin.call("no_such_tool", &json!({}));
    assert_eq!(a.status, 404);
    assert_eq!(a.json()["error"]["kind"], "not_found");
    let a = spin.send("POST", "/tools/read_file", &[], "[1, 2]");
    assert_eq!(a.status, 400);
    assert_eq!(spin.send("GET", "/nowhere", &[], "").status, 404);

    // No answer carries the token.
    for a in [
        spin.call("list_repositories", &json!({})),
        spin.mcp(&rpc(1, "initialize", json!({}))),
    ] {
        assert!(!a.text().contains(TOKEN));
    }
}

#[test]
fn spin_component_configuration_and_outbound_limits() {
    let fake = FakeBitbucket::start();

    // No workspace variable: a config error, 500, naming the setting but no secret.
    let spin = SpinHost::new(
        fake.origin(),
        &[
            ("bitbucket_api_base_url", &fake.base_url()),
            ("bitbucket_token", "s3cret-token"),
        ],
    );
    let a = spin.call("list_repositories", &json!({}));
    assert_eq!(a.status, 500, "{}", a.text());
    assert_eq!(a.json()["error"]["kind"], "config");
    assert!(a.text().contains("BITBUCKET_WORKSPACE"), "{}", a.text());
    assert!(!a.text().contains("s3cret"));

    // An API base URL outside what the host allows: refused by the host, `upstream` (502).
    let spin = SpinHost::new(
        fake.origin(),
        &[
            ("bitbucket_workspace", WORKSPACE),
            ("bitbucket_api_base_url", "http://127.0.0.1:9/2.0"),
            ("bitbucket_token", "s3cret-token"),
            ("bitbucket_timeout_seconds", "5"),
            ("bitbucket_retry_base_ms", "1"),
        ],
    );
    let a = spin.call("list_repositories", &json!({}));
    assert_eq!(a.status, 502, "{}", a.text());
    assert_eq!(a.json()["error"]["kind"], "upstream");
    assert!(!a.text().contains("s3cret"));
    assert!(!spin.denied().is_empty());
    assert!(fake.requests().is_empty());
}

/// Every route, each with a request that would reach Bitbucket (or list the tools) if let
/// through.
fn every_route() -> Vec<(&'static str, &'static str, String)> {
    vec![
        (
            "POST",
            "/mcp",
            rpc(1, "tools/call", json!({"name": "list_repositories"})).to_string(),
        ),
        ("POST", "/mcp", rpc(2, "ping", json!({})).to_string()),
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
fn spin_component_requires_the_server_token_on_every_route() {
    let fake = FakeBitbucket::start();
    let spin = host(&fake);
    for (method, path, body) in every_route() {
        for authorization in [
            None,
            Some("Bearer nope"),
            Some("Bearer spin-test-server-token-41c"),
            Some("Bearer spin-test-server-token-41c70"),
            Some("Bearer test-token-valid"),
        ] {
            let mut headers = vec![("host", "localhost:3000")];
            headers.extend(authorization.map(|a| ("authorization", a)));
            let a = spin.send_raw(method, path, &headers, &body);
            assert_eq!(
                a.status,
                401,
                "{method} {path} {authorization:?}: {}",
                a.text()
            );
            assert_eq!(
                a.headers
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok()),
                Some("Bearer realm=\"bitbucket-connector\"")
            );
            assert!(!a.text().contains(spin_host::SERVER_TOKEN));
        }
        let a = spin.send(method, path, &[], &body);
        assert_eq!(a.status, 200, "{method} {path}: {}", a.text());
    }
    let requests = fake.requests().len();
    assert!(requests > 0, "the authorised calls reached the fake");
    let a = spin.send_raw(
        "POST",
        "/tools/list_repositories",
        &[("host", "localhost:3000")],
        "{}",
    );
    assert_eq!(a.status, 401);
    assert_eq!(
        fake.requests().len(),
        requests,
        "nothing ran without the token"
    );
}

#[test]
fn spin_component_refuses_foreign_hosts_and_origins() {
    let fake = FakeBitbucket::start();
    let spin = SpinHost::new(
        fake.origin(),
        &[
            ("bitbucket_workspace", WORKSPACE),
            ("bitbucket_api_base_url", &fake.base_url()),
            ("bitbucket_token", TOKEN),
            ("server_allowed_hosts", "mcp.example.com"),
        ],
    );
    for (method, path, body) in every_route() {
        for (host, origin) in [
            // A DNS-rebinding page: Host and Origin agree, both the attacker's name.
            (
                "attacker.example:3000",
                Some("http://attacker.example:3000"),
            ),
            ("attacker.example", None),
            ("localhost:3000", Some("https://attacker.example")),
            ("mcp.example.com", Some("http://localhost.attacker.example")),
        ] {
            let mut headers = vec![("host", host)];
            headers.extend(origin.map(|o| ("origin", o)));
            let a = spin.send(method, path, &headers, &body);
            assert_eq!(
                a.status, 403,
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
        ("localhost:3000", Some("http://localhost:3000")),
        ("127.0.0.1:3000", None),
    ] {
        let mut headers = vec![("host", host)];
        headers.extend(origin.map(|o| ("origin", o)));
        let a = spin.send(
            "POST",
            "/mcp",
            &headers,
            &rpc(3, "ping", json!({})).to_string(),
        );
        assert_eq!(a.status, 200, "Host {host} Origin {origin:?}: {}", a.text());
    }
}

#[test]
fn spin_component_without_a_server_token_serves_nothing_unless_loopback_was_allowed() {
    let fake = FakeBitbucket::start();
    let connector = [
        ("bitbucket_workspace", WORKSPACE.to_string()),
        ("bitbucket_api_base_url", fake.base_url()),
        ("bitbucket_token", TOKEN.to_string()),
    ];
    let vars = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, String)> {
        let mut v: Vec<(&'static str, String)> =
            connector.iter().map(|(k, v)| (*k, v.to_string())).collect();
        v.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        v
    };
    let exact = |v: &[(&'static str, String)]| {
        let pairs: Vec<(&str, &str)> = v.iter().map(|(k, v)| (*k, v.as_str())).collect();
        SpinHost::new_exact(fake.origin(), &pairs)
    };
    // Unset (no variable), or blank as spin.toml's default: 500 `config` on every route.
    for spin in [
        exact(&vars(&[])),
        exact(&vars(&[("server_token", "")])),
        exact(&vars(&[("server_token", "  ")])),
    ] {
        for (method, path, body) in every_route() {
            let a = spin.send(method, path, &[], &body);
            assert_eq!(a.status, 500, "{method} {path}: {}", a.text());
        }
    }
    assert!(fake.requests().is_empty());
    let open = exact(&vars(&[
        ("server_token", ""),
        ("server_allow_unauthenticated", "true"),
    ]));
    let a = open.send_raw(
        "POST",
        "/tools/list_repositories",
        &[("host", "127.0.0.1:3000")],
        "{}",
    );
    assert_eq!(a.status, 200, "{}", a.text());
    for headers in [
        &[("host", "mcp.example.com")][..],
        &[
            ("host", "localhost:3000"),
            ("spin-client-addr", "198.51.100.4:40000"),
        ][..],
    ] {
        let a = open.send_raw("POST", "/tools/list_repositories", headers, "{}");
        assert_eq!(a.status, 403, "{headers:?}");
    }
}

#[test]
fn spin_component_refuses_a_body_over_the_cap() {
    let fake = FakeBitbucket::start();
    let spin = host(&fake);
    let five_mib = (5usize << 20).to_string();
    let a = spin.send("POST", "/mcp", &[("content-length", &five_mib)], "");
    assert_eq!(a.status, 413, "{}", a.text());
    // No length given: the component stops reading at the cap.
    let big = " ".repeat(5 << 20);
    let a = spin.send("POST", "/tools/read_file", &[], &big);
    assert_eq!(a.status, 413, "{}", a.text());
    assert!(fake.requests().is_empty());
}

/// The Spin component needs only WASI 0.2 and Spin's variables interface (no WASI 0.3, no
/// other Spin interface), and exports only the 0.2 incoming handler.
#[test]
fn spin_component_imports_only_wasi_0_2_and_spin_variables() {
    let (engine, component) = spin_host::component();
    let ty = component.component_type();
    let imports: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    for name in &imports {
        let wasi_0_2 = name.starts_with("wasi:") && name.contains("@0.2.");
        assert!(
            wasi_0_2 || name == "fermyon:spin/variables@2.0.0",
            "unexpected import {name}: {imports:?}"
        );
    }
    assert!(imports.iter().any(|n| n == "fermyon:spin/variables@2.0.0"));
    assert!(
        imports
            .iter()
            .any(|n| n.starts_with("wasi:http/outgoing-handler@0.2."))
    );
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    assert_eq!(exports.len(), 1, "{exports:?}");
    assert!(
        exports[0].starts_with("wasi:http/incoming-handler@0.2."),
        "{exports:?}"
    );
}

/// A Spin app whose `allowed_outbound_hosts` lacks the log storage host still answers
/// get_pipeline: the failed step comes back without its log and with a note saying what to
/// allow, naming only the storage origin (never the signed URL).
#[test]
fn spin_without_the_storage_host_returns_failed_steps_with_a_note() {
    let fake = FakeBitbucket::start();
    let spin = host(&fake);
    let a = spin.call("get_pipeline", &json!({"repo": WIDGETS, "pipeline": "5"}));
    assert_eq!(a.status, 200, "{}", a.text());
    let out = a.json();
    let failed = out["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["result"] == "FAILED")
        .expect("run 5 has a failed step");
    assert_eq!(failed["log_tail"], Value::Null);
    let note = failed["log_note"].as_str().unwrap();
    assert!(note.contains("allowed_outbound_hosts"), "{note}");
    assert!(note.contains(fake.storage_origin()), "{note}");
    assert!(!note.contains("Signature"), "{note}");
    assert!(!spin.denied().is_empty(), "the storage host was refused");
}
