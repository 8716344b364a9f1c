//! Tests of `outbound.rs`: the egress policy: which outbound requests leave the host, with which credentials.

use super::*;

fn settings(file: &str, env: &[(&str, &str)]) -> Settings {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::build(None, Some(file), |k| {
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    })
    .unwrap()
}

fn decide(p: &PolicyConfig, method: &str, url: &str) -> Decision {
    p.decide(&method.parse().unwrap(), &url.parse().unwrap())
}

fn allowed(p: &PolicyConfig, method: &str, url: &str) -> Option<(Rule, bool)> {
    match decide(p, method, url) {
        Decision::Allow { rule, credentials } => Some((rule, credentials)),
        Decision::Refuse(_) => None,
    }
}

const READ: Option<(Rule, bool)> = Some((Rule::ApiRead, false));
const TOKEN: Option<(Rule, bool)> = Some((Rule::TokenExchange, false));

#[test]
fn step_logs_are_recognised_by_their_path_only() {
    assert!(is_step_log(
        "/2.0/repositories/acme/widgets/pipelines/5/steps/%7Bs%7D/log",
        "/2.0"
    ));
    for other in [
        "/2.0/repositories/acme/widgets/pipelines/5/steps/%7Bs%7D",
        "/2.0/repositories/acme/widgets/pullrequests/5/diff",
        "/3.0/repositories/acme/widgets/pipelines/5/steps/s/log",
        "/2.0/repositories/acme/widgets/pipelines/5/steps/s/log/x",
    ] {
        assert!(!is_step_log(other, "/2.0"), "{other}");
    }
}

#[test]
fn a_url_named_by_the_api_is_allowed_once_without_credentials() {
    let policy = OutboundPolicy::new(Arc::new(PolicyConfig::new(&settings("", &[]))));
    let signed: Uri = "https://logs.example/bucket/step.log?X-Amz-Signature=abc"
        .parse()
        .unwrap();
    policy.named_by_api.lock().unwrap().push(signed.clone());
    let other: Uri = "https://logs.example/bucket/other.log".parse().unwrap();
    assert!(!policy.take_named(&Method::GET, &other, false));
    assert!(!policy.take_named(&Method::POST, &signed, false));
    assert!(
        !policy.take_named(&Method::GET, &signed, true),
        "never with credentials"
    );
    assert!(policy.take_named(&Method::GET, &signed, false));
    assert!(
        !policy.take_named(&Method::GET, &signed, false),
        "only once"
    );
}

#[test]
fn default_allowlist() {
    let p = PolicyConfig::new(&settings("", &[]));
    let api = "https://api.bitbucket.org/2.0/repositories/x";
    assert_eq!(allowed(&p, "GET", api), READ);
    assert_eq!(allowed(&p, "HEAD", api), READ);
    assert_eq!(
        allowed(&p, "GET", "https://API.bitbucket.org:443/2.0/user"),
        READ
    );
    assert_eq!(
        allowed(&p, "GET", "https://api.bitbucket.org./2.0/user"),
        READ
    );
    assert_eq!(allowed(&p, "GET", "https://api.bitbucket.org/2.0"), READ);
    assert_eq!(
        allowed(&p, "POST", "https://bitbucket.org/site/oauth2/access_token"),
        TOKEN
    );
    for (method, url) in [
        ("GET", "http://api.bitbucket.org/2.0/user"),
        ("GET", "https://api.bitbucket.org:8443/2.0/user"),
        ("GET", "https://evil.example/2.0"),
        ("GET", "https://api.bitbucket.org.evil.example/"),
        ("GET", "https://user@api.bitbucket.org/2.0"),
        ("GET", "/relative"),
    ] {
        assert_eq!(allowed(&p, method, url), None, "{method} {url}");
    }
}

#[test]
fn only_reads_below_the_base_path_and_the_exact_token_post() {
    let p = PolicyConfig::new(&settings("", &[]));
    let api = "https://api.bitbucket.org/2.0/repositories/acme/widgets";
    for method in [
        "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
    ] {
        assert_eq!(allowed(&p, method, api), None, "{method}");
    }
    for url in [
        "https://api.bitbucket.org/",
        "https://api.bitbucket.org/1.0/user",
        "https://api.bitbucket.org/2.0evil/user",
        "https://api.bitbucket.org/2.0/../internal",
        "https://api.bitbucket.org/2.0/%2e%2e/internal",
        "https://api.bitbucket.org/2.0/%2E%2e/internal",
        "https://api.bitbucket.org/2.0/x%2F..%2F..%2Finternal",
        "https://api.bitbucket.org/2.0/./x",
    ] {
        assert_eq!(allowed(&p, "GET", url), None, "{url}");
    }
    let token = "https://bitbucket.org/site/oauth2/access_token";
    for (method, url) in [
        ("GET", token),
        ("PUT", token),
        ("POST", "https://bitbucket.org/site/oauth2/access_token/x"),
        ("POST", "https://bitbucket.org/site/oauth2/access_token?x=1"),
        ("POST", "https://bitbucket.org/site/oauth2/authorize"),
        ("POST", "https://bitbucket.org/"),
    ] {
        assert_eq!(allowed(&p, method, url), None, "{method} {url}");
    }
}

