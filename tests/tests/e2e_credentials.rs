//! End-to-end tests of the credentials: each kind (bearer token; Basic with an Atlassian
//! email and API token; Basic with an app password; the same injected by the host with
//! `BITBUCKET_CREDENTIALS_FROM_HOST=1`) is accepted when right and rejected when wrong, and
//! the fake's request log shows the exact `Authorization` header that arrived. An expired
//! OAuth access token is refreshed once per call; without credentials nothing is sent.
//! Every output of `host-demo` is kept, and no secret used in a test may appear in any of
//! them. Run `make build` first.

mod common;

use common::TOOLS;

use common::{Host, Transcript, basic_value};
use fake_bitbucket::auth::{
    DEFAULT_API_TOKEN, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REFRESH_TOKEN,
    DEFAULT_TOKEN, DEFAULT_USERNAME,
};
use fake_bitbucket::http::Query;
use fake_bitbucket::sample::*;
use fake_bitbucket::{FakeBitbucket, RecordedRequest};
use serde_json::{Value, json};

/// The eight tools of the contract.
/// A Bitbucket username (not an email) and its app password, added to the fake's accepted
/// basic credentials by the tests that use them.
const APP_USER: &str = "dev-user";
const APP_PASSWORD: &str = "test-app-password-valid";

/// The path of the fake's OAuth token endpoint.
const TOKEN_PATH: &str = "/site/oauth2/access_token";

/// The secrets every test may have handed to `host-demo`, plus the basic header values
/// built from them.
fn base_secrets() -> Vec<String> {
    vec![
        DEFAULT_TOKEN.to_string(),
        DEFAULT_API_TOKEN.to_string(),
        APP_PASSWORD.to_string(),
        DEFAULT_CLIENT_SECRET.to_string(),
        DEFAULT_REFRESH_TOKEN.to_string(),
        basic_value(DEFAULT_USERNAME, DEFAULT_API_TOKEN),
        basic_value(APP_USER, APP_PASSWORD),
        basic_value(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    ]
}

/// Checks the transcript against the base secrets, `extra` ones, and every access token the
/// fake's OAuth endpoint issued.
fn assert_no_secret_leaked(fake: &FakeBitbucket, transcript: &Transcript, extra: &[&str]) {
    let mut secrets = base_secrets();
    secrets.extend(extra.iter().map(|s| s.to_string()));
    secrets.extend(fake.issued_tokens());
    transcript.assert_free_of(&secrets);
}

/// A host for `fake` recording into `transcript`, with no credential at all.
fn bare_host(fake: &FakeBitbucket, transcript: &Transcript) -> Host {
    Host::new(fake)
        .without("BITBUCKET_TOKEN")
        .record(transcript)
}

/// One simple call of each tool (all succeed with a good credential).
fn eight_calls(fake: &FakeBitbucket) -> Vec<(&'static str, Value)> {
    let ws = fake.workspace();
    let main = ws
        .repository(WIDGETS)
        .unwrap()
        .main_head()
        .unwrap()
        .hash
        .clone();
    let calls = vec![
        ("list_repositories", json!({"limit": 3})),
        ("browse_repository", json!({"repo": WIDGETS})),
        ("read_file", json!({"repo": WIDGETS, "path": "README.md"})),
        ("search_code", json!({"query": SEARCH_WORD, "limit": 3})),
        ("list_commits", json!({"repo": WIDGETS, "limit": 3})),
        ("get_commit", json!({"repo": WIDGETS, "commit": main})),
        ("list_pull_requests", json!({"repo": WIDGETS, "limit": 3})),
        ("list_pipelines", json!({"repo": WIDGETS, "limit": 3})),
        ("list_branches", json!({"repo": WIDGETS, "limit": 3})),
        (
            "get_pull_request",
            json!({"repo": WIDGETS, "id": 79, "diff": true}),
        ),
        ("get_pipeline", json!({"repo": WIDGETS, "pipeline": "5"})),
    ];
    assert_eq!(
        calls.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        TOOLS.to_vec()
    );
    calls
}

/// The `Authorization` headers of one request (there must be exactly one).
fn authorizations(r: &RecordedRequest) -> Vec<&str> {
    r.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The API requests (not the token endpoint) received since the last clear.
/// The API requests received, once each has been answered (statuses are logged after the
/// answer is sent, which the host may beat).
fn api_requests(fake: &FakeBitbucket) -> Vec<RecordedRequest> {
    fake.settled_requests(std::time::Duration::from_secs(5))
        .into_iter()
        .filter(|r| r.path().starts_with("/2.0/"))
        .collect()
}

fn token_requests(fake: &FakeBitbucket) -> Vec<RecordedRequest> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path() == TOKEN_PATH)
        .collect()
}

