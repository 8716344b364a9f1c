//! `list_pull_requests`: one line per pull request, the free-text fields last and
//! separated by ` | `.
//!
//! ```text
//! 1 pull request, most recently updated first (id state source -> destination created updated comments | author | reviewers, ✓ approved, ✗ changes requested | title); web page https://bitbucket.org/acme/widgets/pull-requests/<id>; last page
//! #56 MERGED feature/wid-56 -> main 2024-04-01T10:00:00.000001Z 2024-04-02T11:00:00.000002Z 3 | Carol Chen | Alice Anders ✓, Bob Baker | Fix gear ratios
//! ```

use serde_json::{Map, Value};

use super::{Obj, count, or_dash, paging, time, url_pattern};

pub fn render(object: &Map<String, Value>) -> Option<String> {
    let o = Obj(object);
    let prs = o.list("pull_requests")?;
    let pairs: Vec<(&str, String)> = prs
        .iter()
        .map(|p| Some((p.str("url")?, format!("/{}", p.u64("id")?))))
        .collect::<Option<_>>()?;
    let web = url_pattern(&pairs);
    let mut out = format!(
        "{}, most recently updated first (id state source -> destination created updated comments | author | reviewers, ✓ approved, ✗ changes requested | title)",
        count(prs.len(), "pull request", "pull requests"),
    );
    if let Some(base) = web {
        out.push_str(&format!("; web page {base}/<id>"));
    }
    out.push_str("; ");
    out.push_str(&paging(o)?);
    for p in &prs {
        let reviewers = reviewers(*p)?;
        let state = state(*p)?;
        out.push_str(&format!(
            "\n#{} {} {} -> {} {} {} {} | {} | {} | {}",
            p.u64("id")?,
            state,
            p.str("source_branch")?,
            p.str("destination_branch")?,
            time(p.str("created_on")?),
            time(p.str("updated_on")?),
            p.u64("comment_count")?,
            p.str("author")?,
            or_dash(Some(&reviewers)),
            p.str("title")?,
        ));
        if web.is_none() {
            out.push(' ');
            out.push_str(p.str("url")?);
        }
    }
    Some(out)
}

/// The state, `OPEN(draft)` for a draft (also get_pull_request's).
pub(crate) fn state(p: Obj) -> Option<String> {
    Some(match p.0.get("draft").and_then(Value::as_bool) {
        Some(true) => format!("{}(draft)", p.str("state")?),
        _ => p.str("state")?.to_string(),
    })
}

/// The reviewers, each marked `✓` when they approved and `✗` when they requested changes,
/// then anyone else who approved or requested changes.
fn reviewers(p: Obj) -> Option<String> {
    let listed = p.strings("reviewers")?;
    let optional = |key: &str| match p.0.get(key) {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(_) => p.strings(key),
    };
    let (approved, changes) = (optional("approved_by")?, optional("changes_requested_by")?);
    let mut names: Vec<&str> = listed.clone();
    for name in approved.iter().chain(&changes) {
        if !names.contains(name) {
            names.push(name);
        }
    }
    let marked: Vec<String> = names
        .iter()
        .map(|name| {
            let mut s = (*name).to_string();
            if approved.contains(name) {
                s.push_str(" ✓");
            }
            if changes.contains(name) {
                s.push_str(" ✗");
            }
            s
        })
        .collect();
    Some(marked.join(", "))
}
