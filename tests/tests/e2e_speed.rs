//! End-to-end structural speed facts, read from the fake's request log (never from timings):
//! which requests a tool sends, and which of them are in flight together. With an injected
//! latency, requests sent together overlap in time; requests sent one after the other do not.
//! `make bench` measures the timings themselves (BENCHMARKS.md).
//!
//! That get_commit fetches the commit and its diffstat together is tested in `e2e_tools.rs`
//! (`get_commit_fetches_commit_and_diffstat_in_parallel`). Run `make build` first.

mod common;

use common::Host;
use fake_bitbucket::log::waves;
use fake_bitbucket::model::StepState;
use fake_bitbucket::sample::*;
use fake_bitbucket::{FakeBitbucket, RecordedRequest};
use serde_json::{Value, json};
use std::time::Duration;

const LATENCY: Duration = Duration::from_millis(100);

/// Calls `tool` with `LATENCY` per request on a fresh fake; the result and the request log.
fn call_slow(tool: &str, args: Value) -> (Value, Vec<RecordedRequest>) {
    let fake = FakeBitbucket::start();
    fake.set_latency(LATENCY);
    let out = Host::new(&fake).call(tool, args);
    (out, fake.settled_requests(Duration::from_secs(5)))
}

fn urls(log: &[RecordedRequest]) -> Vec<&str> {
    log.iter().map(|r| r.url.as_str()).collect()
}

/// Every request of `log` was in flight together with every other: one round trip.
fn assert_one_wave(what: &str, log: &[RecordedRequest]) {
    for a in log {
        for b in log {
            assert!(
                a.overlaps(b),
                "{what}: these requests should be in flight together:\n{a:?}\n{b:?}"
            );
        }
    }
    assert_eq!(waves(log).len(), 1, "{what}: {:?}", urls(log));
}

fn is_main_branch_lookup(r: &RecordedRequest) -> bool {
    r.path() == "/2.0/repositories/acme/widgets"
}

#[test]
fn read_file_fetches_metadata_and_text_together() {
    // A plain branch: no lookup, the metadata and the text at once.
    let (out, log) = call_slow(
        "read_file",
        json!({"repo": WIDGETS, "path": NESTED_FILE, "branch": "main"}),
    );
    assert_eq!(out["path"], NESTED_FILE);
    assert_eq!(log.len(), 2, "{:?}", urls(&log));
    let meta = log
        .iter()
        .filter(|r| r.query_values("format") == ["meta"])
        .count();
    assert_eq!(meta, 1, "one metadata request: {:?}", urls(&log));
    assert!(
        log.iter()
            .all(|r| r.path().ends_with("/src/main/src/widgets/gears/spur.rs")),
        "{:?}",
        urls(&log)
    );
    assert_one_wave("read_file with a branch", &log);

    // No branch: the main branch's name is looked up while both are read at HEAD.
    let (out, log) = call_slow("read_file", json!({"repo": WIDGETS, "path": NESTED_FILE}));
    assert_eq!(out["ref"], "main");
    assert_eq!(log.len(), 3, "{:?}", urls(&log));
    assert_eq!(log.iter().filter(|r| is_main_branch_lookup(r)).count(), 1);
    assert_one_wave("read_file without a branch", &log);
}

#[test]
fn browse_repository_without_a_branch_is_one_round_trip() {
    let (out, log) = call_slow("browse_repository", json!({"repo": WIDGETS}));
    assert_eq!(out["ref"], "main");
    assert!(!out["entries"].as_array().unwrap().is_empty());
    assert_eq!(log.len(), 2, "{:?}", urls(&log));
    assert_eq!(
        log.iter().filter(|r| is_main_branch_lookup(r)).count(),
        1,
        "one main-branch lookup: {:?}",
        urls(&log)
    );
    assert_eq!(
        log.iter().filter(|r| r.path().contains("/src/")).count(),
        1,
        "one listing: {:?}",
        urls(&log)
    );
    assert_one_wave("browse_repository without a branch", &log);
}

#[test]
fn list_pull_requests_fetches_its_pages_together_and_nothing_per_pr() {
    let (out, log) = call_slow(
        "list_pull_requests",
        json!({"repo": WIDGETS, "state": ["OPEN", "MERGED", "DECLINED", "SUPERSEDED"], "limit": 80}),
    );
    assert_eq!(out["pull_requests"].as_array().unwrap().len(), 80);
    assert_eq!(log.len(), 2, "two pages: {:?}", urls(&log));
    for r in &log {
        assert_eq!(
            r.path(),
            "/2.0/repositories/acme/widgets/pullrequests",
            "the list must not fetch pull requests one by one: {}",
            r.url
        );
    }
    let mut pages: Vec<String> = log.iter().flat_map(|r| r.query_values("page")).collect();
    pages.sort();
    assert_eq!(pages, ["1", "2"], "{:?}", urls(&log));
    assert_one_wave("list_pull_requests limit 80", &log);
}