/// Asserts that at least one API request arrived and each carried exactly one
/// `Authorization` header, equal to `expected`.
fn assert_every_request_authorized_with(fake: &FakeBitbucket, expected: &str, what: &str) {
    let requests = api_requests(fake);
    assert!(!requests.is_empty(), "{what}: no request arrived");
    for r in &requests {
        assert_eq!(
            authorizations(r),
            vec![expected],
            "{what}: the Authorization header of {} {}",
            r.method,
            r.url
        );
    }
}

/// Runs all eight tools with `host`, expecting success, and checks the header of every
/// request each one sent.
fn eight_tools_succeed_with(fake: &FakeBitbucket, host: &Host, expected_header: &str) {
    for (tool, args) in eight_calls(fake) {
        fake.clear_requests();
        host.call(tool, args.clone());
        assert_every_request_authorized_with(fake, expected_header, &format!("{tool} {args}"));
        assert!(token_requests(fake).is_empty(), "{tool}: no token refresh");
    }
}

/// Calls list_commits with `host`, expecting `unauthorized`, and checks that `sent_header`
/// (the configured, wrong credential) is what arrived. Returns the message.
fn rejected_with(fake: &FakeBitbucket, host: &Host, sent_header: &str) -> String {
    fake.clear_requests();
    let (kind, message) = host.call_err("list_commits", json!({"repo": WIDGETS, "limit": 3}));
    assert_eq!(kind, "unauthorized", "{message}");
    assert_every_request_authorized_with(fake, sent_header, "rejected list_commits");
    for r in api_requests(fake) {
        assert_eq!(r.status, Some(401), "{}", r.url);
    }
    message
}

// ---------------------------------------------------------------- bearer token

/// A bearer token (`BITBUCKET_TOKEN`) is sent as `Authorization: Bearer <token>` by every
/// tool, and accepted.
#[test]
fn bearer_token_is_accepted() {
    let fake = FakeBitbucket::start();
    let transcript = Transcript::new();
    let host = bare_host(&fake, &transcript).env("BITBUCKET_TOKEN", DEFAULT_TOKEN);
    eight_tools_succeed_with(&fake, &host, &format!("Bearer {DEFAULT_TOKEN}"));
    assert_no_secret_leaked(&fake, &transcript, &[]);
}

/// A wrong bearer token is sent as configured and rejected: `unauthorized`.
#[test]
fn wrong_bearer_token_is_unauthorized() {
    let fake = FakeBitbucket::start();
    let transcript = Transcript::new();
    let wrong = "wrong-bearer-token-0a1b2c3d";
    let host = bare_host(&fake, &transcript).env("BITBUCKET_TOKEN", wrong);
    rejected_with(&fake, &host, &format!("Bearer {wrong}"));
    assert_no_secret_leaked(&fake, &transcript, &[wrong]);
}

// ---------------------------------------------------------------- basic: email + API token

/// `BITBUCKET_USERNAME` (the Atlassian account email) with `BITBUCKET_API_TOKEN` is sent as
/// `Authorization: Basic base64(email:token)` by every tool, and accepted.
#[test]
fn email_and_api_token_are_accepted() {
    let fake = FakeBitbucket::start();
    let transcript = Transcript::new();
    let host = bare_host(&fake, &transcript)
        .env("BITBUCKET_USERNAME", DEFAULT_USERNAME)
        .env("BITBUCKET_API_TOKEN", DEFAULT_API_TOKEN);
    eight_tools_succeed_with(
        &fake,
        &host,
        &basic_value(DEFAULT_USERNAME, DEFAULT_API_TOKEN),
    );
    assert_no_secret_leaked(&fake, &transcript, &[]);
}

