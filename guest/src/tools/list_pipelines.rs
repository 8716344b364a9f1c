//! `list_pipelines`: pipeline runs, newest first, by branch and status.

use super::{Ctx, NumberedListing, repo_path};
use crate::api::Pipeline as ApiPipeline;
use crate::bindings::{Pipeline, PipelinePage, ToolError};
use crate::client::ApiGet;
use crate::error::{Endpoint, ToolResult};
use crate::validate::{self, shorten};

const TOOL: &str = "list_pipelines";
/// Only what the tool returns (REFERENCE §3: a whitelist must keep `next`).
const FIELDS: &str = "next,values.uuid,values.build_number,values.state.name,\
    values.state.result.name,values.state.stage.name,values.target.ref_type,values.target.ref_name,values.target.source,values.target.destination,\
    values.target.commit.hash,values.trigger.name,values.trigger.type,values.creator.display_name,\
    values.creator.nickname,values.creator.username,values.created_on,values.completed_on,values.duration_in_seconds,\
    values.build_seconds_used";

/// The statuses a caller may filter by, and the Pipelines service's filter word for each
/// (REFERENCE §15: the filter vocabulary differs from the state vocabulary, and the mapping
/// PASSED/SUCCESSFUL, BUILDING/IN_PROGRESS is inferred: answers are checked again below).
pub const STATUSES: [(&str, &str); 9] = [
    ("PENDING", "PENDING"),
    ("IN_PROGRESS", "BUILDING"),
    ("SUCCESSFUL", "PASSED"),
    ("FAILED", "FAILED"),
    ("ERROR", "ERROR"),
    ("STOPPED", "STOPPED"),
    ("PAUSED", "PAUSED"),
    ("HALTED", "HALTED"),
    ("PARSING", "PARSING"),
];

/// Runs the tool.
pub fn run(
    ctx: &Ctx,
    repo: Option<String>,
    branch: Option<String>,
    status: Option<String>,
    limit: Option<u32>,
    page: Option<String>,
) -> ToolResult<PipelinePage> {
    let repo = ctx.repo(repo.as_deref())?;
    let limit = validate::limit(limit)?;
    let status =
        status
            .map(|s| {
                let upper = s.trim().to_ascii_uppercase();
                STATUSES.iter().find(|(name, _)| *name == upper).copied().ok_or_else(|| {
                ToolError::invalid_input(format!(
                    "`status` `{}` is not a pipeline status: use one of PENDING, IN_PROGRESS, \
                     SUCCESSFUL, FAILED, ERROR, STOPPED, PAUSED, HALTED, PARSING.",
                    shorten(&s)
                ))
            })
            })
            .transpose()?;
    let branch = branch
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty());
    let scope = &ctx.config().scope;
    if let Some(name) = &branch {
        scope.check_branch(name)?;
    }
    let listing = NumberedListing {
        tool: TOOL,
        scope: repo.full_name(),
        max_pagelen: 100,
        request: |page, pagelen| {
            // The Pipelines service takes plain query parameters, not BBQL, and lists oldest
            // first unless told otherwise (REFERENCE §15).
            ApiGet::new(
                repo_path(&repo, "/pipelines"),
                Endpoint::Pipelines {
                    repo: repo.full_name(),
                },
            )
            .param("sort", "-created_on")
            .param("pagelen", pagelen)
            .param("fields", FIELDS)
            .param("page", page)
            .param_opt("target.branch", branch.clone())
            .param_opt("status", status.map(|(_, filter)| filter))
        },
    };
    let (runs, next_page) =
        listing.collect(&ctx.client, page.as_deref(), limit, |p: &ApiPipeline| {
            // The filter mapping is not documented; check the answer too.
            on_allowed_branches(p, scope) && status.is_none_or(|(name, _)| status_of(p) == name)
        })?;
    Ok(PipelinePage {
        pipelines: runs.into_iter().map(convert).collect(),
        next_page,
    })
}

