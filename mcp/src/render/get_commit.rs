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
    push_files(&mut out, o)?;
    push_diff(&mut out, o, "left out, ask for each with `path`")?;
    Some(out)
}

/// The diffstat: a count line, then one `git diff --name-status`-like line per file.
pub(crate) fn push_files(out: &mut String, o: Obj) -> Option<()> {
    let files = o.list("files")?;
    out.push_str(&format!(
        "\n{} changed, +{} -{}:",
        count(files.len(), "file", "files"),
        o.u64("lines_added")?,
        o.u64("lines_removed")?
    ));
    for f in &files {
        let (path, old_path, status) = (f.str("path")?, f.opt_str("old_path")?, f.str("status")?);
        out.push_str(&format!(
            "\n{} +{} -{} ",
            status_letter(status),
            f.u64("lines_added")?,
            f.u64("lines_removed")?
        ));
        match old_path {
            Some(old) if old != path => out.push_str(&format!("{old} -> {path}")),
            _ => out.push_str(path),
        }
    }
    Some(())
}

/// `git diff --name-status` letters; any other status as Bitbucket names it.
fn status_letter(status: &str) -> &str {
    match status {
        "added" => "A",
        "removed" => "D",
        "modified" => "M",
        "renamed" => "R",
        other => other,
    }
}

/// With `diff: true`: the unified diff as Bitbucket gives it, after a line saying so and,
/// when the cap cut it, naming the files left out after `left_out`.
pub(crate) fn push_diff(out: &mut String, o: Obj, left_out: &str) -> Option<()> {
    let Some(diff) = o.opt_str("diff")? else {
        return Some(());
    };
    let truncated = o.0.get("diff_truncated").and_then(Value::as_bool) == Some(true);
    let omitted = match o.0.get("diff_omitted_files") {
        None | Some(Value::Null) => Vec::new(),
        Some(_) => o.strings("diff_omitted_files")?,
    };
    if truncated || !omitted.is_empty() {
        out.push_str("\ndiff (truncated at the 100 KB cap, at a file boundary");
        if !omitted.is_empty() {
            out.push_str(&format!("; {left_out}: {}", omitted.join(", ")));
        }
        out.push_str("):\n");
    } else {
        out.push_str("\ndiff:\n");
    }
    out.push_str(diff.trim_end_matches('\n'));
    Some(())
}
