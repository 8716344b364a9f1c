//! `get_pull_request`: a header line as `list_pull_requests` shows the pull request (with
//! both commits), then its times and counts, the description indented, the reviewers on one
//! line, one line per build status, the diffstat as `get_commit` shows it, the comments as
//! `#id author time [path:line] [reply to #id]` with the text indented, and the diff.
//!
//! ```text
//! #79 OPEN(draft) feature/gears 1a2b3c4d5e6f -> main 9f8e7d6c5b4a | Carol Chen | Fix gear ratios
//! created 2024-04-01T10:00:00Z, updated 2024-04-02T11:00:00Z, merge commit -, 2 comments, 1 open task, https://bitbucket.org/acme/widgets/pull-requests/79
//! description:
//!     Gears slipped under load.
//! reviewers: Alice Anders approved, Bob Baker changes_requested
//! 1 build status of the source commit (state name url):
//! SUCCESSFUL Pipeline #41 https://bitbucket.org/acme/widgets/pipelines/results/41
//! 1 file changed, +3 -1:
//! M +3 -1 src/gears.rs
//! 2 comments, oldest first (id author created [path:line] [reply to #id]); 0 older left out:
//! #301 Alice Anders 2024-04-01T12:00:00Z src/gears.rs:12
//!     Is 12 right here?
//! #302 Carol Chen 2024-04-01T13:00:00Z reply to #301
//!     Yes.
//! ```

use serde_json::{Map, Value};

use super::get_commit::{push_diff, push_files};
use super::list_pull_requests::state;
use super::{Obj, count, or_dash, push_indented, time};

pub fn render(object: &Map<String, Value>) -> Option<String> {
    let o = Obj(object);
    let mut out = format!(
        "#{} {} {} {} -> {} {} | {} | {}",
        o.u64("id")?,
        state(o)?,
        o.str("source_branch")?,
        or_dash(Some(o.str("source_commit")?)),
        o.str("destination_branch")?,
        or_dash(Some(o.str("destination_commit")?)),
        o.str("author")?,
        o.str("title")?,
    );
    let tasks = o.u64("task_count")? as usize;
    out.push_str(&format!(
        "\ncreated {}, updated {}, merge commit {}, {}, {}, {}",
        time(o.str("created_on")?),
        time(o.str("updated_on")?),
        or_dash(o.opt_str("merge_commit")?),
        count(o.u64("comment_count")? as usize, "comment", "comments"),
        count(tasks, "open task", "open tasks"),
        o.str("url")?,
    ));
    let description = o.str("description")?;
    if description.trim().is_empty() {
        out.push_str("\ndescription: none");
    } else {
        out.push_str("\ndescription:");
        push_indented(&mut out, description);
    }

    let reviewers = o.list("reviewers")?;
    let named: Vec<String> = reviewers
        .iter()
        .map(|r| Some(format!("{} {}", r.str("name")?, r.str("state")?)))
        .collect::<Option<_>>()?;
    out.push_str(&format!(
        "\nreviewers: {}",
        or_dash(Some(&named.join(", ")))
    ));

    let statuses = o.list("statuses")?;
    out.push_str(&format!(
        "\n{} of the source commit{}",
        count(statuses.len(), "build status", "build statuses"),
        if statuses.is_empty() {
            ""
        } else {
            " (state name url):"
        }
    ));
    for s in &statuses {
        out.push_str(&format!(
            "\n{} {} {}",
            s.str("state")?,
            s.str("name")?,
            or_dash(Some(s.str("url")?))
        ));
    }

    push_files(&mut out, o)?;

    let comments = o.list("comments")?;
    let omitted = o.u64("comments_omitted")?;
    if !comments.is_empty() || omitted > 0 {
        out.push_str(&format!(
            "\n{}, oldest first (id author created [path:line] [reply to #id]); {omitted} older left out:",
            count(comments.len(), "comment", "comments"),
        ));
    }
    for c in &comments {
        out.push_str(&format!(
            "\n#{} {} {}",
            c.u64("id")?,
            c.str("author")?,
            time(c.str("created_on")?)
        ));
        if let Some(path) = c.opt_str("path")? {
            out.push_str(&format!(" {path}"));
            if let Some(line) = c.opt_u64("line")? {
                out.push_str(&format!(":{line}"));
            }
        }
        if let Some(parent) = c.opt_u64("parent_id")? {
            out.push_str(&format!(" reply to #{parent}"));
        }
        push_indented(&mut out, c.str("text")?);
    }

    push_diff(&mut out, o, "left out")?;
    Some(out)
}