/// A wrong API token is rejected (`unauthorized`); so is a right API token with a username
/// that is not the account email, and the message then points at the email.
#[test]
fn wrong_api_token_or_username_is_unauthorized() {
    let fake = FakeBitbucket::start();
    let transcript = Transcript::new();
    let wrong = "wrong-api-token-9f8e7d6c";
    let host = bare_host(&fake, &transcript)
        .env("BITBUCKET_USERNAME", DEFAULT_USERNAME)
        .env("BITBUCKET_API_TOKEN", wrong);
    rejected_with(&fake, &host, &basic_value(DEFAULT_USERNAME, wrong));

    let host = bare_host(&fake, &transcript)
        .env("BITBUCKET_USERNAME", "dev")
        .env("BITBUCKET_API_TOKEN", DEFAULT_API_TOKEN);
    let message = rejected_with(&fake, &host, &basic_value("dev", DEFAULT_API_TOKEN));
    assert!(
        message.to_lowercase().contains("email"),
        "the message should point at the account email: {message}"
    );
    assert_no_secret_leaked(
        &fake,
        &transcript,
        &[
            wrong,
            &basic_value(DEFAULT_USERNAME, wrong),
            &basic_value("dev", DEFAULT_API_TOKEN),
        ],
    );
}

// ---------------------------------------------------------------- basic: app password

/// `BITBUCKET_USERNAME` with `BITBUCKET_APP_PASSWORD` is sent as
/// `Authorization: Basic base64(username:app-password)` by every tool, and accepted.
#[test]
fn app_password_is_accepted() {
    let fake = FakeBitbucket::start();
    fake.with_auth(|a| a.basic.push((APP_USER.into(), APP_PASSWORD.into())));
    let transcript = Transcript::new();
    let host = bare_host(&fake, &transcript)
        .env("BITBUCKET_USERNAME", APP_USER)
        .env("BITBUCKET_APP_PASSWORD", APP_PASSWORD);
    eight_tools_succeed_with(&fake, &host, &basic_value(APP_USER, APP_PASSWORD));
    assert_no_secret_leaked(&fake, &transcript, &[]);
}

/// A wrong app password is sent as configured and rejected: `unauthorized`.
#[test]
fn wrong_app_password_is_unauthorized() {
    let fake = FakeBitbucket::start();
    fake.with_auth(|a| a.basic.push((APP_USER.into(), APP_PASSWORD.into())));
    let transcript = Transcript::new();
    let wrong = "wrong-app-password-5e4d3c";
    let host = bare_host(&fake, &transcript)
        .env("BITBUCKET_USERNAME", APP_USER)
        .env("BITBUCKET_APP_PASSWORD", wrong);
    rejected_with(&fake, &host, &basic_value(APP_USER, wrong));
    assert_no_secret_leaked(&fake, &transcript, &[wrong, &basic_value(APP_USER, wrong)]);
}

// ---------------------------------------------------------------- injected by the host

/// With `BITBUCKET_CREDENTIALS_FROM_HOST=1` and a bearer token, the host adds
/// `Authorization: Bearer <token>` to every request of every tool (exactly one header), and
/// it is accepted; a wrong token is rejected.
#[test]
fn host_injected_bearer_token_is_accepted_and_a_wrong_one_rejected() {
    let fake = FakeBitbucket::start();
    let transcript = Transcript::new();
    let host = bare_host(&fake, &transcript)
        .env("BITBUCKET_CREDENTIALS_FROM_HOST", "1")
        .env("BITBUCKET_TOKEN", DEFAULT_TOKEN);
    eight_tools_succeed_with(&fake, &host, &format!("Bearer {DEFAULT_TOKEN}"));

    let wrong = "wrong-injected-token-7c6b5a";
    let host = bare_host(&fake, &transcript)
        .env("BITBUCKET_CREDENTIALS_FROM_HOST", "1")
        .env("BITBUCKET_TOKEN", wrong);
    rejected_with(&fake, &host, &format!("Bearer {wrong}"));
    assert_no_secret_leaked(&fake, &transcript, &[wrong]);
}

