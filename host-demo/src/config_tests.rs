//! Tests of `config.rs`: the configuration: sources, precedence, blank settings and validation.

use super::*;
use std::collections::HashMap;

fn build(file: Option<&str>, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::build(Some("test.toml"), file, |k| env.get(k).cloned())
}

fn env_of(s: &Settings) -> HashMap<&str, &str> {
    s.component_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

const FILE: &str = r#"
workspace = "acme"
api_base_url = "http://127.0.0.1:8089/2.0"
timeout_seconds = 12
default_branch = "develop"

[credentials]
token = "file-token"
username = "bob"
password = "file-pass"
client_id = "cid"
client_secret = "csecret"
refresh_token = "rtok"
token_url = "http://127.0.0.1:8090/token"

[scope]
repository = "acme/widgets"
repository_regex = "^w"
branch_regex = "^(main|develop)$"
"#;

#[test]
fn file_keys_map_to_env_names() {
    let s = build(Some(FILE), &[]).unwrap();
    let env = env_of(&s);
    assert_eq!(env["BITBUCKET_WORKSPACE"], "acme");
    assert_eq!(env["BITBUCKET_API_BASE_URL"], "http://127.0.0.1:8089/2.0");
    assert_eq!(env["BITBUCKET_TOKEN"], "file-token");
    assert_eq!(env["BITBUCKET_USERNAME"], "bob");
    assert_eq!(env["BITBUCKET_APP_PASSWORD"], "file-pass");
    assert_eq!(env["BITBUCKET_OAUTH_CLIENT_ID"], "cid");
    assert_eq!(env["BITBUCKET_OAUTH_CLIENT_SECRET"], "csecret");
    assert_eq!(env["BITBUCKET_OAUTH_REFRESH_TOKEN"], "rtok");
    assert_eq!(
        env["BITBUCKET_OAUTH_TOKEN_URL"],
        "http://127.0.0.1:8090/token"
    );
    assert_eq!(env["BITBUCKET_TIMEOUT_SECONDS"], "12");
    assert_eq!(env["BITBUCKET_DEFAULT_BRANCH"], "develop");
    assert_eq!(env["BITBUCKET_REPOSITORY"], "acme/widgets");
    assert_eq!(env["BITBUCKET_REPOSITORY_REGEX"], "^w");
    assert_eq!(env["BITBUCKET_BRANCH_REGEX"], "^(main|develop)$");
    assert_eq!(env.len(), 14);
    assert_eq!(s.timeout_seconds, 12);
    assert_eq!(s.api_base.to_string(), "http://127.0.0.1:8089");
    assert_eq!(s.token_url.to_string(), "http://127.0.0.1:8090");
    assert!(s.host_credentials.is_none());
}

#[test]
fn environment_overrides_file_and_nothing_else_passes() {
    let s = build(
        Some(FILE),
        &[
            ("BITBUCKET_WORKSPACE", "other"),
            ("BITBUCKET_API_TOKEN", "env-api-token"),
            ("HOME", "/root"),
            ("PATH", "/bin"),
            ("BITBUCKET_UNKNOWN", "x"),
        ],
    )
    .unwrap();
    let env = env_of(&s);
    assert_eq!(env["BITBUCKET_WORKSPACE"], "other");
    assert_eq!(env["BITBUCKET_API_TOKEN"], "env-api-token");
    assert!(!env.contains_key("BITBUCKET_APP_PASSWORD"));
    assert_eq!(env["BITBUCKET_DEFAULT_BRANCH"], "develop");
    assert!(!env.contains_key("HOME") && !env.contains_key("PATH"));
    assert!(!env.contains_key("BITBUCKET_UNKNOWN"));
}

#[test]
fn defaults_without_file() {
    let s = build(None, &[("BITBUCKET_WORKSPACE", "w")]).unwrap();
    assert_eq!(
        s.component_env,
        [("BITBUCKET_WORKSPACE".into(), "w".into())]
    );
    assert_eq!(s.api_base.to_string(), "https://api.bitbucket.org:443");
    assert_eq!(s.token_url.to_string(), "https://bitbucket.org:443");
    assert_eq!(s.timeout_seconds, DEFAULT_TIMEOUT_SECONDS);
}

#[test]
fn unknown_keys_are_named() {
    let e = build(Some("workspace = \"a\"\nwork_space = \"b\"\n"), &[]).unwrap_err();
    assert!(e.0.contains("work_space"), "{e}");
    let e = build(Some("[credentials]\ntokn = \"secret-value\"\n"), &[]).unwrap_err();
    assert!(e.0.contains("tokn"), "{e}");
    assert!(!e.0.contains("secret-value"), "{e}");
    let e = build(Some("[scope]\nbranch = \"x\"\n"), &[]).unwrap_err();
    assert!(e.0.contains("branch"), "{e}");
}

#[test]
fn bad_values_are_rejected_without_secrets() {
    let e = build(None, &[("BITBUCKET_TIMEOUT_SECONDS", "soon")]).unwrap_err();
    assert!(e.0.contains("BITBUCKET_TIMEOUT_SECONDS"), "{e}");
    let e = build(None, &[("BITBUCKET_API_BASE_URL", "ftp://x")]).unwrap_err();
    assert!(e.0.contains("BITBUCKET_API_BASE_URL"), "{e}");
    let e = build(Some("[credentials]\ntoken = 57319\n"), &[]).unwrap_err();
    assert!(e.0.contains("token") && !e.0.contains("57319"), "{e}");
    let e = build(Some("[credentials]\npassword = [\"hunter2\"]\n"), &[]).unwrap_err();
    assert!(e.0.contains("password") && !e.0.contains("hunter2"), "{e}");
    let e = build(Some("timeout_seconds = \"10\"\n"), &[]).unwrap_err();
    assert!(e.0.contains("timeout_seconds"), "{e}");
}

#[test]
fn host_side_credentials() {
    let s = build(Some(FILE), &[("BITBUCKET_CREDENTIALS_FROM_HOST", "1")]).unwrap();
    let env = env_of(&s);
    for held in HOST_HELD_VARS {
        assert!(!env.contains_key(held), "{held} must stay in the host");
    }
    assert_eq!(env["BITBUCKET_CREDENTIALS_FROM_HOST"], "1");
    assert_eq!(env["BITBUCKET_WORKSPACE"], "acme");
    let creds = s.host_credentials.as_ref().unwrap();
    assert_eq!(creds.header_value(), "Bearer file-token");
    assert!(!format!("{creds:?} {s:?}").contains("file-token"));

    let basic = build(
        Some("[credentials]\ninject = \"host\"\nusername = \"u\"\npassword = \"p\"\n"),
        &[],
    )
    .unwrap();
    assert_eq!(
        basic.host_credentials.unwrap().header_value(),
        format!("Basic {}", base64(b"u:p"))
    );
    let e = build(Some("[credentials]\ninject = \"host\"\n"), &[]).unwrap_err();
    assert!(e.0.contains("host-side credentials"), "{e}");
    let e = build(Some("[credentials]\ninject = \"hots\"\n"), &[]).unwrap_err();
    assert!(e.0.contains("credentials.inject"), "{e}");
}

#[test]
fn blank_values_are_refused_never_unset() {
    for name in COMPONENT_VARS.iter().chain([&CREDENTIALS_FROM_HOST]) {
        for blank in ["", " ", "\t"] {
            let e = build(Some(FILE), &[(name, blank)]).unwrap_err();
            assert!(e.0.contains(name) && e.0.contains("blank"), "{e}");
        }
    }
    let e = build(Some("[scope]\nrepository = \"  \"\n"), &[]).unwrap_err();
    assert!(e.0.contains("scope.repository"), "{e}");
    let e = build(Some("[credentials]\ntoken = \"\"\n"), &[]).unwrap_err();
    assert!(e.0.contains("credentials.token"), "{e}");
    // Real values are trimmed before the component sees them.
    let s = build(None, &[("BITBUCKET_WORKSPACE", " acme\n")]).unwrap();
    assert_eq!(env_of(&s)["BITBUCKET_WORKSPACE"], "acme");
}

#[test]
fn url_errors_show_no_userinfo_or_query() {
    for var in ["BITBUCKET_API_BASE_URL", "BITBUCKET_OAUTH_TOKEN_URL"] {
        for url in [
            "https://user:hunter2@api.example/2.0",
            "ftp://hunter2@x/",
            "https://api.example:99999/2.0?sig=hunter2",
            "htp:/hunter2@api.example?x=hunter2",
        ] {
            let e = build(None, &[(var, url)]).unwrap_err();
            assert!(e.0.contains(var), "{e}");
            assert!(!e.0.contains("hunter2"), "{e}");
        }
    }
}

#[test]
fn debug_redacts_secrets() {
    let s = build(Some(FILE), &[]).unwrap();
    let text = format!("{s:?}");
    for secret in ["file-token", "file-pass", "csecret", "rtok"] {
        assert!(!text.contains(secret), "{text}");
    }
    assert!(text.contains("acme"));
}

#[test]
fn base64_matches_rfc4648() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64(b"user@x.com:tok"), "dXNlckB4LmNvbTp0b2s=");
}
