//! `get_commit`: the commit as `list_commits` shows it, its parents, then its diffstat, one
//! file a line with `git diff --name-status` letters (A added, D removed, M modified,
//! R renamed) and the lines added and removed.
//!
//! ```text
//! 8371578a0b6f3a0e4d43c7b9f3f4e1d2c3b4a596 2024-01-09T01:00:00+01:00 Alice Anders <alice@acme.example>: Reorganise docs
//!
//!     Move the guide.
//! parents: 1f2e3d4c5b6a79880716253443526170819a0b1c
//! 3 files changed, +3 -2:
//! M +3 -1 README.md
//! R +0 -0 docs/guide.md -> docs/user-guide.md
//! D +0 -1 docs/old-notes.md
//! ```

use serde_json::{Map, Value};

use super::list_commits::push_commit;
use super::{Obj, count};

pub fn render(object: &Map<String, Value>) -> Option<String> {
    let o = Obj(object);
    let mut out = String::new();
    push_commit(&mut out, o)?;
    let parents = o.strings("parents")?;
    out.push_str(&format!(
        "\nparents: {}",
        if parents.is_empty() {
            "none".to_string()
        } else {
            parents.join(" ")
        }
    ));
    let files = o.list("files")?;
    out.push_str(&format!(
        "\n{} changed, +{} -{}:",
        count(files.len(), "file", "files"),
        o.u64("lines_added")?,
        o.u64("lines_removed")?
    ));
    for f in &files {
        let (path, old_path, status) = (f.str("path")?, f.opt_str("old_path")?, f.str("status")?);
        let letter = match status {
            "added" => "A",
            "removed" => "D",
            "modified" => "M",
            "renamed" => "R",
            other => other,
        };
        out.push_str(&format!(
            "\n{letter} +{} -{} ",
            f.u64("lines_added")?,
            f.u64("lines_removed")?
        ));
        match old_path {
            Some(old) if old != path => out.push_str(&format!("{old} -> {path}")),
            _ => out.push_str(path),
        }
    }
    // With `diff: true`: the unified diff as Bitbucket gives it, after a line saying so.
    if let Some(diff) = o.opt_str("diff")? {
        let truncated = o.0.get("diff_truncated").and_then(Value::as_bool) == Some(true);
        out.push_str(if truncated {
            "\ndiff (truncated at the 100 KB cap, at a file boundary):\n"
        } else {
            "\ndiff:\n"
        });
        out.push_str(diff.trim_end_matches('\n'));
    }
    Some(out)
}