/// With `BITBUCKET_CREDENTIALS_FROM_HOST=1` and basic credentials (email + API token, or
/// username + app password), the host adds `Authorization: Basic …` to every request of
/// every tool, and it is accepted; a wrong password is rejected.
#[test]
fn host_injected_basic_credentials_are_accepted_and_wrong_ones_rejected() {
    let fake = FakeBitbucket::start();
    fake.with_auth(|a| a.basic.push((APP_USER.into(), APP_PASSWORD.into())));
    let transcript = Transcript::new();
    for (user, password_var, password) in [
        (DEFAULT_USERNAME, "BITBUCKET_API_TOKEN", DEFAULT_API_TOKEN),
        (APP_USER, "BITBUCKET_APP_PASSWORD", APP_PASSWORD),
    ] {
        let host = bare_host(&fake, &transcript)
            .env("BITBUCKET_CREDENTIALS_FROM_HOST", "1")
            .env("BITBUCKET_USERNAME", user)
            .env(password_var, password);
        eight_tools_succeed_with(&fake, &host, &basic_value(user, password));
    }
    let wrong = "wrong-injected-password-3b2a19";
    for (user, password_var) in [
        (DEFAULT_USERNAME, "BITBUCKET_API_TOKEN"),
        (APP_USER, "BITBUCKET_APP_PASSWORD"),
    ] {
        let host = bare_host(&fake, &transcript)
            .env("BITBUCKET_CREDENTIALS_FROM_HOST", "1")
            .env("BITBUCKET_USERNAME", user)
            .env(password_var, wrong);
        rejected_with(&fake, &host, &basic_value(user, wrong));
    }
    assert_no_secret_leaked(
        &fake,
        &transcript,
        &[
            wrong,
            &basic_value(DEFAULT_USERNAME, wrong),
            &basic_value(APP_USER, wrong),
        ],
    );
}

/// When both password variables are set, the component and the host pick the same one:
/// the same `Authorization` header arrives with and without host injection.
#[test]
fn both_password_variables_resolve_alike_with_and_without_host_injection() {
    let fake = FakeBitbucket::start();
    let transcript = Transcript::new();
    let other = "other-app-password-1f2e3d";
    let headers = |inject: bool| -> Vec<String> {
        let mut host = bare_host(&fake, &transcript)
            .env("BITBUCKET_USERNAME", DEFAULT_USERNAME)
            .env("BITBUCKET_API_TOKEN", DEFAULT_API_TOKEN)
            .env("BITBUCKET_APP_PASSWORD", other);
        if inject {
            host = host.env("BITBUCKET_CREDENTIALS_FROM_HOST", "1");
        }
        fake.clear_requests();
        host.call_raw("list_commits", &json!({"repo": WIDGETS, "limit": 1}));
        api_requests(&fake)
            .iter()
            .flat_map(|r| authorizations(r).into_iter().map(str::to_string))
            .collect()
    };
    let component = headers(false);
    let injected = headers(true);
    assert!(!component.is_empty());
    assert_eq!(component, injected);
    assert_no_secret_leaked(
        &fake,
        &transcript,
        &[other, &basic_value(DEFAULT_USERNAME, other)],
    );
}

/// Host injection without any credential is a configuration error of the host (exit 2,
/// message on standard error), and nothing is sent.
#[test]
fn host_injection_without_credentials_is_a_configuration_error() {
    let fake = FakeBitbucket::start();
    let transcript = Transcript::new();
    for extra in [None, Some(("BITBUCKET_USERNAME", DEFAULT_USERNAME))] {
        let mut host = bare_host(&fake, &transcript).env("BITBUCKET_CREDENTIALS_FROM_HOST", "1");
        if let Some((k, v)) = extra {
            host = host.env(k, v);
        }
        let out = host.call_raw("list_commits", &json!({"repo": WIDGETS}));
        assert_eq!(
            out.code, 2,
            "stdout: {}\nstderr: {}",
            out.stdout, out.stderr
        );
        assert!(
            out.stderr.contains("BITBUCKET_TOKEN"),
            "the message names the settings: {}",
            out.stderr
        );
        assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    }
    assert_no_secret_leaked(&fake, &transcript, &[]);
}

// ---------------------------------------------------------------- OAuth refresh

/// An access token the fake accepts until it is expired.
fn expired_access_token(fake: &FakeBitbucket, token: &str) {
    fake.add_token(token);
    fake.expire_token(token);
}

fn with_refresh(host: Host, fake: &FakeBitbucket, refresh_token: &str, secret: &str) -> Host {
    host.env("BITBUCKET_OAUTH_CLIENT_ID", DEFAULT_CLIENT_ID)
        .env("BITBUCKET_OAUTH_CLIENT_SECRET", secret)
        .env("BITBUCKET_OAUTH_REFRESH_TOKEN", refresh_token)
        .env("BITBUCKET_OAUTH_TOKEN_URL", &fake.token_url())
}

