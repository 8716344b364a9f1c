//! Tool results as text written for a model (CONTRACT.md, "Over MCP").
//!
//! Each tool's rendering is a header line (what, how many, and the next-page cursor with
//! how to pass it) and then one line per item, fields in a fixed order named once in the
//! header, with nothing that can be derived from what is already shown (`full_name` in a
//! fixed workspace, web URLs that follow the workspace's pattern, empty descriptions,
//! `null`s). Files are numbered lines, search hits are grouped by file, commits read like
//! `git log`. Every other value of the JSON result is in the text: the end-to-end test
//! `tests/tests/e2e_mcp_text.rs` checks that on the sample workspace for every tool.
//!
//! A renderer returns `None` when the value does not have the shape it expects; the caller
//! then sends compact JSON, so an unexpected answer is never lost.

mod browse_repository;
mod get_commit;
mod get_pipeline;
mod get_pull_request;
mod list_branches;
mod list_commits;
mod list_pipelines;
mod list_pull_requests;
mod list_repositories;
pub mod read_file;
mod search_code;

use serde_json::{Map, Value};

/// The text of a tool's successful result, `None` for a tool (or a shape) without one.
pub fn render(tool: &str, value: &Value) -> Option<String> {
    let object = value.as_object()?;
    match tool {
        "list_repositories" => list_repositories::render(object),
        "browse_repository" => browse_repository::render(object),
        "read_file" => read_file::render(value),
        "search_code" => search_code::render(object),
        "list_commits" => list_commits::render(object),
        "get_commit" => get_commit::render(object),
        "list_pull_requests" => list_pull_requests::render(object),
        "list_pipelines" => list_pipelines::render(object),
        "list_branches" => list_branches::render(object),
        "get_pull_request" => get_pull_request::render(object),
        "get_pipeline" => get_pipeline::render(object),
        _ => None,
    }
}

/// Typed access to one JSON object; every getter is `None` on a wrong type, so that a
/// renderer gives up (and JSON is sent) rather than print something wrong.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a>(pub &'a Map<String, Value>);

impl<'a> Obj<'a> {
    pub fn of(value: &'a Value) -> Option<Obj<'a>> {
        value.as_object().map(Obj)
    }
    /// A required string.
    pub fn str(&self, key: &str) -> Option<&'a str> {
        self.0.get(key)?.as_str()
    }
    /// An optional string: `Some(None)` when absent or `null`.
    pub fn opt_str(&self, key: &str) -> Option<Option<&'a str>> {
        match self.0.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s)),
            Some(_) => None,
        }
    }
    pub fn u64(&self, key: &str) -> Option<u64> {
        self.0.get(key)?.as_u64()
    }
    pub fn opt_u64(&self, key: &str) -> Option<Option<u64>> {
        match self.0.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(v) => v.as_u64().map(Some),
        }
    }
    pub fn bool(&self, key: &str) -> Option<bool> {
        self.0.get(key)?.as_bool()
    }
    /// A list of objects.
    pub fn list(&self, key: &str) -> Option<Vec<Obj<'a>>> {
        self.0.get(key)?.as_array()?.iter().map(Obj::of).collect()
    }
    /// A list of strings.
    pub fn strings(&self, key: &str) -> Option<Vec<&'a str>> {
        self.0
            .get(key)?
            .as_array()?
            .iter()
            .map(Value::as_str)
            .collect()
    }
}

/// The end of a list's header: `last page`, or the cursor and how to pass it.
pub(crate) fn paging(o: Obj) -> Option<String> {
    Some(match o.opt_str("next_page")? {
        Some(cursor) => format!("more: call again with page=\"{cursor}\""),
        None => "last page".to_string(),
    })
}

/// An RFC 3339 time as Bitbucket gives it, with a `+00:00` offset written `Z` (the same
/// instant, 5 bytes shorter).
pub(crate) fn time(text: &str) -> String {
    match text.strip_suffix("+00:00") {
        Some(rest) => format!("{rest}Z"),
        None => text.to_string(),
    }
}

/// An optional value, `-` when absent.
pub(crate) fn or_dash(value: Option<&str>) -> &str {
    value.filter(|v| !v.is_empty()).unwrap_or("-")
}

/// `n thing` or `n things`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Appends a multi-line text below an item line, each line indented by four spaces (the
/// text's trailing line breaks dropped), as `git log` shows a message body.
pub(crate) fn push_indented(out: &mut String, text: &str) {
    for line in text.trim_end_matches(['\n', '\r']).lines() {
        out.push('\n');
        if !line.is_empty() {
            out.push_str("    ");
            out.push_str(line);
        }
    }
}

/// The common prefix of `urls` once each one's own `suffix` is removed, when every URL is
/// that prefix followed by its suffix: the pattern a header can state once.
pub(crate) fn url_pattern<'a>(pairs: &[(&'a str, String)]) -> Option<&'a str> {
    let (first, suffix) = pairs.first()?;
    let base = first.strip_suffix(suffix.as_str())?;
    pairs
        .iter()
        .all(|(url, suffix)| url.strip_suffix(suffix.as_str()) == Some(base))
        .then_some(base)
}

#[cfg(test)]
mod tests;