#[test]
fn list_repositories_makes_one_request_up_to_limit_100() {
    let fake = FakeBitbucket::start();
    let host = Host::new(&fake);
    for limit in [None, Some(1), Some(30), Some(100)] {
        fake.clear_requests();
        let args = match limit {
            Some(n) => json!({ "limit": n }),
            None => json!({}),
        };
        let out = host.call("list_repositories", args);
        assert!(!out["repositories"].as_array().unwrap().is_empty());
        let log = fake.requests();
        assert_eq!(log.len(), 1, "limit {limit:?}: {:?}", urls(&log));
        assert_eq!(log[0].path(), "/2.0/repositories/acme");
    }
}

#[test]
fn list_branches_reads_the_page_and_the_main_branch_together() {
    let (out, log) = call_slow("list_branches", json!({"repo": WIDGETS}));
    assert!(!out["branches"].as_array().unwrap().is_empty());
    assert_eq!(log.len(), 2, "{:?}", urls(&log));
    assert_eq!(log.iter().filter(|r| is_main_branch_lookup(r)).count(), 1);
    assert_eq!(
        log.iter()
            .filter(|r| r.path() == "/2.0/repositories/acme/widgets/refs/branches")
            .count(),
        1
    );
    assert_one_wave("list_branches", &log);
}

/// The paths of each round trip, in time order.
fn wave_paths(log: &[RecordedRequest]) -> Vec<Vec<&str>> {
    waves(log)
        .iter()
        .map(|w| w.iter().map(|&i| log[i].path()).collect())
        .collect()
}

/// Without a branch pattern everything about a pull request is asked for at once; the only
/// later requests follow the same-origin 302s of its diff and diffstat (REFERENCE-REVIEW §2).
#[test]
fn get_pull_request_asks_for_everything_together() {
    let (out, log) = call_slow(
        "get_pull_request",
        json!({"repo": WIDGETS, "id": 79, "diff": true}),
    );
    assert_eq!(out["id"], 79);
    let trips = wave_paths(&log);
    assert_eq!(trips.len(), 2, "{trips:?}");
    let pr = "/2.0/repositories/acme/widgets/pullrequests/79";
    for part in ["", "/diffstat", "/diff", "/comments"] {
        assert!(
            trips[0].contains(&format!("{pr}{part}").as_str()),
            "{part} in the first round trip: {trips:?}"
        );
    }
    assert!(
        trips[1]
            .iter()
            .all(|p| p.starts_with("/2.0/repositories/acme/widgets/diff")),
        "only the redirects' targets after it: {trips:?}"
    );
}

/// Under a branch pattern the pull request is read first (its branches decide the scope),
/// then the rest together: one round trip more.
#[test]
fn get_pull_request_under_a_branch_pattern_checks_first() {
    let fake = FakeBitbucket::start();
    fake.set_latency(LATENCY);
    let host = Host::new(&fake).env("BITBUCKET_BRANCH_REGEX", "main|develop");
    let out = host.call("get_pull_request", json!({"repo": WIDGETS, "id": 60}));
    assert_eq!(out["id"], 60);
    let log = fake.settled_requests(Duration::from_secs(5));
    let trips = wave_paths(&log);
    assert_eq!(trips.len(), 3, "{trips:?}");
    assert_eq!(
        trips[0],
        ["/2.0/repositories/acme/widgets/pullrequests/60"],
        "{trips:?}"
    );
}

/// A failed run: the run and its steps together, then the failed steps' logs together (and
/// the storage host each log's 307 names); a run that did not fail reads no log.
#[test]
fn get_pipeline_reads_the_run_and_its_steps_together_then_the_logs() {
    let fake = FakeBitbucket::start();
    let ws = fake.workspace();
    let runs = &ws.repository(WIDGETS).unwrap().pipelines;
    let failed_step = |s: &fake_bitbucket::model::Step| {
        matches!(s.state, StepState::Completed("FAILED" | "ERROR"))
    };
    let failed = runs
        .iter()
        .find(|p| p.steps.iter().any(|s| s.log.is_some() && failed_step(s)))
        .expect("a run with a failed step");
    let passed = runs
        .iter()
        .find(|p| !p.steps.is_empty() && !p.steps.iter().any(failed_step))
        .expect("a run without a failed step");
    for (run, expected_trips) in [(passed, 1), (failed, 3)] {
        let (out, log) = call_slow(
            "get_pipeline",
            json!({"repo": WIDGETS, "pipeline": run.build_number.to_string()}),
        );
        assert_eq!(out["build_number"], run.build_number);
        let trips = wave_paths(&log);
        assert_eq!(trips.len(), expected_trips, "{trips:?}");
        assert_eq!(trips[0].len(), 2, "the run and its steps: {trips:?}");
    }
}
