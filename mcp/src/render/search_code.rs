//! `search_code`: the hits grouped by file, each file's matching lines below it.
//!
//! ```text
//! code search in acme: 2 files (repo:path, then line: text); last page
//! widgets:src/widgets/gears/spur.rs
//!   4: pub fn frobnicate(x: u32) -> u32 {
//! legacy-app:app/utils.py
//!   4: def frobnicate(value):
//!   11:     return frobnicate(frobnicate(value))
//! ```

use serde_json::{Map, Value};

use super::{Obj, count, paging};

pub fn render(object: &Map<String, Value>) -> Option<String> {
    let o = Obj(object);
    let results = o.list("results")?;
    let workspace = match results.first() {
        Some(r) => r.str("repo")?.split_once('/')?.0,
        None => "",
    };
    let mut out = format!(
        "code search in {}: {} (repo:path, then line: text); {}",
        if workspace.is_empty() {
            "the workspace"
        } else {
            workspace
        },
        count(results.len(), "file", "files"),
        paging(o)?
    );
    for r in &results {
        let repo = r.str("repo")?;
        let short = repo
            .strip_prefix(workspace)
            .and_then(|s| s.strip_prefix('/'))
            .unwrap_or(repo);
        out.push('\n');
        out.push_str(&format!("{short}:{}", r.str("path")?));
        for m in r.list("matches")? {
            out.push_str(&format!("\n  {}: {}", m.u64("line")?, m.str("text")?));
        }
    }
    Some(out)
}
