//! `GET …/pipelines` (the Pipelines service: plain query filters, oldest first by default).

use super::Ctx;
use crate::http::Reply;
use crate::model::{Pipeline, Repository, Step, StepState};
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

/// The 404 when Pipelines is not enabled for the repository. INFERRED (REFERENCE §15, §17.4):
/// whether the list answers 404 or 200 with no values is not established; this is the
/// Pipelines service's error shape with `data.key`. The client maps a 404 to
/// `pipelines_unavailable` and treats an empty 200 as an empty list, so both readings work.
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
    // INFERRED (REFERENCE §9, §15): `target.branch` matching branch runs by their full name
    // (slashes included) is not verified, nor is the status mapping below (PASSED for
    // SUCCESSFUL, BUILDING for IN_PROGRESS); the client checks every answer again itself.
    // Also INFERRED: `target.branch` matches a pull-request run by its source branch.
    let source_of = |p: &Pipeline| {
        p.pull_request
            .and_then(|id| repo.pull_requests.iter().find(|pr| pr.id == id))
            .map(|pr| pr.source_branch.as_str())
    };
    let keep = |p: &&Pipeline| -> bool {
        let eq =
            |key: &str, actual: Option<&str>| q.get(key).is_none_or(|want| actual == Some(want));
        eq(
            "target.branch",
            if p.ref_type.as_deref() == Some("branch") {
                p.ref_name.as_deref()
            } else {
                source_of(p)
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

/// The run that the `{pipeline_uuid}` path slot names: a braced UUID (`%7B…%7D` decoded) or
/// a build number (REFERENCE-REVIEW §6a). An unbraced UUID and an unknown number are 404s
/// with the Pipelines service's messages (no `type` key).
fn find<'r>(repo: &'r Repository, id: &str) -> Result<&'r Pipeline, Reply> {
    let not_found = |detail: String| {
        Reply::json(
            404,
            &json!({"error": {"message": "Not found", "detail": detail}}),
        )
    };
    if let Ok(n) = id.parse::<u64>() {
        return repo
            .pipelines
            .iter()
            .find(|p| p.build_number == n)
            .ok_or_else(|| {
                not_found(format!(
                    "Pipeline with build number '{n}' not found in repository {}",
                    repo.uuid
                ))
            });
    }
    if !(id.starts_with('{') && id.ends_with('}')) {
        return Err(not_found("The value provided is not a valid uuid.".into()));
    }
    repo.pipelines
        .iter()
        .find(|p| p.uuid.eq_ignore_ascii_case(id))
        .ok_or_else(|| {
            not_found(format!(
                "Pipeline {id} not found in repository {}",
                repo.uuid
            ))
        })
}

fn enabled(ctx: &Ctx, repo: &Repository) -> Result<(), Reply> {
    if !repo.pipelines_enabled || ctx.pipelines_disabled.contains(&repo.slug) {
        Err(not_enabled())
    } else {
        Ok(())
    }
}

/// `GET …/pipelines/{id}`: the same object as a list entry.
pub fn get(ctx: &Ctx, repo: &Repository, id: &str) -> Reply {
    match enabled(ctx, repo).and_then(|()| find(repo, id)) {
        Ok(p) => ctx.ok(&ctx.links.pipeline(ctx.ws, repo, p), &[]),
        Err(r) => r,
    }
}

/// `GET …/pipelines/{id}/steps`: every step in one page, whatever `pagelen` says.
pub fn steps(ctx: &Ctx, repo: &Repository, id: &str) -> Reply {
    match enabled(ctx, repo).and_then(|()| find(repo, id)) {
        Ok(p) => {
            let values: Vec<_> = p
                .steps
                .iter()
                .map(|s| ctx.links.pipeline_step(p, s))
                .collect();
            let page = json!({"page": 1, "pagelen": values.len().max(1), "size": values.len(), "values": values});
            ctx.ok(&page, &[])
        }
        Err(r) => r,
    }
}

fn find_step<'p>(p: &'p Pipeline, step: &str) -> Result<&'p Step, Reply> {
    p.steps
        .iter()
        .find(|s| s.uuid.eq_ignore_ascii_case(step))
        .ok_or_else(|| {
            Reply::json(404, &json!({"error": {"message": "Not found", "detail": format!("Step {step} not found.")}}))
        })
}

/// `GET …/pipelines/{id}/steps/{step}`.
pub fn step(ctx: &Ctx, repo: &Repository, id: &str, step: &str) -> Reply {
    match enabled(ctx, repo)
        .and_then(|()| find(repo, id))
        .and_then(|p| find_step(p, step).map(|s| (p, s)))
    {
        Ok((p, s)) => ctx.ok(&ctx.links.pipeline_step(p, s), &[]),
        Err(r) => r,
    }
}

/// Whether an `Accept` header lets the log endpoint answer: absent (inferred), `*/*` or
/// `application/octet-stream`; anything else (JSON, `text/plain`) is 406 (REFERENCE-REVIEW §6c).
pub fn log_acceptable(accept: Option<&str>) -> bool {
    accept.is_none_or(|a| {
        a.split(',').any(|t| {
            let t = t
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            t == "*/*" || t == "application/octet-stream"
        })
    })
}

/// `GET …/pipelines/{id}/steps/{step}/log`: 406 for a wrong `Accept`; 404 for a step
/// without a log; the log so far (with `Range`) for a running step; and for a completed
/// step a 307 to the signed URL of its copy on the storage host.
pub fn log(ctx: &Ctx, repo: &Repository, id: &str, step: &str, storage_origin: &str) -> Reply {
    if !log_acceptable(ctx.req.header("accept")) {
        return Reply::json(406, &json!({"error": {"message": "Not Acceptable"}}));
    }
    let (p, s) = match enabled(ctx, repo)
        .and_then(|()| find(repo, id))
        .and_then(|p| find_step(p, step).map(|s| (p, s)))
    {
        Ok(found) => found,
        Err(r) => return r,
    };
    let Some(log) = &s.log else {
        return Reply::json(
            404,
            &json!({"error": {"message": "Not found", "detail": format!("Log in step {} does not exist.", s.uuid)}}),
        );
    };
    if matches!(s.state, StepState::Completed(_)) {
        let url = crate::storage::signed_url(
            storage_origin,
            &ctx.ws.slug,
            &repo.slug,
            p.build_number,
            &s.uuid,
        );
        return Reply::redirect(307, &url);
    }
    crate::storage::ranged(ctx.req.header("range"), log)
}
