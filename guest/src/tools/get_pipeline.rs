//! `get_pipeline`: one pipeline run with its steps, and the end of each failed step's log.
//!
//! Round trips: the run and its steps together (the run first under a branch pattern, so
//! that nothing about a run out of scope is requested), then the failed steps' logs, asking
//! only for their last bytes (`Range: bytes=-N`). A completed step's log answers 307 to a
//! self-authorising URL on a storage host (REFERENCE-REVIEW §6c): that URL is fetched once,
//! keeping `Accept` and `Range`, **without** Bitbucket's credentials, and is never shown. A
//! host that refuses the storage host gets the step back without its log and a note saying
//! what to allow.

use super::list_pipelines::{convert as convert_pipeline, on_allowed_branches};
use super::{Ctx, repo_path};
use crate::api::{Page, Pipeline as ApiPipeline, PipelineState};
use crate::bindings::{PipelineDetail, PipelineStep, ToolError};
use crate::client::{ApiGet, Redirects, decode_json};
use crate::encoding::{AbsoluteUrl, percent_encode};
use crate::error::{Endpoint, ToolResult};
use crate::transport::{HttpResponse, ReadLimit, TransportError};
use serde::Deserialize;

/// The default number of log lines kept from the end of each failed step.
pub const DEFAULT_LOG_LINES: u32 = 100;
/// The most log lines a caller may ask for.
pub const MAX_LOG_LINES: u32 = 1000;
/// Bytes asked for per wanted line (build output lines are mostly far shorter).
const BYTES_PER_LINE: usize = 256;
/// The most log bytes read for one step.
const MAX_LOG_BYTES: usize = 512 * 1024;
/// The step log endpoint serves only raw bytes: any other `Accept` gets 406.
const LOG_ACCEPT: &str = "application/octet-stream";

/// A step as the steps listing gives it (REFERENCE-REVIEW §6b).
#[derive(Debug, Deserialize)]
struct ApiStep {
    #[serde(default)]
    uuid: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    state: PipelineState,
    #[serde(default)]
    started_on: Option<String>,
    #[serde(default)]
    completed_on: Option<String>,
    #[serde(default)]
    duration_in_seconds: Option<u64>,
}

impl ApiStep {
    fn result(&self) -> Option<String> {
        self.state.result.as_ref().map(|r| r.name.clone())
    }

    fn failed(&self) -> bool {
        matches!(self.result().as_deref(), Some("FAILED" | "ERROR"))
    }

    fn state(&self) -> String {
        match &self.state.stage {
            Some(stage) if stage.name == "PAUSED" => "PAUSED".into(),
            _ => self.state.name.clone(),
        }
    }
}

