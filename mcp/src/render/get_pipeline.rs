//! `get_pipeline`: the run as `list_pipelines` shows it, its web page, then one line per step
//! and, below a failed step, the end of its log indented (or the note saying why there is
//! none).
//!
//! ```text
//! #130 COMPLETED FAILED main 8371578a0b6f3a0e4d43c7b9f3f4e1d2c3b4a596 PUSH 2024-04-01T10:00:00Z 2024-04-01T10:01:33Z 93 {0f1e2d3c-…} Alice Anders
//! https://bitbucket.org/acme/widgets/pipelines/results/130
//! 2 steps (state result started completed seconds uuid | name):
//! COMPLETED SUCCESSFUL 2024-04-01T10:00:05Z 2024-04-01T10:00:40Z 35 {5a6b…} | Build
//! COMPLETED FAILED 2024-04-01T10:00:41Z 2024-04-01T10:01:33Z 52 {7c8d…} | Test
//!   log, last 2 lines (earlier lines left out):
//!     error: test gears::ratio failed
//!     Exited with 1
//! ```

use serde_json::{Map, Value};

use super::list_pipelines::run_line;
use super::{Obj, count, or_dash, time};

pub fn render(object: &Map<String, Value>) -> Option<String> {
    let o = Obj(object);
    let mut out = format!("{}\n{}", run_line(o)?, o.str("url")?);
    let steps = o.list("steps")?;
    out.push_str(&format!(
        "\n{}{}",
        count(steps.len(), "step", "steps"),
        if steps.is_empty() {
            ""
        } else {
            " (state result started completed seconds uuid | name):"
        }
    ));
    for s in &steps {
        out.push('\n');
        out.push_str(&step_line(*s)?);
        if let Some(lines) = s.0.get("log_tail").and_then(Value::as_array) {
            let truncated = s.bool("log_truncated")?;
            out.push_str(&format!(
                "\n  log, {} {}{}:",
                if truncated { "last" } else { "all" },
                count(lines.len(), "line", "lines"),
                if truncated {
                    " (earlier lines left out)"
                } else {
                    ""
                }
            ));
            for line in lines {
                let line = line.as_str()?;
                out.push('\n');
                if !line.is_empty() {
                    out.push_str("    ");
                    out.push_str(line);
                }
            }
        }
        if let Some(note) = s.opt_str("log_note")? {
            out.push_str(&format!("\n  log: {note}"));
        }
    }
    Some(out)
}

/// A step's line: its fields in the header's order, the name (free text) last.
fn step_line(s: Obj) -> Option<String> {
    let started = s.opt_str("started_on")?.map(time);
    let completed = s.opt_str("completed_on")?.map(time);
    let duration = s.opt_u64("duration_seconds")?.map(|d| d.to_string());
    Some(format!(
        "{} {} {} {} {} {} | {}",
        s.str("state")?,
        or_dash(s.opt_str("result")?),
        or_dash(started.as_deref()),
        or_dash(completed.as_deref()),
        or_dash(duration.as_deref()),
        s.str("uuid")?,
        s.str("name")?,
    ))
}
