//! `list_commits`: `git log`-like, one line per commit and the rest of a message indented
//! below it.
//!
//! ```text
//! 2 commits, newest first (hash date author: subject, body indented); last page
//! 8371578a0b6f3a0e4d43c7b9f3f4e1d2c3b4a596 2024-01-09T01:00:00+01:00 Alice Anders <alice@acme.example>: Improve gear ratios
//!
//!     This change touches step 4 of the widgets roadmap.
//! ```

use serde_json::{Map, Value};

use super::{Obj, count, paging, push_indented, time};

pub fn render(object: &Map<String, Value>) -> Option<String> {
    let o = Obj(object);
    let commits = o.list("commits")?;
    let mut out = format!(
        "{}, newest first (hash date author: subject, body indented); {}",
        count(commits.len(), "commit", "commits"),
        paging(o)?
    );
    for c in &commits {
        out.push('\n');
        push_commit(&mut out, *c)?;
    }
    Some(out)
}

/// `hash date author: subject` and the message's other lines indented below.
pub(crate) fn push_commit(out: &mut String, c: Obj) -> Option<()> {
    let message = c.str("message")?.trim_end_matches(['\n', '\r']);
    let (subject, body) = message.split_once('\n').unwrap_or((message, ""));
    out.push_str(&format!(
        "{} {} {}: {}",
        c.str("hash")?,
        time(c.str("date")?),
        c.str("author")?,
        subject
    ));
    push_indented(out, body);
    Some(())
}