/// Runs the tool.
pub fn run(
    ctx: &Ctx,
    repo: Option<String>,
    pipeline: String,
    log_lines: Option<u32>,
) -> ToolResult<PipelineDetail> {
    let repo = ctx.repo(repo.as_deref())?;
    let id = pipeline_id(&pipeline)?;
    let log_lines = match log_lines {
        None => DEFAULT_LOG_LINES,
        Some(n) if (1..=MAX_LOG_LINES).contains(&n) => n,
        Some(n) => {
            return Err(ToolError::invalid_input(format!(
                "`log_lines` must be between 1 and {MAX_LOG_LINES} (got {n})."
            )));
        }
    };
    let base = repo_path(&repo, &format!("/pipelines/{}", percent_encode(&id)));
    let endpoint = Endpoint::Pipeline {
        repo: repo.full_name(),
        what: format!("pipeline {pipeline}", pipeline = pipeline.trim()),
    };
    let run_request = ApiGet::new(base.clone(), endpoint.clone());
    let steps_request = ApiGet::new(format!("{base}/steps"), endpoint.clone());
    let scope = &ctx.config().scope;
    let (run, steps_answer) = if scope.branch_regex.is_some() {
        let run: ApiPipeline = ctx.client.get_json(run_request)?;
        if !on_allowed_branches(&run, scope) {
            return Err(ToolError::out_of_scope(format!(
                "Pipeline {} of {} ran on a ref outside this connection's scope (or on a bare \
                 commit); nothing about it was read. list_pipelines shows the runs in scope.",
                pipeline.trim(),
                repo.full_name()
            )));
        }
        (run, ctx.client.get(steps_request))
    } else {
        let mut answers = ctx
            .client
            .get_all(&[run_request, steps_request])
            .into_iter();
        let run: ApiPipeline = decode_json(&answers.next().expect("run")?)?;
        (run, answers.next().expect("steps"))
    };
    let steps: Page<ApiStep> = decode_json(&steps_answer?)?;

    // The logs of the failed steps, together; then the storage URLs they redirect to.
    let failed: Vec<&ApiStep> = steps.values.iter().filter(|s| s.failed()).collect();
    let tail_bytes = (log_lines as usize * BYTES_PER_LINE).min(MAX_LOG_BYTES);
    let log_requests: Vec<ApiGet> = failed
        .iter()
        .map(|s| {
            ApiGet::new(
                format!("{base}/steps/{}/log", percent_encode(&s.uuid)),
                Endpoint::Pipeline {
                    repo: repo.full_name(),
                    what: format!("the log of step `{}`", s.name.as_deref().unwrap_or("")),
                },
            )
            .accept(LOG_ACCEPT)
            .range(format!("bytes=-{tail_bytes}"))
            .read(ReadLimit::bytes(tail_bytes))
            .redirects(Redirects::Return)
        })
        .collect();
    let mut logs: Vec<LogOutcome> = if log_requests.is_empty() {
        Vec::new()
    } else {
        ctx.client
            .get_all(&log_requests)
            .into_iter()
            .map(LogOutcome::from_api)
            .collect()
    };
    let moved: Vec<(usize, AbsoluteUrl)> = logs
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match l {
            LogOutcome::Moved(url) => Some((i, url.clone())),
            _ => None,
        })
        .collect();
    let foreign: Vec<_> = moved
        .iter()
        .map(|(_, url)| {
            (
                url.clone(),
                LOG_ACCEPT,
                Some(format!("bytes=-{tail_bytes}")),
                ReadLimit::bytes(tail_bytes),
            )
        })
        .collect();
    if !foreign.is_empty() {
        for ((index, url), answer) in moved.iter().zip(ctx.client.get_foreign(&foreign)) {
            logs[*index] = LogOutcome::from_storage(url, answer);
        }
    }

    let mut logs = logs.into_iter();
    let url = format!(
        "https://bitbucket.org/{}/pipelines/results/{}",
        repo.full_name(),
        run.build_number
    );
    let steps = steps
        .values
        .iter()
        .map(|s| {
            let (log_tail, log_truncated, log_note) = if s.failed() {
                logs.next()
                    .expect("one log outcome per failed step")
                    .tail(log_lines as usize)
            } else {
                (None, false, None)
            };
            PipelineStep {
                uuid: s.uuid.clone(),
                name: s.name.clone().unwrap_or_default(),
                state: s.state(),
                result: s.result(),
                started_on: s.started_on.clone(),
                completed_on: s.completed_on.clone(),
                duration_seconds: s.duration_in_seconds,
                log_tail,
                log_truncated,
                log_note,
            }
        })
        .collect();
    let p = convert_pipeline(run);
    Ok(PipelineDetail {
        uuid: p.uuid,
        build_number: p.build_number,
        state: p.state,
        result: p.result,
        branch: p.branch,
        commit: p.commit,
        trigger: p.trigger,
        creator: p.creator,
        created_on: p.created_on,
        completed_on: p.completed_on,
        duration_seconds: p.duration_seconds,
        steps,
        url,
    })
}

/// The path segment for a `pipeline` argument: a build number, or a UUID in braces
/// (Bitbucket accepts either in the UUID's place, REFERENCE-REVIEW §6a).
fn pipeline_id(text: &str) -> ToolResult<String> {
    let text = text.trim();
    if !text.is_empty() && text.len() <= 12 && text.bytes().all(|b| b.is_ascii_digit()) {
        let number = text.trim_start_matches('0');
        return if number.is_empty() {
            Err(bad_pipeline(text))
        } else {
            Ok(number.to_owned())
        };
    }
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    let groups: Vec<&str> = inner.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    let is_uuid = groups.len() == 5
        && groups
            .iter()
            .zip(lengths)
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    if is_uuid {
        Ok(format!("{{{}}}", inner.to_ascii_lowercase()))
    } else {
        Err(bad_pipeline(text))
    }
}

fn bad_pipeline(text: &str) -> ToolError {
    ToolError::invalid_input(format!(
        "`pipeline` must be a build number (e.g. `42`) or a pipeline UUID (with or without \
         braces), as list_pipelines gives them (got `{}`).",
        crate::validate::shorten(text)
    ))
}

/// What became of one failed step's log.
enum LogOutcome {
    /// The end of the log: the bytes, and whether they start after the log's first byte.
    Text(Vec<u8>, bool),
    /// The API named the log's place in long-term storage.
    Moved(AbsoluteUrl),
    /// No log, and why.
    Missing(String),
}