/// Under a branch pattern, a run is visible when it ran on an allowed branch, or for a pull
/// request whose source and destination branches are both allowed. Runs on tags (even one
/// named like an allowed branch) and on bare commits are not.
pub fn on_allowed_branches(p: &ApiPipeline, scope: &crate::scope::Scope) -> bool {
    if scope.branch_regex.is_none() {
        return true;
    }
    let target = &p.target;
    match (target.ref_type.as_deref(), target.ref_name.as_deref()) {
        (Some(kind), Some(name)) => {
            (kind.eq_ignore_ascii_case("branch") || kind.eq_ignore_ascii_case("named_branch"))
                && scope.branch_allowed(name)
        }
        (None, None) => {
            target
                .source_branch()
                .is_some_and(|s| scope.branch_allowed(&s))
                && target
                    .destination_branch()
                    .is_some_and(|d| scope.branch_allowed(&d))
        }
        _ => false,
    }
}

/// The branch or tag a run is on (for pull-request runs, the source branch).
fn convert_ref(p: &ApiPipeline) -> Option<String> {
    p.target
        .ref_name
        .clone()
        .or_else(|| p.target.source_branch())
        .filter(|n| !n.is_empty())
}

/// The caller-facing status of a run: the result of a completed run, else its state.
fn status_of(p: &ApiPipeline) -> &str {
    match &p.state.result {
        Some(result) => &result.name,
        None => state_of(p),
    }
}

/// `PAUSED` for a run waiting on a manual step and `HALTED` for a halted one (both have the
/// state `IN_PROGRESS` with that stage, REFERENCE §15), else the state name.
fn state_of(p: &ApiPipeline) -> &str {
    match p.state.stage.as_ref().map(|s| s.name.as_str()) {
        Some(stage @ ("PAUSED" | "HALTED")) => stage,
        _ => &p.state.name,
    }
}

