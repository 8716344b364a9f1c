//! Pipeline runs, their targets, triggers and steps (REFERENCE.md §15, REFERENCE-REVIEW.md §6).

use super::{CommitRef, Named, User};
use serde::Deserialize;

/// A pipeline's state (REFERENCE §15).
#[derive(Debug, Default, Deserialize)]
pub struct PipelineState {
    /// `PENDING`, `IN_PROGRESS`, `COMPLETED`, `PARSING`...
    #[serde(default)]
    pub name: String,
    /// For completed runs: `SUCCESSFUL`, `FAILED`...
    #[serde(default)]
    pub result: Option<Named>,
    /// For running runs: `RUNNING`, `PAUSED`, `HALTED`.
    #[serde(default)]
    pub stage: Option<Named>,
}

/// A pipeline's target: a ref, a commit or a pull request.
#[derive(Debug, Default, Deserialize)]
pub struct PipelineTarget {
    /// `branch`, `tag`, ... for ref targets.
    #[serde(default)]
    pub ref_type: Option<String>,
    /// The ref name for ref targets.
    #[serde(default)]
    pub ref_name: Option<String>,
    /// The commit.
    #[serde(default)]
    pub commit: Option<CommitRef>,
    /// For pull-request targets: the source branch. Not in the spec: a string in the one
    /// captured answer, so a `{"name"}` or `{"branch": {"name"}}` object is read too.
    #[serde(default)]
    pub source: Option<serde_json::Value>,
    /// For pull-request targets: the destination branch (read like `source`).
    #[serde(default)]
    pub destination: Option<serde_json::Value>,
}

impl PipelineTarget {
    /// The source branch of a pull-request target.
    pub fn source_branch(&self) -> Option<String> {
        self.source.as_ref().and_then(branch_name_of)
    }

    /// The destination branch of a pull-request target.
    pub fn destination_branch(&self) -> Option<String> {
        self.destination.as_ref().and_then(branch_name_of)
    }
}

/// `"main"`, `{"name": "main"}` or `{"branch": {"name": "main"}}` → `main`.
fn branch_name_of(value: &serde_json::Value) -> Option<String> {
    let name = match value {
        serde_json::Value::String(s) => Some(s.as_str()),
        serde_json::Value::Object(o) => o
            .get("name")
            .or_else(|| o.get("branch").and_then(|b| b.get("name")))
            .and_then(|n| n.as_str()),
        _ => None,
    };
    name.filter(|n| !n.is_empty()).map(str::to_owned)
}

/// What started a pipeline: `{"name": "PUSH", "type": "pipeline_trigger_push"}`.
#[derive(Debug, Default, Deserialize)]
pub struct Trigger {
    /// `PUSH`, `MANUAL`, `SCHEDULE`...
    #[serde(default)]
    pub name: Option<String>,
    /// `pipeline_trigger_push`...
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

impl Trigger {
    /// The name, else the name in the type (`pipeline_trigger_pull_request` → `PULL_REQUEST`).
    pub fn label(&self) -> String {
        match self.name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => name.to_owned(),
            None => self
                .kind
                .as_deref()
                .map(|t| t.strip_prefix("pipeline_trigger_").unwrap_or(t))
                .unwrap_or_default()
                .to_ascii_uppercase(),
        }
    }
}

/// A pipeline run (REFERENCE §15).
#[derive(Debug, Deserialize)]
pub struct Pipeline {
    /// The UUID in braces.
    #[serde(default)]
    pub uuid: String,
    /// The build number.
    #[serde(default)]
    pub build_number: u64,
    /// The state.
    #[serde(default)]
    pub state: PipelineState,
    /// The target.
    #[serde(default)]
    pub target: PipelineTarget,
    /// The trigger.
    #[serde(default)]
    pub trigger: Option<Trigger>,
    /// Who started it.
    #[serde(default)]
    pub creator: Option<User>,
    /// Created.
    #[serde(default)]
    pub created_on: Option<String>,
    /// Completed.
    #[serde(default)]
    pub completed_on: Option<String>,
    /// Duration (real, though missing from the spec).
    #[serde(default)]
    pub duration_in_seconds: Option<u64>,
    /// Build seconds used (in the spec): the duration when `duration_in_seconds` is missing.
    #[serde(default)]
    pub build_seconds_used: Option<u64>,
}
