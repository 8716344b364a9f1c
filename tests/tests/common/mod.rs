//! Shared helpers of the end-to-end tests: find the real `host-demo` binary and the
//! component, run `host-demo` against a fake Bitbucket with a clean environment, and a
//! minimal HTTP client for talking to the fake directly.

#![allow(dead_code)]

pub mod lossless;

use fake_bitbucket::{FakeBitbucket, RecordedRequest};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The workspace root (the parent of this package).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `$CARGO_TARGET_DIR`, else `<workspace root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                workspace_root().join(d)
            }
        }
        None => workspace_root().join("target"),
    }
}

/// The release `host-demo` binary; panics with instructions when it is missing.
pub fn host_demo() -> PathBuf {
    let p = target_dir().join("release").join("host-demo");
    assert!(
        p.exists(),
        "{} is missing: run `make build` (it builds the component and host-demo) before the end-to-end tests",
        p.display()
    );
    p
}

/// The component file; panics with instructions when it is missing.
pub fn component() -> PathBuf {
    let p = target_dir()
        .join("wasm32-wasip2")
        .join("component")
        .join("bitbucket_connector.wasm");
    assert!(
        p.exists(),
        "{} is missing: run `make build` (it builds the component and host-demo) before the end-to-end tests",
        p.display()
    );
    p
}

/// What one `host-demo` run gave.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Outcome {
    /// Standard output parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "host-demo printed no JSON ({e}); exit {}\nstdout: {}\nstderr: {}",
                self.code, self.stdout, self.stderr
            )
        })
    }
}

/// A `host-demo` invocation against a fake server, with a clean environment:
/// `BITBUCKET_WORKSPACE=acme`, `BITBUCKET_API_BASE_URL=<fake>`,
/// `BITBUCKET_TOKEN=test-token-valid`, `PATH` and `HOME`, plus what [`Host::env`] adds
/// and minus what [`Host::without`] removes.
pub struct Host {
    env: Vec<(String, String)>,
    transcript: Option<Transcript>,
}

impl Host {
    /// The default configuration for `fake`.
    pub fn new(fake: &FakeBitbucket) -> Host {
        let mut env = vec![
            ("BITBUCKET_WORKSPACE".to_string(), "acme".to_string()),
            ("BITBUCKET_API_BASE_URL".to_string(), fake.base_url()),
            (
                "BITBUCKET_TOKEN".to_string(),
                "test-token-valid".to_string(),
            ),
        ];
        for key in ["PATH", "HOME"] {
            if let Ok(v) = std::env::var(key) {
                env.push((key.to_string(), v));
            }
        }
        Host {
            env,
            transcript: None,
        }
    }

    /// Records every later run's standard output and error into `transcript`.
    pub fn record(mut self, transcript: &Transcript) -> Host {
        self.transcript = Some(transcript.clone());
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Host {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Removes an environment variable.
    pub fn without(mut self, key: &str) -> Host {
        self.env.retain(|(k, _)| k != key);
        self
    }

    /// Runs `host-demo --component <component> ARGS…`.
    pub fn run(&self, args: &[&str]) -> Outcome {
        let out = Command::new(host_demo())
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .arg("--component")
            .arg(component())
            .args(args)
            .output()
            .expect("run host-demo");
        let outcome = Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        if let Some(t) = &self.transcript {
            t.push(&args.join(" "), &outcome);
        }
        outcome
    }

    /// `host-demo call TOOL ARGS`; the raw outcome.
    pub fn call_raw(&self, tool: &str, args: &Value) -> Outcome {
        self.run(&["call", tool, &args.to_string()])
    }

    /// `host-demo call TOOL ARGS`, expecting success (exit 0); the JSON result.
    pub fn call(&self, tool: &str, args: Value) -> Value {
        let out = self.call_raw(tool, &args);
        assert_eq!(
            out.code, 0,
            "host-demo call {tool} {args} failed\nstdout: {}\nstderr: {}",
            out.stdout, out.stderr
        );
        out.json()
    }

    /// `host-demo call TOOL ARGS`, expecting a tool error: exit 1, or exit 2 for a `config`
    /// error (a configuration problem, as the contract says); `(kind, message)`.
    pub fn call_err(&self, tool: &str, args: Value) -> (String, String) {
        let out = self.call_raw(tool, &args);
        let v = out.json();
        let kind = v["error"]["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("no error.kind in {v}"));
        let expected_code = if kind == "config" { 2 } else { 1 };
        assert_eq!(
            out.code, expected_code,
            "host-demo call {tool} {args} should fail with a {kind} error\nstdout: {}\nstderr: {}",
            out.stdout, out.stderr
        );
        let message = v["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no error.message in {v}"));
        (kind.to_string(), message.to_string())
    }
}

/// Calls `tool` page by page (following `next_page`) until the end or `max_pages`;
/// returns the items under `key` and the number of calls made.
pub fn collect_pages(
    host: &Host,
    tool: &str,
    mut args: Value,
    key: &str,
    max_pages: usize,
) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    for call in 1..=max_pages {
        let page = host.call(tool, args.clone());
        items.extend(
            page[key]
                .as_array()
                .unwrap_or_else(|| panic!("no {key} in {page}"))
                .iter()
                .cloned(),
        );
        match page.get("next_page").and_then(Value::as_str) {
            Some(next) => args["page"] = Value::String(next.to_string()),
            None => return (items, call),
        }
    }
    panic!("{tool} still had a next page after {max_pages} pages");
}

/// A `next_page` value: `None` for absent or null.
pub fn next_page(v: &Value) -> Option<&str> {
    v.get("next_page").and_then(Value::as_str)
}

/// A minimal HTTP/1.1 response.
#[derive(Debug)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            let text = String::from_utf8_lossy(&self.body);
            panic!("status {}, not JSON ({e}): {:.300}", self.status, text)
        })
    }
}

/// Sends one request to the fake (`target` is the path and query, e.g. `/2.0/…`) with an
/// optional `Authorization` value.
pub fn http(
    fake: &FakeBitbucket,
    method: &str,
    target: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> HttpResponse {
    let mut s = TcpStream::connect(("127.0.0.1", fake.port())).expect("connect to the fake");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut req = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
        fake.port()
    );
    if let Some(a) = authorization {
        req.push_str(&format!("Authorization: {a}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("send");
    s.write_all(body).expect("send body");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// `GET target` with the default bearer token.
pub fn get(fake: &FakeBitbucket, target: &str) -> HttpResponse {
    http(fake, "GET", target, Some("Bearer test-token-valid"), b"")
}

/// Everything `host-demo` printed during a test (standard output and error of every run of
/// the [`Host`]s that [`Host::record`] into it), to check at the end that no secret leaked.
#[derive(Clone, Default)]
pub struct Transcript(Arc<Mutex<Vec<(String, String)>>>);

impl Transcript {
    /// An empty transcript.
    pub fn new() -> Transcript {
        Transcript::default()
    }

    fn push(&self, label: &str, outcome: &Outcome) {
        let mut g = self.0.lock().expect("transcript lock");
        g.push((format!("stdout of `{label}`"), outcome.stdout.clone()));
        g.push((format!("stderr of `{label}`"), outcome.stderr.clone()));
    }

    /// The number of outputs recorded (two per run).
    pub fn len(&self) -> usize {
        self.0.lock().expect("transcript lock").len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Asserts that no recorded output contains any of `secrets` (empty ones are skipped),
    /// nor the base64 form a secret would take in a Basic header (see [`basic_value`]).
    pub fn assert_free_of(&self, secrets: &[String]) {
        let outputs = self.0.lock().expect("transcript lock");
        assert!(!outputs.is_empty(), "no host-demo output was recorded");
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            for (label, text) in outputs.iter() {
                assert!(
                    !text.contains(secret.as_str()),
                    "a secret ({} characters, starting {:?}) leaked into the {label}:\n{text}",
                    secret.len(),
                    secret.chars().take(4).collect::<String>()
                );
            }
        }
    }
}

/// `Basic base64(user:password)`, the `Authorization` value of a basic credential.
pub fn basic_value(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        fake_bitbucket::auth::base64_encode(format!("{user}:{password}").as_bytes())
    )
}

/// Percent-decodes `s` until nothing changes (so a doubly encoded name is found too).
pub fn fully_decoded(s: &str) -> String {
    let mut cur = s.to_string();
    for _ in 0..4 {
        let next = fake_bitbucket::http::percent_decode(&cur, false);
        if next == cur {
            break;
        }
        cur = next;
    }
    cur
}

/// The request's raw target (path and query), percent-decoded.
pub fn decoded_url(r: &RecordedRequest) -> String {
    fully_decoded(&r.url)
}

/// The request's raw path (no query), percent-decoded.
pub fn decoded_path(r: &RecordedRequest) -> String {
    fully_decoded(r.path())
}

/// Asserts that no request the fake received mentions any of `needles` anywhere in its
/// percent-decoded URL (path and query); `what` names the call for the message.
pub fn assert_never_requested(fake: &FakeBitbucket, needles: &[&str], what: &str) {
    for r in fake.requests() {
        let url = decoded_url(&r);
        for needle in needles {
            assert!(
                !url.contains(needle),
                "{what}: a request mentioned out-of-scope `{needle}`: {} {} (decoded {url})",
                r.method,
                r.url
            );
        }
    }
}

/// Asserts that every request the fake received stays inside workspace `acme` (or is the
/// OAuth token endpoint).
pub fn assert_only_workspace_acme(fake: &FakeBitbucket, what: &str) {
    for r in fake.requests() {
        let path = decoded_path(&r);
        assert!(
            path == "/2.0/repositories/acme"
                || path.starts_with("/2.0/repositories/acme/")
                || path.starts_with("/2.0/workspaces/acme/")
                || path == "/site/oauth2/access_token",
            "{what}: a request left workspace acme: {} {}",
            r.method,
            r.url
        );
    }
}

/// The tools' JSON names, in contract (and WIT) order.
pub const TOOLS: [&str; 11] = [
    "list_repositories",
    "browse_repository",
    "read_file",
    "search_code",
    "list_commits",
    "get_commit",
    "list_pull_requests",
    "list_pipelines",
    "list_branches",
    "get_pull_request",
    "get_pipeline",
];

/// The sample workspace's repositories in list_repositories' order: most recently updated first.
pub fn repositories_newest_first(
    ws: &fake_bitbucket::model::Workspace,
) -> Vec<&fake_bitbucket::model::Repository> {
    let mut repos: Vec<_> = ws.repositories.iter().collect();
    repos.sort_by_key(|r| std::cmp::Reverse(r.updated_on));
    repos
}
