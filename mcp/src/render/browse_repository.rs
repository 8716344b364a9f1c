//! `browse_repository`: one line per entry, its name relative to the directory listed.
//!
//! ```text
//! acme/widgets at main, src/: 3 entries (files with their size in bytes, directories end in /); last page
//! widgets/
//! lib.rs 58
//! main.rs 45
//! ```

use serde_json::{Map, Value};

use super::{Obj, count, paging};

pub fn render(object: &Map<String, Value>) -> Option<String> {
    let o = Obj(object);
    let (repo, reference, path) = (o.str("repo")?, o.str("ref")?, o.str("path")?);
    let entries = o.list("entries")?;
    let dir = path.trim_end_matches('/');
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut out = format!(
        "{repo} at {reference}, {}: {} (files with their size in bytes, directories end in /); {}",
        if dir.is_empty() { "/" } else { &prefix },
        count(entries.len(), "entry", "entries"),
        paging(o)?
    );
    for e in &entries {
        let full = e.str("path")?;
        let name = full.strip_prefix(prefix.as_str()).unwrap_or(full);
        out.push('\n');
        out.push_str(name);
        match (e.str("type")?, e.opt_u64("size")?) {
            ("directory", None) => out.push('/'),
            ("directory", Some(size)) => out.push_str(&format!("/ {size}")),
            ("file", Some(size)) => out.push_str(&format!(" {size}")),
            ("file", None) => out.push_str(" ?"),
            _ => return None,
        }
    }
    Some(out)
}
