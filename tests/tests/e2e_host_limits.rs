//! The host survives its guest: a component that traps, loops forever or grows memory without
//! bound is stopped and reported as an `upstream` error, and the next call is served normally.
//! (The outbound policy's tests, with the same guest, are in `e2e_egress.rs`.) Uses
//! `tests/misbehaving-guest`, built by `make build` next to the real component.

mod common;

use common::{Outcome, host_demo, target_dir};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn misbehaving_component() -> PathBuf {
    let p = target_dir().join("wasm32-wasip2/component/misbehaving_guest.wasm");
    assert!(p.exists(), "{} is missing: run `make build`", p.display());
    p
}

/// `host-demo --component <misbehaving> call TOOL ARGS` with a minimal configuration.
fn call(tool: &str, args: &str, extra_env: &[(&str, &str)]) -> Outcome {
    let out = Command::new(host_demo())
        .env_clear()
        .env("BITBUCKET_WORKSPACE", "acme")
        .env("BITBUCKET_TOKEN", "test-token-valid")
        .env("BITBUCKET_API_BASE_URL", "http://127.0.0.1:9/2.0")
        .env(
            "HOST_DEMO_CACHE_DIR",
            target_dir().join("host-demo-test-cache"),
        )
        .envs(extra_env.iter().copied())
        .arg("--component")
        .arg(misbehaving_component())
        .args(["call", tool, args])
        .output()
        .expect("run host-demo");
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn error_of(out: &Outcome) -> (String, String) {
    assert_eq!(out.code, 1, "expected a tool error: {out:?}");
    let v: Value = out.json();
    (
        v["error"]["kind"].as_str().unwrap_or_default().to_owned(),
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[test]
fn a_trapping_guest_is_an_upstream_error_and_the_next_call_works() {
    let (kind, message) = error_of(&call("list_repositories", "{}", &[]));
    assert_eq!(kind, "upstream");
    assert!(message.contains("component failed"), "{message}");

    let ok = call("search_code", r#"{"query": "still alive"}"#, &[]);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert_eq!(ok.json()["results"][0]["matches"][0]["text"], "still alive");
}

#[test]
fn a_guest_that_hoards_memory_is_stopped() {
    let started = Instant::now();
    let (kind, message) = error_of(&call("read_file", r#"{"path": "x"}"#, &[]));
    assert_eq!(kind, "upstream");
    assert!(message.contains("component failed"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn an_endless_loop_is_stopped_at_the_call_deadline() {
    let started = Instant::now();
    let (kind, message) = error_of(&call(
        "browse_repository",
        "{}",
        &[("BITBUCKET_TIMEOUT_SECONDS", "1")],
    ));
    let elapsed = started.elapsed();
    assert_eq!(kind, "upstream");
    assert!(message.contains("stopped"), "{message}");
    // The deadline is the configured timeout plus 30 s of grace.
    assert!(
        elapsed >= Duration::from_secs(30) && elapsed < Duration::from_secs(60),
        "{elapsed:?}"
    );
}