impl LogOutcome {
    fn from_api(answer: ToolResult<HttpResponse>) -> LogOutcome {
        match answer {
            Ok(r) if (300..400).contains(&r.status) => {
                match r.header("location").and_then(absolute) {
                    Some(url) => LogOutcome::Moved(url),
                    None => LogOutcome::Missing(
                        "Bitbucket redirected the log to a place the connector cannot read.".into(),
                    ),
                }
            }
            Ok(r) => Self::from_bytes(r),
            Err(e) if e.kind == crate::bindings::ErrorKind::NotFound => LogOutcome::Missing(
                "This step has no log (it did not run, or its log is not available yet).".into(),
            ),
            Err(e) => LogOutcome::Missing(format!("The log could not be read: {}", e.message)),
        }
    }

    fn from_storage(url: &AbsoluteUrl, answer: Result<HttpResponse, TransportError>) -> LogOutcome {
        let origin = url.origin();
        match answer {
            Ok(r) if r.status == 416 => LogOutcome::Text(Vec::new(), false),
            Ok(r) if (200..300).contains(&r.status) => Self::from_bytes(r),
            Ok(r) => LogOutcome::Missing(format!(
                "The log's storage host {origin} answered HTTP {} (its link may have expired); \
                 try again.",
                r.status
            )),
            Err(TransportError::Denied) => LogOutcome::Missing(format!(
                "The log is kept on {origin}, which this host does not let the connector reach. \
                 To see failed steps' logs, allow outbound requests to {origin} (for Spin: add \
                 it to allowed_outbound_hosts)."
            )),
            Err(TransportError::Timeout) => LogOutcome::Missing(format!(
                "The log's storage host {origin} did not answer in time; try again."
            )),
            Err(TransportError::Failed(why)) => LogOutcome::Missing(format!(
                "The log's storage host {origin} could not be reached ({why})."
            )),
        }
    }

    fn from_bytes(r: HttpResponse) -> LogOutcome {
        // A 206 that starts after byte 0 begins inside a line; a 200 is the log from its start.
        let starts_late = r.status == 206
            && r.header("content-range")
                .and_then(|v| v.trim().strip_prefix("bytes "))
                .and_then(|v| v.split('-').next())
                .is_none_or(|first| first.trim() != "0");
        if r.status == 200 && !r.complete {
            return LogOutcome::Missing(
                "Bitbucket sent the whole log instead of its end, and it is too long to read; \
                 open the pipeline's page to see it."
                    .into(),
            );
        }
        LogOutcome::Text(r.body, starts_late)
    }

    /// `(log_tail, log_truncated, log_note)` keeping the last `lines` lines.
    fn tail(self, lines: usize) -> (Option<Vec<String>>, bool, Option<String>) {
        match self {
            LogOutcome::Text(bytes, starts_late) => {
                let text = String::from_utf8_lossy(&bytes);
                let mut all: Vec<String> = text.split('\n').map(clean_line).collect();
                if all.last().is_some_and(|l| l.is_empty()) {
                    all.pop();
                }
                if starts_late && !all.is_empty() {
                    // The first line was cut by the range.
                    all.remove(0);
                }
                let truncated = starts_late || all.len() > lines;
                let keep = all.split_off(all.len().saturating_sub(lines));
                (Some(keep), truncated, None)
            }
            LogOutcome::Moved(_) => (
                None,
                false,
                Some("The log's storage location could not be read.".into()),
            ),
            LogOutcome::Missing(why) => (None, false, Some(why)),
        }
    }
}

fn absolute(location: &str) -> Option<AbsoluteUrl> {
    let any_base = crate::config::BaseUrl {
        https: true,
        authority: String::new(),
        path: String::new(),
    };
    // Only absolute URLs: a relative one would be on the API origin, reached with credentials.
    AbsoluteUrl::resolve(location, &any_base).filter(|u| !u.authority.is_empty())
}