/// Asserts that exactly one refresh-grant POST reached the token endpoint, with the client
/// credentials as Basic and the configured refresh token in the form body; returns it.
fn one_refresh_request(fake: &FakeBitbucket, refresh_token: &str, secret: &str) -> RecordedRequest {
    let posts = token_requests(fake);
    assert_eq!(posts.len(), 1, "exactly one refresh: {posts:?}");
    let post = posts.into_iter().next().unwrap();
    assert_eq!(post.method, "POST");
    assert_eq!(
        authorizations(&post),
        vec![basic_value(DEFAULT_CLIENT_ID, secret).as_str()]
    );
    let form = Query::parse(&String::from_utf8_lossy(&post.body));
    assert_eq!(form.get("grant_type"), Some("refresh_token"));
    assert_eq!(form.get("refresh_token"), Some(refresh_token));
    // A body of known size is sent with Content-Length, not chunked (some token endpoints
    // and proxies refuse chunked POSTs).
    let header = |name: &str| {
        post.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("content-length"), Some(post.body.len().to_string()));
    assert_eq!(header("transfer-encoding"), None, "{:?}", post.headers);
    post
}

/// An expired OAuth access token with the client id, secret and refresh token configured:
/// the first 401 leads to exactly one refresh POST (even when several requests of the call
/// failed at once), the failed requests are retried with the new token, and the call
/// returns what a valid token gives.
#[test]
fn expired_oauth_token_is_refreshed_once_and_the_call_retried() {
    let fake = FakeBitbucket::start();
    let transcript = Transcript::new();
    let expired = "oauth-access-token-expired-4d5e";
    expired_access_token(&fake, expired);
    let good = Host::new(&fake).record(&transcript);
    let host = with_refresh(
        bare_host(&fake, &transcript).env("BITBUCKET_TOKEN", expired),
        &fake,
        DEFAULT_REFRESH_TOKEN,
        DEFAULT_CLIENT_SECRET,
    );
    for (tool, args) in eight_calls(&fake) {
        let expected = good.call(tool, args.clone());
        fake.clear_requests();
        let issued_before = fake.issued_tokens().len();
        let got = host.call(tool, args.clone());
        assert_eq!(got, expected, "{tool} {args}");

        let post = one_refresh_request(&fake, DEFAULT_REFRESH_TOKEN, DEFAULT_CLIENT_SECRET);
        let issued = fake.issued_tokens();
        assert_eq!(
            issued.len(),
            issued_before + 1,
            "{tool}: one new access token"
        );
        let new_header = format!("Bearer {}", issued.last().unwrap());
        let old_header = format!("Bearer {expired}");
        let api = api_requests(&fake);
        let (before, after): (Vec<_>, Vec<_>) = api.iter().partition(|r| r.id < post.id);
        assert!(!before.is_empty() && !after.is_empty(), "{tool}: {api:?}");
        for r in &before {
            assert_eq!(
                authorizations(r),
                vec![old_header.as_str()],
                "{tool} {}",
                r.url
            );
            assert_eq!(r.status, Some(401), "{tool} {}", r.url);
        }
        for r in &after {
            assert_eq!(
                authorizations(r),
                vec![new_header.as_str()],
                "{tool} {}",
                r.url
            );
        }
        // Every request that failed was sent again.
        let retried: Vec<&str> = after.iter().map(|r| r.url.as_str()).collect();
        for r in &before {
            assert!(
                retried.contains(&r.url.as_str()),
                "{tool}: {} not retried",
                r.url
            );
        }
    }
    assert_no_secret_leaked(&fake, &transcript, &[expired]);
}

/// An expired access token without refresh settings is `unauthorized`, the message says to
/// reconnect or refresh the token, and no refresh is attempted; partial refresh settings
/// are a `config` error naming the missing ones, and nothing is sent.
#[test]
fn expired_token_without_refresh_settings_says_to_reconnect() {
    let fake = FakeBitbucket::start();
    let transcript = Transcript::new();
    let expired = "oauth-access-token-expired-8a9b";
    expired_access_token(&fake, expired);
    let host = bare_host(&fake, &transcript).env("BITBUCKET_TOKEN", expired);
    let message = rejected_with(&fake, &host, &format!("Bearer {expired}"));
    let lower = message.to_lowercase();
    assert!(
        lower.contains("reconnect") && lower.contains("refresh"),
        "the message should say to reconnect or refresh the token: {message}"
    );
    assert!(token_requests(&fake).is_empty());

    fake.clear_requests();
    let partial = host
        .env("BITBUCKET_OAUTH_CLIENT_ID", DEFAULT_CLIENT_ID)
        .env("BITBUCKET_OAUTH_CLIENT_SECRET", DEFAULT_CLIENT_SECRET);
    let (kind, message) = partial.call_err("list_commits", json!({"repo": WIDGETS}));
    assert_eq!(kind, "config", "{message}");
    assert!(
        message.contains("BITBUCKET_OAUTH_REFRESH_TOKEN"),
        "{message}"
    );
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    assert_no_secret_leaked(&fake, &transcript, &[expired]);
}

