//! End-to-end tests of get_pipeline: the run and its steps, the end of each failed step's log
//! read with `Range` (through the API's 307 to the storage host, without credentials there),
//! escape sequences removed, the scope rule, and what a host that refuses the storage host
//! gets. Values come from the fake's model. Run `make build` first.

mod common;

use common::Host;
use fake_bitbucket::model::{Pipeline, PipelineResult, PipelineState, Repository, StepState};
use fake_bitbucket::sample::*;
use fake_bitbucket::sample_review::{FAILED_LOG_LAST_LINE, HUGE_LOG_BUILD};
use fake_bitbucket::{FakeBitbucket, RecordedRequest};
use serde_json::{Value, json};
use std::time::Duration;

fn widgets(ws: &fake_bitbucket::model::Workspace) -> &Repository {
    ws.repository(WIDGETS).unwrap()
}

fn run(repo: &Repository, n: u64) -> &Pipeline {
    repo.pipelines.iter().find(|p| p.build_number == n).unwrap()
}

/// A log line as a terminal shows it: colour codes out, the last `\r` segment kept.
fn shown(line: &str) -> String {
    let line = line.rsplit('\r').next().unwrap_or(line);
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find('\u{1b}') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after
            .find(|c: char| ('\u{40}'..='\u{7e}').contains(&c))
            .unwrap_or(after.len());
        rest = &after[(end + 1).min(after.len())..];
    }
    out.push_str(rest);
    out
}