/// The listed form of a run (get_pipeline shares it).
pub fn convert(p: ApiPipeline) -> Pipeline {
    Pipeline {
        branch: convert_ref(&p),
        state: state_of(&p).to_owned(),
        result: p.state.result.as_ref().map(|r| r.name.clone()),
        commit: p
            .target
            .commit
            .as_ref()
            .map(|c| c.hash.clone())
            .filter(|h| !h.is_empty()),
        trigger: p.trigger.as_ref().map(|t| t.label()).unwrap_or_default(),
        creator: p.creator.map(|c| c.name()).filter(|n| !n.is_empty()),
        uuid: p.uuid,
        build_number: p.build_number,
        created_on: p.created_on.unwrap_or_default(),
        completed_on: p.completed_on,
        duration_seconds: p.duration_in_seconds.or(p.build_seconds_used),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ErrorKind;
    use crate::tools::testing::{Scripted, config};

    const RUNS: &str = r#"{"page": 1, "pagelen": 10, "size": 2, "values": [
      {"type": "pipeline", "uuid": "{b}", "build_number": 26,
       "state": {"name": "IN_PROGRESS", "type": "pipeline_state_in_progress", "stage": {"name": "PAUSED", "type": "pipeline_state_in_progress_paused"}},
       "target": {"type": "pipeline_ref_target", "ref_type": "branch", "ref_name": "main", "commit": {"hash": "30c1"}},
       "trigger": {"name": "MANUAL"}, "creator": {"display_name": "Ann"}, "created_on": "2020-11-03T22:14:50.671Z"},
      {"type": "pipeline", "uuid": "{a}", "build_number": 25,
       "state": {"name": "COMPLETED", "result": {"name": "STOPPED"}},
       "target": {"type": "pipeline_ref_target", "ref_name": "main"}, "trigger": {"name": "PUSH"},
       "created_on": "2020-11-03T22:14:50.671Z", "completed_on": "2020-11-03T22:14:53.173Z", "duration_in_seconds": 3}]}"#;

    #[test]
    fn maps_runs_newest_first() {
        let t = Scripted::default().route("/repositories/acme/widgets/pipelines", 200, RUNS);
        let c = config();
        let out = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            Some("main".into()),
            None,
            None,
            None,
        )
        .unwrap();
        assert_eq!(out.pipelines.len(), 2);
        assert_eq!(
            (
                out.pipelines[0].state.as_str(),
                out.pipelines[0].result.as_deref()
            ),
            ("PAUSED", None)
        );
        assert_eq!(
            (
                out.pipelines[1].state.as_str(),
                out.pipelines[1].result.as_deref()
            ),
            ("COMPLETED", Some("STOPPED"))
        );
        assert_eq!(out.pipelines[1].duration_seconds, Some(3));
        assert_eq!(out.pipelines[0].branch.as_deref(), Some("main"));
        assert!(t.sent_without_fields()[0].starts_with("/repositories/acme/widgets/pipelines?sort=-created_on&pagelen=30&page=1&target.branch=main"));
    }

    #[test]
    fn status_filter_uses_the_service_vocabulary_and_checks_answers() {
        let t = Scripted::default().route("/repositories/acme/widgets/pipelines", 200, RUNS);
        let c = config();
        let out = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            None,
            Some("stopped".into()),
            None,
            None,
        )
        .unwrap();
        assert_eq!(out.pipelines.len(), 1);
        assert!(t.sent()[0].contains("status=STOPPED"));
        let e = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            None,
            Some("DONE".into()),
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
    }

    #[test]
    fn halted_runs_pull_request_targets_and_sparse_fields_are_reported() {
        let runs = r#"{"values": [
          {"uuid": "{h}", "build_number": 9,
           "state": {"name": "IN_PROGRESS", "type": "pipeline_state_in_progress", "stage": {"name": "HALTED", "type": "pipeline_state_in_progress_halted"}},
           "target": {"type": "pipeline_pullrequest_target", "source": "feature/x", "destination": {"branch": {"name": "main"}}, "commit": {"hash": "abc"}},
           "trigger": {"type": "pipeline_trigger_pull_request"}, "creator": {"type": "app_user", "nickname": "ci-bot"},
           "build_seconds_used": 42},
          {"uuid": "{p}", "build_number": 8,
           "state": {"name": "PARSING", "type": "pipeline_state_parsing", "stage": {"name": "PARSING"}},
           "target": {"type": "pipeline_pullrequest_target", "source": {"name": "feature/y"}, "destination": "main"},
           "trigger": {"name": "PUSH", "type": "pipeline_trigger_push"}, "creator": {"type": "team", "display_name": "", "username": "acme-team"}}]}"#;
        let t = Scripted::default().route("/repositories/acme/widgets/pipelines", 200, runs);
        let c = config();
        let out = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            None,
            None,
            None,
            None,
        )
        .unwrap();
        let (halted, parsing) = (&out.pipelines[0], &out.pipelines[1]);
        assert_eq!(
            (halted.state.as_str(), halted.result.as_deref()),
            ("HALTED", None)
        );
        assert_eq!(halted.trigger, "PULL_REQUEST");
        assert_eq!(halted.duration_seconds, Some(42));
        assert_eq!(halted.branch.as_deref(), Some("feature/x"));
        assert_eq!(halted.creator.as_deref(), Some("ci-bot"));
        assert_eq!(parsing.state, "PARSING");
        assert_eq!(parsing.branch.as_deref(), Some("feature/y"));
        assert_eq!(parsing.creator.as_deref(), Some("acme-team"));
        let sent = &t.sent()[0];
        for field in [
            "values.trigger.type",
            "values.build_seconds_used",
            "values.creator.nickname",
        ] {
            assert!(
                sent.contains(&crate::encoding::percent_encode(field)),
                "{sent}"
            );
        }
        // The status filter knows HALTED, and a pull-request run is visible under a branch
        // pattern only when both of its branches are allowed.
        let out = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            None,
            Some("halted".into()),
            None,
            None,
        )
        .unwrap();
        assert_eq!(out.pipelines.len(), 1);
        let scoped =
            crate::tools::testing::config_with(&[("BITBUCKET_BRANCH_REGEX", "main|feature/y")]);
        let out = run(
            &Ctx::new(&scoped, &t),
            Some("widgets".into()),
            None,
            None,
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            out.pipelines
                .iter()
                .map(|p| p.build_number)
                .collect::<Vec<_>>(),
            [8]
        );
    }

    #[test]
    fn disabled_pipelines_are_pipelines_unavailable() {
        let t = Scripted::default().route(
            "/repositories/acme/widgets/pipelines",
            404,
            r#"{"type": "error", "error": {"message": "Not found"}}"#,
        );
        let c = config();
        let e = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            None,
            None,
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::PipelinesUnavailable);
    }
}
