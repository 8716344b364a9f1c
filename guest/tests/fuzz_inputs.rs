//! Property tests (a bounded fuzz run in every `cargo test`): arbitrary arguments and arbitrary
//! Bitbucket answers never panic, and always end in a result or a typed error. Set
//! PROPTEST_CASES to run longer.

use bitbucket_connector::bindings::{ErrorKind, ToolError};
use bitbucket_connector::config::Config;
use bitbucket_connector::cursor::Cursor;
use bitbucket_connector::error::{Endpoint, from_status};
use bitbucket_connector::tools::{self, Ctx};
use bitbucket_connector::transport::{HttpRequest, HttpResponse, Transport, TransportError};
use bitbucket_connector::validate;
use proptest::prelude::*;
use std::cell::RefCell;

/// Answers every request with the same status and body, and counts requests.
struct Answer {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    sent: RefCell<Vec<String>>,
}

impl Transport for Answer {
    fn send_all(&self, requests: &[HttpRequest]) -> Vec<Result<HttpResponse, TransportError>> {
        requests
            .iter()
            .map(|r| {
                self.sent.borrow_mut().push(r.path_and_query.clone());
                Ok(HttpResponse {
                    status: self.status,
                    headers: vec![("content-type".into(), self.content_type.into())],
                    body: self.body.clone(),
                    complete: true,
                })
            })
            .collect()
    }

    fn pause(&self, _millis: u64) {}
}

fn config() -> Config {
    Config::from_vars(|name| match name {
        "BITBUCKET_WORKSPACE" => Some("acme".into()),
        "BITBUCKET_API_BASE_URL" => Some("http://bb.test/2.0".into()),
        "BITBUCKET_TOKEN" => Some("secret-token-value".into()),
        _ => None,
    })
    .unwrap()
}

/// Runs every tool with the given text in every string argument.
fn run_all(ctx: &Ctx, text: &str, number: u32) -> Vec<Option<ErrorKind>> {
    run_all_errors(ctx, text, number)
        .into_iter()
        .map(|e| e.map(|e| e.kind))
        .collect()
}

/// Runs every tool; the errors, in tool order.
fn run_all_errors(ctx: &Ctx, text: &str, number: u32) -> Vec<Option<ToolError>> {
    let s = || Some(text.to_owned());
    let n = Some(number);
    vec![
        tools::list_repositories::run(ctx, s(), n, s()).err(),
        tools::browse_repository::run(ctx, s(), s(), s(), n, s()).err(),
        tools::read_file::run(ctx, s(), text.into(), s(), n, n).err(),
        tools::search_code::run(ctx, text.into(), s(), n, s()).err(),
        tools::list_commits::run(ctx, s(), s(), s(), n, s()).err(),
        tools::get_commit::run(ctx, s(), text.into(), Some(number.is_multiple_of(2)), s()).err(),
        tools::list_pull_requests::run(ctx, s(), Some(vec![text.into()]), n, s()).err(),
        tools::list_pipelines::run(ctx, s(), s(), s(), n, s()).err(),
        tools::list_branches::run(ctx, s(), s(), n, s()).err(),
        tools::get_pull_request::run(ctx, s(), u64::from(number), Some(true), Some(true)).err(),
        tools::get_pipeline::run(ctx, s(), text.into(), n).err(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_arguments_never_panic_and_never_reach_outside(text in ".{0,80}", number in any::<u32>()) {
        let config = config();
        let transport = Answer { status: 200, content_type: "application/json", body: b"{\"values\": []}".to_vec(), sent: RefCell::new(vec![]) };
        let ctx = Ctx::new(&config, &transport);
        let _ = run_all(&ctx, &text, number);
        for path in transport.sent.borrow().iter() {
            // Everything the agent typed was percent-encoded into the workspace's URLs.
            prop_assert!(path.starts_with("/2.0/repositories/acme") || path.starts_with("/2.0/workspaces/acme/"), "{}", path);
            prop_assert!(!path.contains('#') && !path.contains(' ') && !path.contains(".."), "{}", path);
        }
    }

    #[test]
    fn arbitrary_answers_end_in_a_result_or_a_typed_error(
        status in prop_oneof![Just(200u16), Just(401), Just(403), Just(404), Just(429), Just(500), 100u16..600],
        body in proptest::collection::vec(any::<u8>(), 0..300),
        json in any::<bool>(),
    ) {
        let config = config();
        let transport = Answer { status, content_type: if json { "application/json" } else { "text/html" }, body, sent: RefCell::new(vec![]) };
        let ctx = Ctx::new(&config, &transport);
        let errors = run_all_errors(&ctx, "widgets", 10);
        if status >= 300 {
            prop_assert!(errors.iter().all(Option::is_some), "{status}: {errors:?}");
        }
        for error in errors.iter().flatten() {
            prop_assert!(!error.message.contains("secret-token-value"));
        }
    }

    #[test]
    fn arbitrary_json_answers_never_panic(value in arb_json()) {
        let config = config();
        let transport = Answer { status: 200, content_type: "application/json", body: value.to_string().into_bytes(), sent: RefCell::new(vec![]) };
        let ctx = Ctx::new(&config, &transport);
        let _ = run_all(&ctx, "main", 5);
    }

    #[test]
    fn error_mapping_never_leaks_the_body_verbatim_or_panics(status in 100u16..600, body in ".{0,400}") {
        let e = from_status(status, body.as_bytes(), &Endpoint::Search);
        prop_assert!(!e.message.is_empty());
        prop_assert!(!e.message.contains('\n'));
    }

    #[test]
    fn cursors_decode_only_what_was_encoded(text in "[A-Za-z0-9_-]{0,200}") {
        if let Ok(cursor) = Cursor::decode(&text, "list_commits", "acme/widgets") {
            prop_assert_eq!(cursor.tool, "list_commits");
        }
    }

    #[test]
    fn validators_never_panic(text in "\\PC{0,100}", a in any::<u32>(), b in any::<u32>()) {
        let _ = validate::repo_path(&text, "path");
        let _ = validate::branch_name(&text);
        let _ = validate::commit_hash(&text);
        let _ = validate::search_query(&text);
        let _ = validate::line_range(Some(a), Some(b));
        if let Ok(path) = validate::repo_path(&text, "path") {
            prop_assert!(!path.split('/').any(|s| s == ".."));
        }
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-z{}]{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![
            Just("values".to_string()),
            Just("next".to_string()),
            Just("hash".to_string()),
            Just("size".to_string()),
            Just("attributes".to_string()),
            Just("type".to_string()),
            Just("target".to_string()),
            Just("lines".to_string()),
            "[a-z_]{1,8}",
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(key, inner, 0..5)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
