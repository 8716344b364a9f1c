//! Configuration slips fail closed: a setting that is present but blank (empty or only
//! whitespace) is a configuration error in the host and in the component alike, never "not
//! set", so a mis-templated `BITBUCKET_REPOSITORY=" "` cannot lift the file's restriction;
//! and no URL the host prints carries user information or a query.

mod common;

use bitbucket_connector::bindings::ErrorKind;
use bitbucket_connector::config::{Config, VARIABLES};
use common::{Host, Transcript};
use fake_bitbucket::FakeBitbucket;
use fake_bitbucket::sample::*;
use host_demo::config::Settings;
use serde_json::json;

const SCOPE_FILE: &str =
    "[scope]\nrepository = \"acme/widgets\"\nrepository_regex = \"w.*\"\nbranch_regex = \"main\"\n";

fn write_config(name: &str, text: &str) -> std::path::PathBuf {
    let dir = common::target_dir().join("tmp");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("slips-{name}-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_blank_scope_variable_does_not_lift_the_files_restriction() {
    let fake = FakeBitbucket::start();
    let transcript = Transcript::new();
    let config = write_config("scope", SCOPE_FILE);
    let config = config.to_str().unwrap();
    let host = Host::new(&fake).record(&transcript);
    // The file alone restricts to widgets.
    let page = host.run(&["--config", config, "call", "list_repositories"]);
    assert_eq!(page.code, 0, "{page:?}");
    assert_eq!(page.json()["repositories"].as_array().unwrap().len(), 1);
    fake.clear_requests();
    for var in [
        "BITBUCKET_REPOSITORY",
        "BITBUCKET_REPOSITORY_REGEX",
        "BITBUCKET_BRANCH_REGEX",
    ] {
        for blank in [" ", "", "\t"] {
            let out = Host::new(&fake).record(&transcript).env(var, blank).run(&[
                "--config",
                config,
                "call",
                "list_repositories",
            ]);
            assert_eq!(
                out.code, 2,
                "{var}={blank:?} must not widen the scope: {out:?}"
            );
            assert!(
                out.stderr.contains(var) && out.stderr.contains("blank"),
                "{out:?}"
            );
        }
    }
    assert!(fake.requests().is_empty(), "nothing is sent");
    transcript.assert_free_of(&["test-token-valid".to_string()]);
}

#[test]
fn every_blank_scope_and_credential_setting_is_a_config_error() {
    let fake = FakeBitbucket::start();
    let transcript = Transcript::new();
    for var in VARIABLES {
        let out = Host::new(&fake)
            .record(&transcript)
            .env(var, "  ")
            .call_raw("list_commits", &json!({"repo": WIDGETS}));
        assert_eq!(out.code, 2, "{var}: {out:?}");
        assert!(out.stderr.contains(var), "{var}: {out:?}");
    }
    // The same in the config file, named by its key.
    for (key, file) in [
        ("scope.repository", "[scope]\nrepository = \" \"\n"),
        (
            "scope.repository_regex",
            "[scope]\nrepository_regex = \"\"\n",
        ),
        ("scope.branch_regex", "[scope]\nbranch_regex = \"\\t\"\n"),
        ("credentials.token", "[credentials]\ntoken = \" \"\n"),
        ("credentials.password", "[credentials]\npassword = \"\"\n"),
        (
            "credentials.client_secret",
            "[credentials]\nclient_secret = \" \"\n",
        ),
    ] {
        let config = write_config("file", file);
        let out = Host::new(&fake)
            .record(&transcript)
            .without("BITBUCKET_API_BASE_URL")
            .run(&[
                "--config",
                config.to_str().unwrap(),
                "call",
                "list_repositories",
            ]);
        assert_eq!(out.code, 2, "{key}: {out:?}");
        assert!(out.stderr.contains(key), "{key}: {out:?}");
    }
    assert!(fake.requests().is_empty());
    transcript.assert_free_of(&["test-token-valid".to_string()]);
}

/// The host and the component read every setting by one rule: for each variable and each
/// blank form, both refuse; for a padded value, both keep the trimmed value.
#[test]
fn host_and_component_read_values_alike() {
    let base = [("BITBUCKET_WORKSPACE", "acme"), ("BITBUCKET_TOKEN", "t")];
    for var in VARIABLES {
        for blank in ["", " ", "\t\n"] {
            let mut env: Vec<(&str, &str)> =
                base.iter().copied().filter(|(k, _)| k != var).collect();
            env.push((var, blank));
            let lookup = |k: &str| {
                env.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            };
            let host = Settings::build(None, None, lookup);
            let component = Config::from_vars(lookup);
            assert!(host.is_err(), "host accepts {var}={blank:?}");
            let e = component.expect_err(&format!("component accepts {var}={blank:?}"));
            assert_eq!(e.kind, ErrorKind::Config);
        }
    }
    // A padded repository: the host passes it trimmed, the component reads it trimmed.
    let env = [
        ("BITBUCKET_WORKSPACE", "acme"),
        ("BITBUCKET_TOKEN", "t"),
        ("BITBUCKET_REPOSITORY", " acme/widgets "),
    ];
    let lookup = |k: &str| {
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    };
    let host = Settings::build(None, None, lookup).unwrap();
    let passed: Vec<(String, String)> = host.component_env.clone();
    let seen =
        Config::from_vars(|k| passed.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())).unwrap();
    let direct = Config::from_vars(lookup).unwrap();
    assert_eq!(seen.scope.repository, direct.scope.repository);
    assert_eq!(seen.scope.repository.unwrap().slug, "widgets");
}

#[test]
fn url_settings_are_printed_without_userinfo_or_query() {
    let fake = FakeBitbucket::start();
    let transcript = Transcript::new();
    for var in ["BITBUCKET_API_BASE_URL", "BITBUCKET_OAUTH_TOKEN_URL"] {
        for url in [
            "https://bob:hunter2-secret@api.example/2.0",
            "ftp://hunter2-secret@api.example/2.0",
            "https://api.example:99999/2.0?access_token=hunter2-secret",
        ] {
            let out = Host::new(&fake)
                .record(&transcript)
                .env(var, url)
                .call_raw("list_repositories", &json!({}));
            assert_eq!(out.code, 2, "{var}={url}: {out:?}");
            assert!(out.stderr.contains(var), "{out:?}");
        }
    }
    let config = write_config(
        "url",
        "api_base_url = \"https://bob:hunter2-secret@api.example/2.0?sig=hunter2-secret\"\n",
    );
    let out = Host::new(&fake)
        .record(&transcript)
        .without("BITBUCKET_API_BASE_URL")
        .run(&[
            "--config",
            config.to_str().unwrap(),
            "call",
            "list_repositories",
        ]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("api_base_url"), "{out:?}");
    transcript.assert_free_of(&["hunter2-secret".to_string(), "bob:".to_string()]);
}
