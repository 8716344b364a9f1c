//! End-to-end tests of failures: each error kind of the contract, produced by the real
//! `host-demo` and component against the fake Bitbucket's failure switches, plus the
//! other ways to authenticate. Run `make build` first.

mod common;

use common::Host;
use fake_bitbucket::sample::*;
use fake_bitbucket::{FakeBitbucket, Fault, SearchMode};
use serde_json::json;
use std::time::{Duration, Instant};

fn widgets_commits() -> serde_json::Value {
    json!({"repo": WIDGETS, "limit": 5})
}

#[test]
fn missing_repository_is_not_found() {
    let fake = FakeBitbucket::start();
    let (kind, message) =
        Host::new(&fake).call_err("list_commits", json!({"repo": "does-not-exist"}));
    assert_eq!(kind, "not_found");
    assert!(!message.is_empty());
    let (kind, _) = Host::new(&fake).call_err(
        "get_commit",
        json!({"repo": WIDGETS, "commit": "abcdef1234"}),
    );
    assert_eq!(kind, "not_found");
}

#[test]
fn invalid_token_is_unauthorized_and_not_leaked() {
    let fake = FakeBitbucket::start();
    let secret = "wrong-token-s3cr3t-value";
    let out = Host::new(&fake)
        .env("BITBUCKET_TOKEN", secret)
        .call_raw("list_repositories", &json!({}));
    assert_eq!(
        out.code, 1,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert_eq!(out.json()["error"]["kind"], "unauthorized");
    assert!(
        !out.stdout.contains(secret),
        "the token leaked into: {}",
        out.stdout
    );
}

#[test]
fn expired_token_is_unauthorized() {
    let fake = FakeBitbucket::start();
    fake.expire_token("test-token-valid");
    let (kind, _) = Host::new(&fake).call_err("list_pull_requests", json!({"repo": WIDGETS}));
    assert_eq!(kind, "unauthorized");
}

#[test]
fn expired_oauth_token_is_refreshed() {
    let fake = FakeBitbucket::start();
    fake.add_token("oauth-access-1");
    fake.expire_token("oauth-access-1");
    let host = Host::new(&fake)
        .env("BITBUCKET_TOKEN", "oauth-access-1")
        .env("BITBUCKET_OAUTH_CLIENT_ID", "test-client-id")
        .env("BITBUCKET_OAUTH_CLIENT_SECRET", "test-client-secret")
        .env("BITBUCKET_OAUTH_REFRESH_TOKEN", "test-refresh-token")
        .env("BITBUCKET_OAUTH_TOKEN_URL", &fake.token_url());
    let out = host.call("list_commits", widgets_commits());
    assert_eq!(out["commits"].as_array().unwrap().len(), 5);
    let issued = fake.issued_tokens();
    assert_eq!(issued.len(), 1, "one refresh");
    let log = fake.requests();
    let token_call = log
        .iter()
        .find(|r| r.path() == "/site/oauth2/access_token")
        .expect("a token request");
    assert_eq!(token_call.method, "POST");
    assert!(String::from_utf8_lossy(&token_call.body).contains("grant_type=refresh_token"));
    let bearer = format!("Bearer {}", issued[0]);
    assert!(
        log.iter()
            .any(|r| r.id > token_call.id && r.header("authorization") == Some(bearer.as_str()))
    );
}

#[test]
fn basic_authentication_with_an_api_token() {
    let fake = FakeBitbucket::start();
    let host = Host::new(&fake)
        .without("BITBUCKET_TOKEN")
        .env("BITBUCKET_USERNAME", "dev@example.com")
        .env("BITBUCKET_API_TOKEN", "test-api-token-valid");
    let out = host.call("list_commits", widgets_commits());
    assert_eq!(out["commits"].as_array().unwrap().len(), 5);
    assert!(fake.requests().iter().all(|r| {
        r.header("authorization")
            .is_some_and(|a| a.starts_with("Basic "))
    }));
}

#[test]
fn out_of_scope_repository_sends_nothing() {
    let fake = FakeBitbucket::start();
    let host = Host::new(&fake).env("BITBUCKET_REPOSITORY_REGEX", "^(widgets|legacy-app)$");
    let (kind, _) = host.call_err("list_commits", json!({"repo": SECRET_INFRA}));
    assert_eq!(kind, "out_of_scope");
    assert!(
        fake.requests()
            .iter()
            .all(|r| !r.url.contains(SECRET_INFRA)),
        "{:?}",
        fake.requests()
    );
    let repos = host.call("list_repositories", json!({"limit": 100}));
    let slugs: Vec<&str> = repos["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["slug"].as_str().unwrap())
        .collect();
    assert!(!slugs.contains(&SECRET_INFRA));
    assert!(slugs.contains(&WIDGETS) && slugs.contains(&LEGACY_APP));
}

#[test]
fn invisible_private_repository_is_not_found() {
    let fake = FakeBitbucket::start();
    let host = Host::new(&fake).env("BITBUCKET_TOKEN", "test-token-limited");
    let (kind, _) = host.call_err("browse_repository", json!({"repo": SECRET_INFRA}));
    assert_eq!(kind, "not_found");
}

#[test]
fn missing_scope_is_forbidden_and_named() {
    let fake = FakeBitbucket::start();
    fake.fail_always("/pullrequests", Fault::missing_scope("pullrequest"));
    let (kind, message) = Host::new(&fake).call_err("list_pull_requests", json!({"repo": WIDGETS}));
    assert_eq!(kind, "forbidden");
    assert!(
        message.contains("pullrequest"),
        "the message should name the scope: {message}"
    );
}

#[test]
fn code_search_off_or_refused_is_search_unavailable() {
    let fake = FakeBitbucket::start();
    for mode in [SearchMode::Disabled, SearchMode::Forbidden] {
        fake.set_search(mode);
        let (kind, _) = Host::new(&fake).call_err("search_code", json!({"query": SEARCH_WORD}));
        assert_eq!(kind, "search_unavailable", "{mode:?}");
    }
}

#[test]
fn pipelines_not_enabled_is_pipelines_unavailable() {
    let fake = FakeBitbucket::start();
    let (kind, _) = Host::new(&fake).call_err("list_pipelines", json!({"repo": NO_PIPELINES_REPO}));
    assert_eq!(kind, "pipelines_unavailable");
    fake.disable_pipelines(WIDGETS);
    let (kind, _) = Host::new(&fake).call_err("list_pipelines", json!({"repo": WIDGETS}));
    assert_eq!(kind, "pipelines_unavailable");
}

#[test]
fn one_rate_limit_is_retried() {
    let fake = FakeBitbucket::start();
    fake.fail_next("/commits", Fault::RateLimited, 1);
    let out = Host::new(&fake)
        .env("BITBUCKET_RETRY_BASE_MS", "20")
        .call("list_commits", widgets_commits());
    assert_eq!(out["commits"].as_array().unwrap().len(), 5);
    let tries = fake
        .requests()
        .iter()
        .filter(|r| r.path().contains("/commits"))
        .count();
    assert!(tries >= 2, "the 429 should have been retried");
}

#[test]
fn persistent_rate_limit_is_rate_limited() {
    let fake = FakeBitbucket::start();
    fake.fail_always("/commits", Fault::RateLimited);
    let (kind, message) = Host::new(&fake)
        .env("BITBUCKET_RETRY_BASE_MS", "100")
        .call_err("list_commits", widgets_commits());
    assert_eq!(kind, "rate_limited");
    assert!(message.contains("wait a few minutes"), "{message}");
    // Exponential backoff with jitter: the n-th wait is 100 ms × 2^n × [0.5, 1.5), and the
    // waits stop within 10 base delays.
    let arrivals: Vec<_> = fake
        .requests()
        .iter()
        .filter(|r| r.path().contains("/commits"))
        .map(|r| r.arrived)
        .collect();
    assert!(
        (3..=4).contains(&arrivals.len()),
        "{} attempts",
        arrivals.len()
    );
    for (n, pair) in arrivals.windows(2).enumerate() {
        let gap = pair[1].duration_since(pair[0]).as_millis() as u64;
        assert!(gap >= 50 << n, "wait {n} was {gap} ms");
    }
    let total = arrivals
        .last()
        .unwrap()
        .duration_since(arrivals[0])
        .as_millis();
    assert!(total < 1000 + 500, "waited {total} ms in all");
}

#[test]
fn server_errors_and_bad_answers_are_upstream() {
    for fault in [
        Fault::ServerError,
        Fault::BadGateway,
        Fault::GarbageJson,
        Fault::Html,
        Fault::Redirect("http://elsewhere.invalid/2.0/x".into()),
    ] {
        let fake = FakeBitbucket::start();
        fake.fail_always("/commits", fault.clone());
        let (kind, _) = Host::new(&fake).call_err("list_commits", widgets_commits());
        assert_eq!(kind, "upstream", "{fault:?}");
    }
}

#[test]
fn huge_answers_are_refused_not_buffered() {
    let fake = FakeBitbucket::start();
    fake.fail_always("/commits", Fault::Huge(50 * 1024 * 1024));
    let out = Host::new(&fake).call_raw("list_commits", &widgets_commits());
    assert_eq!(
        out.code, 1,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert_eq!(out.json()["error"]["kind"], "upstream");
}

#[test]
fn a_stalled_answer_is_a_timeout() {
    let fake = FakeBitbucket::start();
    fake.fail_always("/commits", Fault::Stall(Duration::from_secs(60)));
    let started = Instant::now();
    let (kind, _) = Host::new(&fake)
        .env("BITBUCKET_TIMEOUT_SECONDS", "2")
        .call_err("list_commits", widgets_commits());
    assert_eq!(kind, "timeout");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn bad_arguments_are_invalid_input_and_send_nothing() {
    let fake = FakeBitbucket::start();
    let host = Host::new(&fake);
    for (tool, args) in [
        (
            "read_file",
            json!({"repo": WIDGETS, "path": "../etc/passwd"}),
        ),
        (
            "get_commit",
            json!({"repo": WIDGETS, "commit": "not-a-hash!"}),
        ),
        (
            "list_pull_requests",
            json!({"repo": WIDGETS, "state": "BOGUS"}),
        ),
        (
            "read_file",
            json!({"repo": WIDGETS, "path": "README.md", "start_line": 10, "end_line": 2}),
        ),
    ] {
        fake.clear_requests();
        let (kind, _) = host.call_err(tool, args.clone());
        assert_eq!(kind, "invalid_input", "{tool} {args}");
        assert!(
            fake.requests().is_empty(),
            "{tool} {args} sent {:?}",
            fake.requests()
        );
    }
}

#[test]
fn bad_usage_exits_2() {
    let fake = FakeBitbucket::start();
    let host = Host::new(&fake);
    assert_eq!(host.run(&["call"]).code, 2);
    assert_eq!(host.run(&["no-such-verb"]).code, 2);
}