/// A refresh token (or client secret) the token endpoint refuses: one refresh POST, no
/// access token issued, and the call is `unauthorized` with a message saying to reconnect.
#[test]
fn refused_refresh_is_unauthorized() {
    let fake = FakeBitbucket::start();
    let transcript = Transcript::new();
    let expired = "oauth-access-token-expired-c0d1";
    let bad_refresh = "wrong-refresh-token-e2f3a4";
    let bad_secret = "wrong-client-secret-b5c6d7";
    expired_access_token(&fake, expired);
    for (refresh_token, secret) in [
        (bad_refresh, DEFAULT_CLIENT_SECRET),
        (DEFAULT_REFRESH_TOKEN, bad_secret),
    ] {
        fake.clear_requests();
        let host = with_refresh(
            bare_host(&fake, &transcript).env("BITBUCKET_TOKEN", expired),
            &fake,
            refresh_token,
            secret,
        );
        let (kind, message) =
            host.call_err("read_file", json!({"repo": WIDGETS, "path": "README.md"}));
        assert_eq!(kind, "unauthorized", "{message}");
        assert!(
            message.to_lowercase().contains("reconnect"),
            "the message should say to reconnect: {message}"
        );
        one_refresh_request(&fake, refresh_token, secret);
        assert!(fake.issued_tokens().is_empty(), "no access token issued");
        for r in api_requests(&fake) {
            assert_eq!(
                authorizations(&r),
                vec![format!("Bearer {expired}").as_str()]
            );
        }
    }
    assert_no_secret_leaked(
        &fake,
        &transcript,
        &[
            expired,
            bad_refresh,
            bad_secret,
            &basic_value(DEFAULT_CLIENT_ID, bad_secret),
        ],
    );
}

// ---------------------------------------------------------------- no credentials

/// Without credentials every tool fails with a `config` error that says what to set, and the
/// fake receives no request at all; a username without a password, or a password without a
/// username, is a `config` error naming the missing setting.
#[test]
fn no_credentials_is_a_config_error_and_sends_nothing() {
    let fake = FakeBitbucket::start();
    let transcript = Transcript::new();
    let none = bare_host(&fake, &transcript);
    for (tool, args) in eight_calls(&fake) {
        let (kind, message) = none.call_err(tool, args.clone());
        assert_eq!(kind, "config", "{tool}: {message}");
        assert!(message.contains("BITBUCKET_TOKEN"), "{tool}: {message}");
    }
    // A token variable that is set but empty is a configuration error of the host (exit 2),
    // not "no token".
    let empty = bare_host(&fake, &transcript).env("BITBUCKET_TOKEN", "");
    let out = empty.call_raw("list_repositories", &json!({}));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("BITBUCKET_TOKEN is set but blank"),
        "{out:?}"
    );
    for (env, names) in [
        (
            vec![("BITBUCKET_USERNAME", DEFAULT_USERNAME)],
            "BITBUCKET_API_TOKEN",
        ),
        (
            vec![("BITBUCKET_API_TOKEN", DEFAULT_API_TOKEN)],
            "BITBUCKET_USERNAME",
        ),
        (
            vec![("BITBUCKET_APP_PASSWORD", APP_PASSWORD)],
            "BITBUCKET_USERNAME",
        ),
    ] {
        let mut host = bare_host(&fake, &transcript);
        for (k, v) in &env {
            host = host.env(k, v);
        }
        let (kind, message) = host.call_err("list_commits", json!({"repo": WIDGETS}));
        assert_eq!(kind, "config", "{env:?}: {message}");
        assert!(message.contains(names), "{env:?}: {message}");
    }
    assert!(
        fake.requests().is_empty(),
        "nothing may be sent without credentials: {:?}",
        fake.requests()
    );
    assert_no_secret_leaked(&fake, &transcript, &[]);
}
