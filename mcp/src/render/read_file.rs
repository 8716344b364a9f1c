//! `read_file`: a header line, then the lines numbered as `  12| text` (the text exactly as
//! in the file: tabs, trailing spaces and all).
//!
//! ```text
//! acme/widgets at main, src/main.rs: lines 1-3 of 3, 45 bytes
//! 1| fn main() {
//! 2|     println!("widgets");
//! 3| }
//! ```

use serde_json::Value;

use super::Obj;

/// `None` when the value does not have the expected shape (the caller falls back to JSON).
pub fn render(v: &Value) -> Option<String> {
    let o = Obj::of(v)?;
    let (repo, reference, path) = (o.str("repo")?, o.str("ref")?, o.str("path")?);
    let (binary, truncated) = (o.bool("binary")?, o.bool("truncated")?);
    let (start, end, size) = (o.u64("start_line")?, o.u64("end_line")?, o.u64("size")?);
    let total = o.opt_u64("total_lines")?;
    let lines: Vec<(u64, &str)> = o
        .list("lines")?
        .iter()
        .map(|l| Some((l.u64("number")?, l.str("text")?)))
        .collect::<Option<_>>()?;

    let of_total = match total {
        Some(t) => format!("of {t}"),
        None => "of ? (too large to count)".to_string(),
    };
    let mut out = format!("{repo} at {reference}, {path}: ");
    if binary {
        out.push_str(&format!("a binary file of {size} bytes, no text shown"));
    } else if lines.is_empty() {
        out.push_str(&format!(
            "no lines returned from line {start} (the file has {} lines, {size} bytes)",
            of_total.trim_start_matches("of ")
        ));
    } else {
        out.push_str(&format!("lines {start}-{end} {of_total}, {size} bytes"));
    }
    if truncated {
        out.push_str(&format!(
            "; truncated at the 100 KB cap: continue with start_line={}",
            end + 1
        ));
    }
    let width = lines
        .iter()
        .map(|(number, _)| number.to_string().len())
        .max()
        .unwrap_or(1);
    for (number, text) in lines {
        out.push('\n');
        out.push_str(&format!("{number:>width$}| {text}"));
    }
    Some(out)
}
