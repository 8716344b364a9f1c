//! The host's outbound policy holds whatever the component asks for: only GET and HEAD below
//! the API base path and POST to the exact OAuth token URL go out; anything else (another
//! host, another method, another path on the API or token origin) is refused before a
//! connection is opened. Host-held credentials go only on the API GETs. Uses
//! `tests/misbehaving-guest`, whose `list_commits` sends the request it is told to
//! (`repo` = host:port, `branch` = method, `path` = path and query).

mod common;

use common::{Outcome, host_demo, target_dir};
use fake_bitbucket::FakeBitbucket;
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn misbehaving_component() -> PathBuf {
    let p = target_dir().join("wasm32-wasip2/component/misbehaving_guest.wasm");
    assert!(p.exists(), "{} is missing: run `make build`", p.display());
    p
}

/// Has the misbehaving guest send `method http://{authority}{path}` under `env`; the text
/// it reports (`refused: …` or `response: STATUS`) and standard error.
fn send(env: &[(&str, &str)], authority: &str, method: &str, path: &str) -> (String, String) {
    let args = json!({"repo": authority, "branch": method, "path": path}).to_string();
    let out = Command::new(host_demo())
        .env_clear()
        .env("BITBUCKET_WORKSPACE", "acme")
        .env(
            "HOST_DEMO_CACHE_DIR",
            target_dir().join("host-demo-test-cache"),
        )
        .envs(env.iter().copied())
        .arg("--component")
        .arg(misbehaving_component())
        .args(["call", "list_commits", &args])
        .output()
        .expect("run host-demo");
    let out = Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_eq!(out.code, 1, "the guest reports as a tool error: {out:?}");
    let v: Value = out.json();
    (
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        out.stderr,
    )
}

/// A listener standing in for the API and token origin: it must never see a connection.
fn silent_origin() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let authority = listener.local_addr().unwrap().to_string();
    (listener, authority)
}

#[test]
fn writes_and_paths_outside_the_api_are_refused_before_connecting() {
    let (api, authority) = silent_origin();
    let (elsewhere, elsewhere_authority) = silent_origin();
    let base = format!("http://{authority}/2.0");
    let token_url = format!("http://{authority}/site/oauth2/access_token");
    let env = [
        ("BITBUCKET_TOKEN", "test-token-valid"),
        ("BITBUCKET_API_BASE_URL", base.as_str()),
        ("BITBUCKET_OAUTH_TOKEN_URL", token_url.as_str()),
    ];
    let repo = "/2.0/repositories/acme/widgets";
    let cases = [
        // Writes to the API.
        ("DELETE", repo),
        ("POST", repo),
        ("PUT", repo),
        ("PATCH", repo),
        ("OPTIONS", repo),
        // Reads outside the API base path, on the API origin.
        ("GET", "/"),
        ("GET", "/admin"),
        ("GET", "/2.0evil/x"),
        ("GET", "/2.0/../admin"),
        ("GET", "/2.0/%2e%2e/admin"),
        ("GET", "/2.0/repositories%2F..%2F..%2Fadmin"),
        // The token origin: only POST to the exact token URL.
        ("GET", "/site/oauth2/access_token"),
        ("POST", "/site/oauth2/access_token?grant_type=password"),
        ("POST", "/site/oauth2/authorize"),
        ("POST", "/site/oauth2/access_token/x"),
    ];
    for (method, path) in cases {
        let (message, stderr) = send(&env, &authority, method, path);
        assert!(
            message.contains("HttpRequestDenied"),
            "{method} {path}: {message}"
        );
        assert!(
            stderr.contains(&format!("refused an outbound {method} request")),
            "the operator is told: {stderr}"
        );
        assert!(
            !stderr.contains(path) || path == "/",
            "the log names the origin, not the component's path: {stderr}"
        );
    }
    // Another host entirely, even with a readable path.
    let (message, _) = send(&env, &elsewhere_authority, "GET", repo);
    assert!(message.contains("HttpRequestDenied"), "{message}");

    std::thread::sleep(Duration::from_millis(50));
    assert!(
        api.accept().is_err(),
        "a refused request must not open a connection to the API origin"
    );
    assert!(
        elsewhere.accept().is_err(),
        "a refused request must not open a connection to another host"
    );
}

#[test]
fn reads_of_the_api_and_the_token_post_go_out() {
    let fake = FakeBitbucket::start();
    let base = fake.base_url();
    let token_url = fake.token_url();
    let env = [
        ("BITBUCKET_TOKEN", "test-token-valid"),
        ("BITBUCKET_API_BASE_URL", base.as_str()),
        ("BITBUCKET_OAUTH_TOKEN_URL", token_url.as_str()),
    ];
    let authority = fake.origin().trim_start_matches("http://").to_owned();
    let token_path = token_url.trim_start_matches(fake.origin());
    for (method, path) in [
        ("GET", "/2.0/repositories/acme"),
        ("HEAD", "/2.0/repositories/acme?pagelen=1"),
        ("POST", token_path),
    ] {
        let (message, _) = send(&env, &authority, method, path);
        assert!(
            message.starts_with("response: "),
            "{method} {path}: {message}"
        );
    }
    let seen: Vec<(String, String)> = fake
        .settled_requests(Duration::from_secs(5))
        .iter()
        .map(|r| (r.method.clone(), r.url.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET".to_string(), "/2.0/repositories/acme".to_string()),
            (
                "HEAD".to_string(),
                "/2.0/repositories/acme?pagelen=1".to_string()
            ),
            ("POST".to_string(), token_path.to_string()),
        ]
    );
}

#[test]
fn host_held_credentials_go_only_on_api_gets() {
    let fake = FakeBitbucket::start();
    let base = fake.base_url();
    let token_url = fake.token_url();
    let env = [
        ("BITBUCKET_TOKEN", "host-held-secret"),
        ("BITBUCKET_CREDENTIALS_FROM_HOST", "1"),
        ("BITBUCKET_API_BASE_URL", base.as_str()),
        ("BITBUCKET_OAUTH_TOKEN_URL", token_url.as_str()),
    ];
    let authority = fake.origin().trim_start_matches("http://").to_owned();
    let token_path = token_url.trim_start_matches(fake.origin()).to_owned();
    for (method, path) in [
        ("GET", "/2.0/repositories/acme"),
        ("HEAD", "/2.0/repositories/acme"),
        ("POST", token_path.as_str()),
        ("DELETE", "/2.0/repositories/acme/widgets"),
    ] {
        send(&env, &authority, method, path);
    }
    let seen: Vec<(String, Option<String>)> = fake
        .settled_requests(Duration::from_secs(5))
        .iter()
        .map(|r| {
            (
                r.method.clone(),
                r.header("authorization").map(str::to_string),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "GET".to_string(),
                Some("Bearer host-held-secret".to_string())
            ),
            ("HEAD".to_string(), None),
            ("POST".to_string(), None),
        ],
        "the DELETE never arrives; only the GET carries the host's credentials"
    );
}
