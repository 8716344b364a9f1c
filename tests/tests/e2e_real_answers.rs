//! Answers real Bitbucket gives that the sample alone did not show (issue 13): tags with `/`,
//! opaque `next` links (tokens with `+`, `/`, `=`, a position outside `page`), a diffstat
//! that timed out (555), halted and parsing pipelines, accounts without a display name, and
//! the documented 400 of code search and 410 of the repository list. Each runs the real
//! component in host-demo against the fake.

mod common;

use common::{Host, collect_pages};
use fake_bitbucket::FakeBitbucket;
use fake_bitbucket::faults::Fault;
use fake_bitbucket::model::{PipelineState, Ref};
use fake_bitbucket::sample::WIDGETS;
use serde_json::{Value, json};

fn setup() -> (FakeBitbucket, Host) {
    let fake = FakeBitbucket::start();
    let host = Host::new(&fake);
    (fake, host)
}

/// A tag named `release/1.0` (at `v1.0.0`'s commit): browse_repository and read_file resolve
/// it through `refs/tags/{name}` once no branch has that name, and read what `v1.0.0` reads.
#[test]
fn a_tag_with_a_slash_is_read_like_any_tag() {
    let (fake, host) = setup();
    fake.update_workspace(|ws| {
        let w = ws.repository_mut(WIDGETS).expect("widgets");
        let target = w.tag("v1.0.0").expect("tag v1.0.0").target.clone();
        w.tags.push(Ref {
            name: "release/1.0".into(),
            target,
        });
    });
    for (tool, args) in [
        ("browse_repository", json!({"repo": WIDGETS, "path": "src"})),
        (
            "read_file",
            json!({"repo": WIDGETS, "path": "README.md", "end_line": 5}),
        ),
    ] {
        let mut at_tag = args.clone();
        at_tag["branch"] = json!("v1.0.0");
        let mut at_slash_tag = args.clone();
        at_slash_tag["branch"] = json!("release/1.0");
        let mut expected = host.call(tool, at_tag);
        expected["ref"] = json!("release/1.0");
        assert_eq!(host.call(tool, at_slash_tag), expected, "{tool}");
    }
    let (kind, message) = host.call_err(
        "read_file",
        json!({"repo": WIDGETS, "path": "README.md", "branch": "no/such-ref"}),
    );
    assert_eq!(kind, "not_found");
    assert!(message.contains("branch or tag `no/such-ref`"), "{message}");
}

/// `src/generated/` has 121 entries. Its `next` links carry opaque tokens with `+`, `/` and
/// `=`; paging through it with cursors gives every entry once, also when the position moves
/// to a parameter other than `page`.
#[test]
fn directory_paging_follows_opaque_next_links() {
    let (fake, host) = setup();
    let args = json!({"repo": WIDGETS, "path": "src/generated", "limit": 50});
    let (all, _) = collect_pages(
        &host,
        "browse_repository",
        json!({"repo": WIDGETS, "path": "src/generated", "limit": 100}),
        "entries",
        5,
    );
    assert_eq!(all.len(), 121);
    for param in ["page", "after"] {
        fake.set_position_param(param);
        fake.clear_requests();
        let (entries, calls) =
            collect_pages(&host, "browse_repository", args.clone(), "entries", 5);
        assert_eq!((entries.len(), calls), (121, 3), "position in `{param}`");
        assert_eq!(entries, all, "position in `{param}`");
        let followed: Vec<String> = fake
            .requests()
            .iter()
            .map(|r| r.url.clone())
            .filter(|u| u.contains("/src/") && u.contains(&format!("{param}=")))
            .collect();
        assert_eq!(followed.len(), 2, "{followed:?}");
        assert!(
            followed
                .iter()
                .all(|u| u.contains("%2B") && u.contains("%2F") && u.contains("%3D")),
            "tokens are sent percent-encoded: {followed:?}"
        );
    }
}