/// The last `n` lines of a step's log, as get_pipeline must show them.
fn tail(log: &[u8], n: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(log);
    let lines: Vec<String> = text.lines().map(shown).collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

/// A failed run of `widgets` that is not the one with the huge log.
fn failed_run(repo: &Repository) -> &Pipeline {
    repo.pipelines
        .iter()
        .find(|p| {
            p.state == PipelineState::Completed(PipelineResult::Failed)
                && p.build_number != HUGE_LOG_BUILD
        })
        .unwrap()
}

fn storage_requests(log: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    log.iter().filter(|r| r.storage).collect()
}

#[test]
fn a_failed_run_with_its_steps_and_the_end_of_the_failed_steps_log() {
    let fake = FakeBitbucket::start();
    fake.set_storage_strict(true);
    let ws = fake.workspace();
    let repo = widgets(&ws);
    let p = failed_run(repo);
    let host = Host::new(&fake);
    let out = host.call(
        "get_pipeline",
        json!({"repo": WIDGETS, "pipeline": p.build_number.to_string()}),
    );
    assert_eq!(out["build_number"], p.build_number);
    assert_eq!(out["uuid"], p.uuid);
    assert_eq!(out["result"], "FAILED");
    let steps = out["steps"].as_array().unwrap();
    assert_eq!(steps.len(), p.steps.len());
    for (got, step) in steps.iter().zip(&p.steps) {
        assert_eq!(got["uuid"], step.uuid);
        assert_eq!(got["name"], step.name);
        match &step.state {
            StepState::Completed("FAILED") => {
                let log = step.log.as_ref().unwrap();
                assert_eq!(got["log_tail"], json!(tail(log, 100)));
                assert_eq!(got["log_tail"][99], FAILED_LOG_LAST_LINE);
                assert_eq!(got["log_truncated"], true);
                assert_eq!(got["log_note"], Value::Null);
                assert!(!got["log_tail"].to_string().contains("\\u001b"));
            }
            StepState::Completed(result) => {
                assert_eq!(got["result"], *result);
                assert_eq!(got["log_tail"], Value::Null);
                assert_eq!(got["log_note"], Value::Null);
            }
            other => panic!("a completed run has a step in state {other:?}"),
        }
    }
    // The log came from the storage host, through the API's 307, without credentials there
    // (the strict storage host would have refused them), and only its end was read.
    let log = fake.settled_requests(Duration::from_secs(5));
    let api_log = log
        .iter()
        .find(|r| r.path().ends_with("/log"))
        .expect("the step log was asked for");
    assert_eq!(api_log.status, Some(307));
    assert_eq!(api_log.header("accept"), Some("application/octet-stream"));
    let stored = storage_requests(&log);
    assert_eq!(stored.len(), 1, "one storage request");
    assert_eq!(stored[0].status, Some(206));
    assert_eq!(stored[0].header("authorization"), None);
    assert_eq!(stored[0].header("range"), api_log.header("range"));
    assert!(api_log.header("range").unwrap().starts_with("bytes=-"));
    // No log is read for the steps that did not fail.
    assert_eq!(log.iter().filter(|r| r.path().ends_with("/log")).count(), 1);

    // The same run by UUID, with and without braces; fewer lines when asked.
    let bare = p.uuid.trim_matches(['{', '}']);
    for id in [p.uuid.as_str(), bare] {
        let again = host.call(
            "get_pipeline",
            json!({"repo": WIDGETS, "pipeline": id, "log_lines": 5}),
        );
        assert_eq!(again["build_number"], p.build_number);
        let failed = again["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["result"] == "FAILED")
            .unwrap();
        assert_eq!(failed["log_tail"].as_array().unwrap().len(), 5);
    }
}

#[test]
fn a_huge_log_costs_only_its_end() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let p = run(widgets(&ws), HUGE_LOG_BUILD);
    let step = p
        .steps
        .iter()
        .find(|s| s.log.as_ref().is_some_and(|l| l.len() > 3_000_000));
    assert!(step.is_some(), "the sample has a multi-megabyte log");
    let out = Host::new(&fake).call(
        "get_pipeline",
        json!({"repo": WIDGETS, "pipeline": HUGE_LOG_BUILD.to_string(), "log_lines": 20}),
    );
    let failed = out["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["log_tail"].is_array())
        .unwrap();
    assert_eq!(
        failed["log_tail"],
        json!(tail(step.unwrap().log.as_ref().unwrap(), 20))
    );
    let log = fake.settled_requests(Duration::from_secs(5));
    let stored = storage_requests(&log);
    let range = stored[0].header("range").unwrap();
    let asked: usize = range.trim_start_matches("bytes=-").parse().unwrap();
    assert!(asked <= 20 * 1024, "asked for {asked} bytes");
}

#[test]
fn runs_and_steps_without_logs() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = widgets(&ws);
    let host = Host::new(&fake);
    for p in repo.pipelines.iter().filter(|p| {
        matches!(
            p.state,
            PipelineState::Running | PipelineState::Paused | PipelineState::Pending
        )
    }) {
        fake.clear_requests();
        let out = host.call(
            "get_pipeline",
            json!({"repo": WIDGETS, "pipeline": p.build_number.to_string()}),
        );
        let steps = out["steps"].as_array().unwrap();
        assert_eq!(steps.len(), p.steps.len());
        assert!(steps.iter().all(|s| s["log_tail"].is_null()));
        // Nothing failed: no log is requested.
        assert!(fake.requests().iter().all(|r| !r.path().ends_with("/log")));
        if p.state == PipelineState::Paused {
            assert!(steps.iter().any(|s| s["state"] == "PAUSED"));
        }
    }
}

#[test]
fn unknown_and_malformed_runs() {
    let fake = FakeBitbucket::start();
    let host = Host::new(&fake);
    let (kind, message) =
        host.call_err("get_pipeline", json!({"repo": WIDGETS, "pipeline": "9999"}));
    assert_eq!(kind, "not_found", "{message}");
    fake.clear_requests();
    for bad in ["main", "0", "{nope}", "12/steps"] {
        let (kind, _) = host.call_err("get_pipeline", json!({"repo": WIDGETS, "pipeline": bad}));
        assert_eq!(kind, "invalid_input", "{bad}");
    }
    let (kind, _) = host.call_err(
        "get_pipeline",
        json!({"repo": WIDGETS, "pipeline": "5", "log_lines": 1001}),
    );
    assert_eq!(kind, "invalid_input");
    assert!(fake.requests().is_empty());
    let (kind, _) = host.call_err(
        "get_pipeline",
        json!({"repo": NO_PIPELINES_REPO, "pipeline": "1"}),
    );
    assert_eq!(kind, "pipelines_unavailable");
}

#[test]
fn a_run_on_a_ref_out_of_scope_is_refused_after_reading_only_the_run() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let repo = widgets(&ws);
    let host = Host::new(&fake).env("BITBUCKET_BRANCH_REGEX", "main");
    let outside = repo
        .pipelines
        .iter()
        .find(|p| p.ref_name.as_deref() == Some("develop") && !p.steps.is_empty())
        .unwrap();
    let (kind, message) = host.call_err(
        "get_pipeline",
        json!({"repo": WIDGETS, "pipeline": outside.build_number.to_string()}),
    );
    assert_eq!(kind, "out_of_scope", "{message}");
    let log = fake.requests();
    assert_eq!(log.len(), 1);
    assert!(
        log[0]
            .path()
            .ends_with(&format!("/pipelines/{}", outside.build_number))
    );
    let inside = repo
        .pipelines
        .iter()
        .find(|p| p.ref_name.as_deref() == Some("main") && !p.steps.is_empty())
        .unwrap();
    let out = host.call(
        "get_pipeline",
        json!({"repo": WIDGETS, "pipeline": inside.build_number.to_string()}),
    );
    assert_eq!(out["branch"], "main");
}

