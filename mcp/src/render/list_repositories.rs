//! `list_repositories`: one line per repository.
//!
//! ```text
//! acme: 2 repositories, most recently updated first; last page
//! slug language main-branch [public] updated [name:] description; private unless marked public; web page https://bitbucket.org/acme/<slug>
//! widgets rust main 2024-05-20T10:00:00.654321Z Widgets for the Acme platform.
//! empty-repo - - public 2025-02-03T04:05:06.000777Z
//! ```
//!
//! `full_name` is `workspace/slug` (the workspace is in the header), the name is shown
//! only where it differs from the slug, the web page only where it does not follow the
//! header's pattern, and the visibility only for public repositories (workspaces are
//! mostly private; the marker stands between the branch and the time, so it cannot be
//! mistaken for a word of the description).

use serde_json::{Map, Value};

use super::{Obj, count, or_dash, paging, push_indented, time, url_pattern};

pub fn render(object: &Map<String, Value>) -> Option<String> {
    let o = Obj(object);
    let repos = o.list("repositories")?;
    let workspace = match repos.first() {
        Some(r) => r.str("full_name")?.split_once('/')?.0,
        None => "",
    };
    let pairs: Vec<(&str, String)> = repos
        .iter()
        .map(|r| Some((r.str("url")?, format!("/{}", r.str("full_name")?))))
        .collect::<Option<_>>()?;
    let web = url_pattern(&pairs);
    let mut out = format!(
        "{}: {}, most recently updated first; {}\nslug language main-branch [public] updated [name:] description; private unless marked public",
        if workspace.is_empty() {
            "workspace"
        } else {
            workspace
        },
        count(repos.len(), "repository", "repositories"),
        paging(o)?
    );
    if let Some(base) = web {
        out.push_str(&format!("; web page {base}/{workspace}/<slug>"));
    }
    for r in &repos {
        let (slug, full_name, name) = (r.str("slug")?, r.str("full_name")?, r.str("name")?);
        out.push('\n');
        if full_name != format!("{workspace}/{slug}") {
            out.push_str(full_name);
        } else {
            out.push_str(slug);
        }
        out.push(' ');
        out.push_str(or_dash(Some(r.str("language")?)));
        out.push(' ');
        out.push_str(or_dash(r.opt_str("default_branch")?));
        if !r.bool("is_private")? {
            out.push_str(" public");
        }
        out.push(' ');
        out.push_str(&time(r.str("updated_on")?));
        let description = r.str("description")?.trim_end_matches(['\n', '\r']);
        if name != slug {
            out.push_str(&format!(" {name}:"));
        }
        let (first, rest) = description.split_once('\n').unwrap_or((description, ""));
        if !first.is_empty() {
            out.push(' ');
            out.push_str(first);
        }
        if web.is_none() {
            out.push(' ');
            out.push_str(r.str("url")?);
        }
        push_indented(&mut out, rest);
    }
    Some(out)
}