/// A diffstat that timed out (555, documented for large commits) is not retried, and the
/// error says the diff is too large rather than "try again".
#[test]
fn a_diffstat_timeout_is_reported_once_with_guidance() {
    let (fake, host) = setup();
    let ws = fake.workspace();
    let commit = ws
        .repository(WIDGETS)
        .unwrap()
        .main_head()
        .unwrap()
        .hash
        .clone();
    fake.fail_always(
        "/diffstat/",
        Fault::Custom {
            status: 555,
            content_type: "application/json; charset=utf-8".into(),
            body:
                r#"{"type": "error", "error": {"message": "Timeout while computing the diffstat"}}"#
                    .into(),
        },
    );
    fake.clear_requests();
    let (kind, message) = host.call_err("get_commit", json!({"repo": WIDGETS, "commit": commit}));
    assert_eq!(kind, "upstream");
    assert!(
        message.contains("too large") && message.contains("did not retry"),
        "{message}"
    );
    let diffstats = fake
        .requests()
        .iter()
        .filter(|r| r.url.contains("/diffstat/"))
        .count();
    assert_eq!(diffstats, 1);
}

/// Halted and parsing runs keep their state (a halted run is `IN_PROGRESS` with the stage
/// `HALTED`), and both can be filtered for.
#[test]
fn halted_and_parsing_pipelines_are_reported_as_such() {
    let (fake, host) = setup();
    fake.update_workspace(|ws| {
        let w = ws.repository_mut(WIDGETS).expect("widgets");
        let newest = w.pipelines.iter().map(|p| p.build_number).max().unwrap();
        for p in w.pipelines.iter_mut() {
            if p.build_number == newest {
                p.state = PipelineState::Halted;
            } else if p.build_number == newest - 1 {
                p.state = PipelineState::Parsing;
            }
        }
    });
    let runs = host.call("list_pipelines", json!({"repo": WIDGETS, "limit": 2}));
    let states: Vec<&str> = runs["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["HALTED", "PARSING"]);
    for status in ["HALTED", "PARSING"] {
        let only = host.call("list_pipelines", json!({"repo": WIDGETS, "status": status}));
        let got: Vec<&Value> = only["pipelines"].as_array().unwrap().iter().collect();
        assert_eq!(got.len(), 1, "{status}: {only}");
        assert_eq!(got[0]["state"], status);
    }
}

/// An account whose display name is empty shows its nickname (which `fields` now asks for).
#[test]
fn an_account_without_a_display_name_shows_its_nickname() {
    let (fake, host) = setup();
    let before = host.call("list_pull_requests", json!({"repo": WIDGETS, "limit": 100}));
    let ws = fake.workspace();
    let first_author = before["pull_requests"][0]["author"]
        .as_str()
        .unwrap()
        .to_owned();
    let index = ws
        .users
        .iter()
        .position(|u| u.display_name == first_author)
        .expect("the author is a sample user");
    let nickname = ws.users[index].nickname.clone();
    fake.update_workspace(|ws| ws.users[index].display_name = String::new());
    let after = host.call("list_pull_requests", json!({"repo": WIDGETS, "limit": 100}));
    for (b, a) in before["pull_requests"]
        .as_array()
        .unwrap()
        .iter()
        .zip(after["pull_requests"].as_array().unwrap())
    {
        let expected = if b["author"] == first_author.as_str() {
            nickname.as_str()
        } else {
            b["author"].as_str().unwrap()
        };
        assert_eq!(a["author"], expected);
    }
}

/// The documented 400 of a malformed search query and the 410 of a repository list (account
/// marked as spam) are `invalid_input` with a message saying what to change.
#[test]
fn documented_client_errors_are_invalid_input() {
    let (fake, host) = setup();
    let (kind, message) = host.call_err("search_code", json!({"query": "repo:widgets"}));
    assert_eq!(kind, "invalid_input", "{message}");
    assert!(message.contains("search query"), "{message}");
    fake.fail_always(
        "/2.0/repositories/acme?",
        Fault::Custom {
            status: 410,
            content_type: "application/json; charset=utf-8".into(),
            body:
                r#"{"type": "error", "error": {"message": "This account has been marked as spam"}}"#
                    .into(),
        },
    );
    let (kind, message) = host.call_err("list_repositories", json!({}));
    assert_eq!(kind, "invalid_input", "{message}");
    assert!(message.contains("BITBUCKET_WORKSPACE"), "{message}");
}