/// Has the misbehaving guest GET `http://{authority}{path_and_query}` through host-demo; the
/// message it reports (`refused: …` or `response: STATUS`).
fn guest_fetch(fake: &FakeBitbucket, authority: &str, path_and_query: &str) -> String {
    let component = common::target_dir().join("wasm32-wasip2/component/misbehaving_guest.wasm");
    let args = json!({"repo": authority, "branch": "GET", "path": path_and_query}).to_string();
    let out = std::process::Command::new(common::host_demo())
        .env_clear()
        .env("BITBUCKET_WORKSPACE", "acme")
        .env("BITBUCKET_TOKEN", "test-token-valid")
        .env("BITBUCKET_API_BASE_URL", fake.base_url())
        .env(
            "HOST_DEMO_CACHE_DIR",
            common::target_dir().join("host-demo-test-cache"),
        )
        .arg("--component")
        .arg(component)
        .args(["call", "list_commits", &args])
        .output()
        .expect("run host-demo");
    let v: Value = serde_json::from_slice(&out.stdout).expect("a JSON answer");
    v["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn the_storage_host_is_reachable_only_through_the_apis_own_redirect() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let p = failed_run(widgets(&ws));
    let step = p
        .steps
        .iter()
        .find(|s| s.state == StepState::Completed("FAILED"))
        .unwrap();
    // The very URL the API would name, asked for by a guest on its own: refused, and the
    // storage host never sees it.
    let url = fake_bitbucket::storage::signed_url(
        fake.storage_origin(),
        WORKSPACE,
        WIDGETS,
        p.build_number,
        &step.uuid,
    );
    let authority = fake.storage_origin().trim_start_matches("http://");
    let path_and_query = &url[fake.storage_origin().len()..];
    let message = guest_fetch(&fake, authority, path_and_query);
    assert!(message.contains("HttpRequestDenied"), "{message}");
    assert!(storage_requests(&fake.requests()).is_empty());
    // Through the API's 307 (get_pipeline), the same URL is fetched, once.
    let out = Host::new(&fake).call(
        "get_pipeline",
        json!({"repo": WIDGETS, "pipeline": p.build_number.to_string()}),
    );
    assert!(
        out["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["log_tail"].is_array())
    );
    assert_eq!(
        storage_requests(&fake.settled_requests(Duration::from_secs(5))).len(),
        1
    );
}
