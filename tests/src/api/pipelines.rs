//! `GET …/pipelines` (the Pipelines service: plain query filters, oldest first by default).

use super::Ctx;
use crate::http::Reply;
use crate::model::{Pipeline, Repository};
use crate::paging::{self, Limits};
use crate::time::parse_datetime;
use serde_json::json;
use std::cmp::Ordering;

/// The pipeline list's paging limits (1..=100).
pub const LIMITS: Limits = Limits {
    default: 10,
    max: 100,
    min: 1,
};

/// Accepted `status` filter values (REFERENCE §15).
pub const STATUS_VALUES: &[&str] = &[
    "PARSING", "PENDING", "PAUSED", "HALTED", "BUILDING", "ERROR", "PASSED", "FAILED", "STOPPED",
    "UNKNOWN",
];

fn bad_request(detail: &str, key: &str) -> Reply {
    Reply::json(
        400,
        &json!({"type": "error", "error": {"message": "Bad request", "detail": detail, "data": {"key": key}}}),
    )
}

/// The 404 when Pipelines is not enabled for the repository (inferred shape: the
/// Pipelines service's error with `data.key`).
pub fn not_enabled() -> Reply {
    Reply::json(
        404,
        &json!({"type": "error", "error": {"message": "Not found", "detail": "Pipelines is not enabled for this repository.", "data": {"key": "result-service.repository.pipelines-disabled"}}}),
    )
}

/// Lists pipeline runs. Filters: `target.branch`, `target.ref_name`, `target.ref_type`,
/// `target.commit.hash`, `status` (repeatable), `trigger_type`, `creator.uuid`; `sort` on
/// `created_on`/`run_creation_date`/`build_number`/`creator.uuid` (`-` descending).
pub fn list(ctx: &Ctx, repo: &Repository) -> Reply {
    if !repo.pipelines_enabled || ctx.pipelines_disabled.contains(&repo.slug) {
        return not_enabled();
    }
    if let Err(r) = paging::pagelen(ctx.req, LIMITS) {
        return r;
    }
    let q = &ctx.req.query;
    let statuses: Vec<String> = q
        .get_all("status")
        .iter()
        .map(|s| s.to_ascii_uppercase())
        .collect();
    if let Some(bad) = statuses
        .iter()
        .find(|s| !STATUS_VALUES.contains(&s.as_str()))
    {
        return bad_request(
            &format!("Invalid status filter value: {bad}"),
            "result-service.pipeline.invalid-status",
        );
    }
    let triggers: Vec<String> = q
        .get_all("trigger_type")
        .iter()
        .map(|s| s.to_ascii_uppercase())
        .collect();
    let keep = |p: &&Pipeline| -> bool {
        let eq =
            |key: &str, actual: Option<&str>| q.get(key).is_none_or(|want| actual == Some(want));
        eq(
            "target.branch",
            if p.ref_type.as_deref() == Some("branch") {
                p.ref_name.as_deref()
            } else {
                None
            },
        ) && eq("target.ref_name", p.ref_name.as_deref())
            && q.get("target.ref_type").is_none_or(|t| {
                p.ref_type
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(t))
            })
            && eq("target.commit.hash", Some(&p.commit))
            && q.get("creator.uuid")
                .is_none_or(|u| p.creator.map(|c| ctx.ws.users[c].uuid.as_str()) == Some(u))
            && (statuses.is_empty() || statuses.iter().any(|s| s == p.state.status_filter_name()))
            && (triggers.is_empty() || triggers.iter().any(|t| t == p.trigger.filter_name()))
    };
    let mut runs: Vec<&Pipeline> = repo.pipelines.iter().filter(keep).collect();
    if let Some(created) = q.get("created_on").and_then(parse_datetime) {
        runs.retain(|p| p.created_on / 1_000_000 == created / 1_000_000);
    }
    let sort = q.get("sort").unwrap_or("created_on");
    let (desc, field) = match sort.strip_prefix('-') {
        Some(f) => (true, f),
        None => (false, sort),
    };
    let cmp = |a: &&Pipeline, b: &&Pipeline| -> Ordering {
        match field {
            "creator.uuid" => {
                let u = |p: &Pipeline| p.creator.map(|c| ctx.ws.users[c].uuid.clone());
                u(a).cmp(&u(b))
            }
            "build_number" => a.build_number.cmp(&b.build_number),
            _ => a.created_on.cmp(&b.created_on),
        }
    };
    runs.sort_by(|a, b| if desc { cmp(b, a) } else { cmp(a, b) });
    let items = runs
        .iter()
        .map(|p| ctx.links.pipeline(ctx.ws, repo, p))
        .collect();
    ctx.list(items, LIMITS, &[], false)
}
