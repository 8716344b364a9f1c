//! Branch and repository scope at its edges: a hidden hash answers like a missing one; a tag
//! named like an allowed branch, or a branch lookup answered with another name, opens no
//! hidden commit; search modifiers are checked wherever they stand; slugs are matched in
//! lower case.

mod common;

use common::{Host, Transcript, decoded_url};
use fake_bitbucket::model::Ref;
use fake_bitbucket::sample::*;
use fake_bitbucket::{FakeBitbucket, Fault};
use serde_json::{Value, json};

fn setup(env: &[(&str, &str)]) -> (FakeBitbucket, Transcript, Host) {
    let fake = FakeBitbucket::start();
    let transcript = Transcript::new();
    let mut host = Host::new(&fake).record(&transcript);
    for (k, v) in env {
        host = host.env(k, v);
    }
    (fake, transcript, host)
}

fn head_of(fake: &FakeBitbucket, branch: &str) -> String {
    let ws = fake.workspace();
    let w = ws.repository(WIDGETS).unwrap();
    w.branch(branch).unwrap().target.clone()
}

/// The calls that read at a commit named by `hash`.
fn calls_at(hash: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("get_commit", json!({"repo": WIDGETS, "commit": hash})),
        (
            "read_file",
            json!({"repo": WIDGETS, "path": "README.md", "branch": hash}),
        ),
        (
            "browse_repository",
            json!({"repo": WIDGETS, "branch": hash}),
        ),
        ("list_commits", json!({"repo": WIDGETS, "branch": hash})),
    ]
}

/// No request read at `hash` (`/commit/`, `/diffstat/`, `/src/`, or as a `/commits` start).
fn assert_nothing_read_at(fake: &FakeBitbucket, hash: &str, what: &str) {
    for r in fake.requests() {
        let path = r.path();
        assert!(
            !(path.contains(hash)
                || r.query_values("include").iter().any(|v| v == hash)
                    && r.query_values("exclude").is_empty()),
            "{what}: read at the hidden commit: {}",
            r.url
        );
    }
}

#[test]
fn a_hidden_hash_and_a_missing_hash_answer_alike() {
    let (fake, transcript, host) = setup(&[("BITBUCKET_BRANCH_REGEX", "main")]);
    let hidden = head_of(&fake, "develop");
    let missing = "0123456789abcdef0123456789abcdef01234567";
    assert!(
        fake.workspace()
            .repository(WIDGETS)
            .unwrap()
            .resolve(missing)
            .is_none()
    );
    for given in [hidden.as_str(), &hidden[..12]] {
        let short_missing = &missing[..given.len()];
        for ((tool, hidden_args), (_, missing_args)) in
            calls_at(given).into_iter().zip(calls_at(short_missing))
        {
            let (kind_h, message_h) = host.call_err(tool, hidden_args);
            let (kind_m, message_m) = host.call_err(tool, missing_args);
            assert_eq!(kind_h, "out_of_scope", "{tool}: {message_h}");
            assert_eq!(
                (kind_h, message_h.replace(given, "HASH")),
                (kind_m, message_m.replace(short_missing, "HASH")),
                "{tool}: the answers tell a hidden commit from a missing one"
            );
        }
    }
    transcript.assert_free_of(&["test-token-valid".to_string()]);
}

#[test]
fn a_tag_named_like_an_allowed_branch_opens_no_hidden_commit() {
    let (fake, transcript, host) = setup(&[("BITBUCKET_BRANCH_REGEX", "main")]);
    let hidden = head_of(&fake, "develop");
    // A tag `main` on develop's head: git resolves `main` to the tag first, so excluding
    // "main" by name would exclude develop's commits.
    fake.update_workspace(|ws| {
        let w = ws.repository_mut(WIDGETS).unwrap();
        w.tags.push(Ref {
            name: "main".into(),
            target: hidden.clone(),
        });
    });
    for (tool, args) in calls_at(&hidden) {
        fake.clear_requests();
        let what = format!("{tool} {args}");
        let (kind, message) = host.call_err(tool, args);
        assert_eq!(kind, "out_of_scope", "{what}: {message}");
        assert_nothing_read_at(&fake, &hidden, &what);
    }
    // The allowed branch itself still reads at its real head.
    let main = head_of(&fake, "main");
    let page = host.call("list_commits", json!({"repo": WIDGETS, "limit": 1}));
    assert_eq!(page["commits"][0]["hash"], main.as_str());
    transcript.assert_free_of(&["test-token-valid".to_string()]);
}

