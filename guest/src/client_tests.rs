//! Tests of `client.rs`: the Bitbucket client: retries, redirects, error mapping and concurrent batches.

use crate::bindings::ErrorKind;
use crate::tools::testing::{Scripted, config_with};
use crate::tools::{Ctx, list_pipelines};

fn run(t: &Scripted, base_ms: &str) -> Result<(), ErrorKind> {
    let c = config_with(&[("BITBUCKET_RETRY_BASE_MS", base_ms)]);
    list_pipelines::run(
        &Ctx::new(&c, t),
        Some("widgets".into()),
        None,
        None,
        None,
        None,
    )
    .map(|_| ())
    .map_err(|e| e.kind)
}

#[test]
fn rate_limits_back_off_exponentially_with_jitter_within_a_bound() {
    let t = Scripted::default().route(
        "/repositories/acme/widgets/pipelines",
        429,
        "Rate limit for this resource has been exceeded",
    );
    assert_eq!(run(&t, "1000"), Err(ErrorKind::RateLimited));
    let pauses = t.pauses.borrow().clone();
    assert!(t.sent().len() >= 3 && t.sent().len() <= 4, "{:?}", t.sent());
    assert_eq!(pauses.len(), t.sent().len() - 1);
    for (i, pause) in pauses.iter().enumerate() {
        let nominal = 1000u64 << i;
        assert!(
            (nominal / 2..nominal * 3 / 2).contains(pause),
            "pause {i}: {pause}"
        );
    }
    assert!(pauses.iter().sum::<u64>() <= 10_000);
}

#[test]
fn server_errors_are_retried_twice_then_reported() {
    let t = Scripted::default().route("/repositories/acme/widgets/pipelines", 503, "<html>");
    assert_eq!(run(&t, "10"), Err(ErrorKind::Upstream));
    assert_eq!(t.sent().len(), 3);
    assert!(t.pauses.borrow().iter().all(|&p| p < 30));
}

#[test]
fn a_diff_timeout_is_not_retried() {
    let t = Scripted::default().route(
        "/repositories/acme/widgets/pipelines",
        555,
        r#"{"type": "error", "error": {"message": "Timeout"}}"#,
    );
    assert_eq!(run(&t, "10"), Err(ErrorKind::Upstream));
    assert_eq!(t.sent().len(), 1);
    assert!(t.pauses.borrow().is_empty());
}

#[test]
fn client_errors_are_not_retried() {
    let t = Scripted::default().route(
        "/repositories/acme/widgets/pipelines",
        403,
        r#"{"type": "error", "error": {"message": "Forbidden"}}"#,
    );
    assert_eq!(run(&t, "10"), Err(ErrorKind::Forbidden));
    assert_eq!(t.sent().len(), 1);
    assert!(t.pauses.borrow().is_empty());
}
