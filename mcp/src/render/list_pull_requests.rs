//! `list_pull_requests`: one line per pull request, the free-text fields last and
//! separated by ` | `.
//!
//! ```text
//! 1 pull request, most recently updated first (id state source -> destination created updated comments | author | reviewers | title); web page https://bitbucket.org/acme/widgets/pull-requests/<id>; last page
//! #56 MERGED feature/wid-56 -> main 2024-04-01T10:00:00.000001Z 2024-04-02T11:00:00.000002Z 3 | Carol Chen | Alice Anders, Bob Baker | Fix gear ratios
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
        "{}, most recently updated first (id state source -> destination created updated comments | author | reviewers | title)",
        count(prs.len(), "pull request", "pull requests"),
    );
    if let Some(base) = web {
        out.push_str(&format!("; web page {base}/<id>"));
    }
    out.push_str("; ");
    out.push_str(&paging(o)?);
    for p in &prs {
        let reviewers = p.strings("reviewers")?.join(", ");
        out.push_str(&format!(
            "\n#{} {} {} -> {} {} {} {} | {} | {} | {}",
            p.u64("id")?,
            p.str("state")?,
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