#[test]
fn a_branch_lookup_answered_with_another_name_is_refused() {
    let (fake, transcript, host) = setup(&[("BITBUCKET_BRANCH_REGEX", "main")]);
    let hidden = head_of(&fake, "develop");
    fake.fail_always(
        "/refs/branches/main",
        Fault::Custom {
            status: 200,
            content_type: "application/json".into(),
            body: json!({"type": "branch", "name": "develop", "target": {"type": "commit", "hash": hidden}})
                .to_string(),
        },
    );
    for (tool, args) in [
        (
            "read_file",
            json!({"repo": WIDGETS, "path": "README.md", "branch": "main"}),
        ),
        (
            "browse_repository",
            json!({"repo": WIDGETS, "branch": "main"}),
        ),
        ("list_commits", json!({"repo": WIDGETS, "branch": "main"})),
    ] {
        fake.clear_requests();
        let what = format!("{tool} {args}");
        let (kind, message) = host.call_err(tool, args);
        assert_eq!(kind, "upstream", "{what}: {message}");
        assert_nothing_read_at(&fake, &hidden, &what);
    }
    transcript.assert_free_of(&["test-token-valid".to_string()]);
}

#[test]
fn search_modifiers_are_checked_wherever_they_stand() {
    let (fake, transcript, host) = setup(&[("BITBUCKET_REPOSITORY_REGEX", "[^s].*")]);
    for query in [
        format!("(repo:{SECRET_INFRA} OR {SEARCH_WORD})"),
        format!("{SEARCH_WORD} OR(repo:{SECRET_INFRA})"),
        format!("{SEARCH_WORD} AND NOT(REPO:{SECRET_INFRA})"),
        format!("{SEARCH_WORD} -repo:\"acme/{SECRET_INFRA}\""),
        format!("{SEARCH_WORD} repo:Secret-Infra"),
        format!("({SEARCH_WORD}) repo:globex/widgets"),
    ] {
        fake.clear_requests();
        let (kind, message) = host.call_err("search_code", json!({"query": query}));
        assert_eq!(kind, "out_of_scope", "{query}: {message}");
        assert!(
            fake.requests().is_empty(),
            "{query}: sent {:?}",
            fake.requests()
                .iter()
                .map(|r| r.url.clone())
                .collect::<Vec<_>>()
        );
    }
    // An unbalanced quote would leave where the phrase ends to Bitbucket: refused.
    let (kind, _) = host.call_err(
        "search_code",
        json!({"query": format!("\"{SEARCH_WORD} repo:{SECRET_INFRA}")}),
    );
    assert_eq!(kind, "invalid_input");
    // Allowed repositories still work, in parentheses too.
    host.call(
        "search_code",
        json!({"query": format!("(repo:{WIDGETS} OR repo:{LEGACY_APP}) {SEARCH_WORD}")}),
    );
    transcript.assert_free_of(&["test-token-valid".to_string()]);
}

#[test]
fn repository_slugs_are_matched_in_lower_case() {
    let (fake, transcript, host) = setup(&[("BITBUCKET_REPOSITORY_REGEX", "[^s].*")]);
    for given in ["Secret-Infra", "SECRET-INFRA", "acme/Secret-infra"] {
        for (tool, args) in [
            ("list_commits", json!({"repo": given})),
            ("read_file", json!({"repo": given, "path": "README.md"})),
            ("get_commit", json!({"repo": given, "commit": "abcdef1"})),
        ] {
            fake.clear_requests();
            let (kind, message) = host.call_err(tool, args.clone());
            assert_eq!(kind, "out_of_scope", "{tool} {args}: {message}");
            for r in fake.requests() {
                assert!(
                    !decoded_url(&r).to_ascii_lowercase().contains(SECRET_INFRA),
                    "{tool} {args}: sent {}",
                    r.url
                );
            }
        }
    }
    transcript.assert_free_of(&["test-token-valid".to_string()]);
}
