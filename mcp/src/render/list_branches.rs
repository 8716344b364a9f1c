//! `list_branches`: one line per branch, its head commit as `list_commits` shows one, the
//! main branch marked `*`.
//!
//! ```text
//! 2 branches, newest head commit first (name commit date author: subject; * the main branch); last page
//! * main 8371578a0b6f3a0e4d43c7b9f3f4e1d2c3b4a596 2024-01-09T01:00:00+01:00 Alice Anders <alice@acme.example>: Improve gears
//! feature/login 1f2e3d4c5b6a79880716253443526170819a0b1c 2024-01-08T09:00:00Z Bob Baker <bob@acme.example>: Add login
//! ```

use serde_json::{Map, Value};

use super::{Obj, count, paging, time};

pub fn render(object: &Map<String, Value>) -> Option<String> {
    let o = Obj(object);
    let branches = o.list("branches")?;
    let mut out = format!(
        "{}, newest head commit first (name commit date author: subject; * the main branch); {}",
        count(branches.len(), "branch", "branches"),
        paging(o)?
    );
    for b in &branches {
        out.push_str(&format!(
            "\n{}{} {} {} {}: {}",
            if b.bool("is_default")? { "* " } else { "" },
            b.str("name")?,
            b.str("commit")?,
            time(b.str("date")?),
            b.str("author")?,
            b.str("message")?
                .trim_end_matches(['\n', '\r'])
                .replace('\n', " "),
        ));
    }
    Some(out)
}