/// One log line as a person would see it on a terminal: escape sequences removed, a `\r`
/// progress line reduced to what it last showed, other control characters dropped.
pub fn clean_line(raw: &str) -> String {
    let raw = raw.strip_suffix('\r').unwrap_or(raw);
    let shown = raw.rsplit('\r').next().unwrap_or(raw);
    let mut out = String::with_capacity(shown.len());
    let mut chars = shown.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            match chars.next() {
                // CSI: parameters and intermediates, then one final byte 0x40..=0x7e.
                Some('[') => {
                    for d in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&d) {
                            break;
                        }
                    }
                }
                // OSC: up to BEL or ESC \.
                Some(']') => {
                    while let Some(d) = chars.next() {
                        if d == '\u{7}' {
                            break;
                        }
                        if d == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {}
            }
        } else if c == '\t' || !c.is_control() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ErrorKind;
    use crate::tools::testing::{Scripted, config, config_with};

    #[test]
    fn escape_sequences_and_progress_lines_are_cleaned() {
        assert_eq!(
            clean_line("\u{1b}[1m\u{1b}[32m   Compiling\u{1b}[0m a v0.1.0"),
            "   Compiling a v0.1.0"
        );
        assert_eq!(clean_line("50%\r75%\rdone\r"), "done");
        assert_eq!(clean_line("\u{1b}]0;title\u{7}text\u{0}!"), "text!");
        assert_eq!(clean_line("a\tb"), "a\tb");
    }

    #[test]
    fn pipeline_arguments() {
        assert_eq!(pipeline_id("42").unwrap(), "42");
        assert_eq!(pipeline_id(" 007 ").unwrap(), "7");
        let uuid = "3EDAA916-BAAD-BEEF-DEAD-28846DEAFEC1";
        assert_eq!(
            pipeline_id(uuid).unwrap(),
            "{3edaa916-baad-beef-dead-28846deafec1}"
        );
        assert_eq!(
            pipeline_id(&format!("{{{uuid}}}")).unwrap(),
            "{3edaa916-baad-beef-dead-28846deafec1}"
        );
        for bad in ["", "0", "-1", "main", "{x}", "12/steps", "3edaa916-baad"] {
            assert_eq!(
                pipeline_id(bad).unwrap_err().kind,
                ErrorKind::InvalidInput,
                "{bad}"
            );
        }
    }

    const RUN: &str = r#"{"type": "pipeline", "uuid": "{p}", "build_number": 7,
        "state": {"name": "COMPLETED", "result": {"name": "FAILED"}},
        "target": {"type": "pipeline_ref_target", "ref_type": "branch", "ref_name": "feature/x", "commit": {"hash": "abc"}},
        "trigger": {"name": "PUSH"}, "created_on": "2024-01-01T00:00:00.000Z"}"#;
    const STEPS: &str = r#"{"values": [
        {"uuid": "{s1}", "name": "Build", "state": {"name": "COMPLETED", "result": {"name": "SUCCESSFUL"}}},
        {"uuid": "{s2}", "name": "Test", "state": {"name": "COMPLETED", "result": {"name": "FAILED"}}, "duration_in_seconds": 19},
        {"uuid": "{s3}", "name": "Deploy", "state": {"name": "COMPLETED", "result": {"name": "NOT_RUN"}}}]}"#;

    #[test]
    fn only_failed_steps_logs_are_read_with_a_range_and_raw_accept() {
        let t = Scripted::default()
            .route(
                "/repositories/acme/widgets/pipelines/7/steps/%7Bs2%7D/log",
                206,
                "cut line\nline 2\n\u{1b}[31merror\u{1b}[0m: failed\n",
            )
            .route("/repositories/acme/widgets/pipelines/7/steps", 200, STEPS)
            .route("/repositories/acme/widgets/pipelines/7", 200, RUN);
        let c = config();
        let out = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            "7".into(),
            Some(2),
        )
        .unwrap();
        assert_eq!(*t.batches.borrow(), [2, 1]);
        assert_eq!(out.steps.len(), 3);
        assert_eq!(out.steps[0].log_tail, None);
        assert_eq!(
            out.steps[1].log_tail.as_deref(),
            Some(&["line 2".to_string(), "error: failed".to_string()][..])
        );
        assert!(out.steps[1].log_truncated);
        assert_eq!(out.steps[2].log_note, None);
        assert_eq!(out.branch.as_deref(), Some("feature/x"));
    }

    #[test]
    fn under_a_branch_pattern_a_run_out_of_scope_is_refused_after_one_request() {
        let t = Scripted::default()
            .route("/repositories/acme/widgets/pipelines/7/steps", 200, STEPS)
            .route("/repositories/acme/widgets/pipelines/7", 200, RUN);
        let c = config_with(&[("BITBUCKET_BRANCH_REGEX", "main")]);
        let e = run(&Ctx::new(&c, &t), Some("widgets".into()), "7".into(), None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::OutOfScope);
        assert_eq!(t.sent().len(), 1);
    }

    #[test]
    fn a_missing_run_is_not_found_and_bad_log_lines_are_refused() {
        let t = Scripted::default().route(
            "/repositories/acme/widgets/pipelines/9",
            404,
            r#"{"error": {"message": "Not found", "detail": "Pipeline with build number '9' not found in repository {r}"}}"#,
        );
        let c = config();
        let e = run(&Ctx::new(&c, &t), Some("widgets".into()), "9".into(), None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound, "{}", e.message);
        let e = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            "9".into(),
            Some(0),
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
    }
}
