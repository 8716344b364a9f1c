//! `list_pipelines`: one line per run, `-` for what a run does not have (yet).
//!
//! ```text
//! 1 pipeline run, newest first (build state result branch commit trigger created completed seconds uuid creator); last page
//! #130 COMPLETED FAILED main 8371578a0b6f3a0e4d43c7b9f3f4e1d2c3b4a596 PUSH 2024-04-01T10:00:00.000001Z 2024-04-01T10:01:33.000001Z 93 {0f1e2d3c-...} Alice Anders
//! ```

use serde_json::{Map, Value};

use super::{Obj, count, or_dash, paging, time};

pub fn render(object: &Map<String, Value>) -> Option<String> {
    let o = Obj(object);
    let runs = o.list("pipelines")?;
    let mut out = format!(
        "{}, newest first (build state result branch commit trigger created completed seconds uuid creator); {}",
        count(runs.len(), "pipeline run", "pipeline runs"),
        paging(o)?
    );
    for r in &runs {
        out.push('\n');
        out.push_str(&run_line(*r)?);
    }
    Some(out)
}

/// A run's line, in the header's order (also get_pipeline's first line).
pub(crate) fn run_line(r: Obj) -> Option<String> {
    let completed = r.opt_str("completed_on")?.map(time);
    let duration = r.opt_u64("duration_seconds")?.map(|d| d.to_string());
    Some(format!(
        "#{} {} {} {} {} {} {} {} {} {} {}",
        r.u64("build_number")?,
        r.str("state")?,
        or_dash(r.opt_str("result")?),
        or_dash(r.opt_str("branch")?),
        or_dash(r.opt_str("commit")?),
        r.str("trigger")?,
        time(r.str("created_on")?),
        or_dash(completed.as_deref()),
        or_dash(duration.as_deref()),
        r.str("uuid")?,
        or_dash(r.opt_str("creator")?),
    ))
}