#[test]
fn host_credentials_go_only_on_api_gets() {
    let p = PolicyConfig::new(&settings(
        "[credentials]\ninject = \"host\"\ntoken = \"t\"\n",
        &[],
    ));
    let api = "https://api.bitbucket.org/2.0/user";
    assert_eq!(allowed(&p, "GET", api), Some((Rule::ApiRead, true)));
    assert_eq!(allowed(&p, "HEAD", api), READ);
    assert_eq!(
        allowed(&p, "POST", "https://bitbucket.org/site/oauth2/access_token"),
        TOKEN
    );
}

#[test]
fn configured_origins() {
    let p = PolicyConfig::new(&settings(
        "api_base_url = \"http://127.0.0.1:8089/2.0\"\n[credentials]\ntoken_url = \"http://127.0.0.1:8089/oauth/token\"\n",
        &[],
    ));
    assert_eq!(
        allowed(&p, "GET", "http://127.0.0.1:8089/2.0/repositories"),
        READ
    );
    assert_eq!(
        allowed(&p, "POST", "http://127.0.0.1:8089/oauth/token"),
        TOKEN
    );
    assert_eq!(
        allowed(&p, "GET", "http://127.0.0.1:8089/oauth/token"),
        None
    );
    assert_eq!(
        allowed(&p, "POST", "http://127.0.0.1:8089/2.0/repositories"),
        None
    );
    assert_eq!(
        allowed(&p, "GET", "http://127.0.0.1:8090/2.0/repositories"),
        None
    );
    assert_eq!(
        allowed(&p, "GET", "https://api.bitbucket.org/2.0/user"),
        None
    );
    assert_eq!(allowed(&p, "GET", "http://localhost:8089/2.0/user"), None);
    let root = PolicyConfig::new(&settings("api_base_url = \"http://127.0.0.1:8089\"\n", &[]));
    assert_eq!(
        allowed(&root, "GET", "http://127.0.0.1:8089/anything"),
        READ
    );
    assert_eq!(
        allowed(&root, "DELETE", "http://127.0.0.1:8089/anything"),
        None
    );
}

#[test]
fn authorization_forbidden_only_when_injecting() {
    let mut plain = OutboundPolicy::new(Arc::new(PolicyConfig::new(&settings("", &[]))));
    assert!(!plain.is_forbidden_header(&AUTHORIZATION));
    assert!(plain.is_forbidden_header(&http::header::HOST));
    let mut inject = OutboundPolicy::new(Arc::new(PolicyConfig::new(&settings(
        "[credentials]\ninject = \"host\"\ntoken = \"t\"\n",
        &[],
    ))));
    assert!(inject.is_forbidden_header(&AUTHORIZATION));
    assert!((inject.forbidden_header_filter())(&AUTHORIZATION));
    assert!(!(plain.forbidden_header_filter())(&AUTHORIZATION));
}

#[test]
fn printed_urls_carry_no_userinfo_or_query() {
    assert_eq!(
        redact_url("https://u:p@api.example:8443/2.0?token=t#f"),
        "https://…@api.example:8443/2.0?…"
    );
    assert_eq!(
        redact_url("https://api.bitbucket.org/2.0"),
        "https://api.bitbucket.org/2.0"
    );
    assert_eq!(redact_url("u:p@host/x"), "…@host/x");
    assert_eq!(redact_url("ftp://a@b@c/p@q"), "ftp://…@c/p@q");
}

#[test]
fn origin_parsing() {
    let (o, path) = Origin::parse("https://api.bitbucket.org/2.0/").unwrap();
    assert_eq!(o.to_string(), "https://api.bitbucket.org:443");
    assert_eq!(path, "/2.0");
    assert!(Origin::parse("api.bitbucket.org/2.0").is_err());
    assert!(Origin::parse("ftp://x/").is_err());
    assert!(Origin::parse("https://u:p@x/").is_err());
    assert!(Origin::parse("https://x:99999/").is_err());
    assert!(Origin::parse("https://x/2.0?a=b").is_err());
}
