//! `GET /workspaces/{workspace}/search/code?search_query=…` (REFERENCE §11): searches the
//! main branch of every repository the viewer can see. Terms are matched as
//! case-insensitive substrings and must all occur in a file (in its content or path);
//! `"quoted phrases"` are one term; modifiers `repo:SLUG`, `path:TEXT` and `ext:EXT`
//! narrow the files. Results are ordered by repository slug, then path.

use super::Ctx;
use crate::faults::SearchMode;
use crate::http::Reply;
use crate::json;
use crate::model::is_binary;
use crate::paging::{self, Limits};
use serde_json::{Value, json};

/// The search's paging limits.
pub const LIMITS: Limits = Limits::new(10, 100);

/// Fields left out of each result unless asked for (`+values.file.commit.repository`). The
/// repository is the condensed one; fields beyond it, such as its main branch, come only when
/// named (`+values.file.commit.repository.mainbranch.name`, as Backstage asks, REFERENCE §11).
pub const HIDDEN: &[&str] = &[
    "values.file.commit",
    "values.file.commit.repository",
    "values.file.commit.repository.mainbranch",
];

/// A parsed search query.
#[derive(Debug, Default, PartialEq)]
pub struct SearchQuery {
    /// Lower-case terms that must all occur.
    pub terms: Vec<String>,
    /// `repo:` slugs (any of them).
    pub repos: Vec<String>,
    /// `path:` substrings (all of them).
    pub paths: Vec<String>,
    /// `ext:` extensions (any of them).
    pub exts: Vec<String>,
}

/// Parses a search query.
pub fn parse_query(q: &str) -> SearchQuery {
    let mut out = SearchQuery::default();
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in q.chars() {
        match ch {
            '"' => {
                if quoted && !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                quoted = !quoted;
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    for w in words {
        let lw = w.to_lowercase();
        if let Some(r) = lw.strip_prefix("repo:") {
            out.repos
                .push(r.rsplit('/').next().unwrap_or(r).to_string());
        } else if let Some(p) = lw.strip_prefix("path:") {
            out.paths.push(p.trim_start_matches('/').to_string());
        } else if let Some(e) = lw.strip_prefix("ext:") {
            out.exts.push(e.trim_start_matches('.').to_string());
        } else if lw.strip_prefix("lang:").is_some() {
            // Accepted and ignored.
        } else {
            out.terms.push(lw);
        }
    }
    out
}

/// Splits `text` into segments, marking case-insensitive occurrences of `terms`; returns
/// the segments and the number of occurrences.
fn segments(text: &str, terms: &[String]) -> (Vec<Value>, usize) {
    let lower = text.to_ascii_lowercase();
    let mut marks: Vec<(usize, usize)> = Vec::new();
    for t in terms {
        let t = t.to_ascii_lowercase();
        if t.is_empty() {
            continue;
        }
        let mut from = 0;
        while let Some(i) = lower[from..].find(&t) {
            marks.push((from + i, from + i + t.len()));
            from += i + t.len();
        }
    }
    marks.sort();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for m in marks {
        match merged.last_mut() {
            Some(last) if m.0 <= last.1 => last.1 = last.1.max(m.1),
            _ => merged.push(m),
        }
    }
    let count = merged.len();
    let mut segs = Vec::new();
    let mut pos = 0;
    for (s, e) in merged {
        if s > pos {
            segs.push(json!({"text": &text[pos..s]}));
        }
        segs.push(json!({"text": &text[s..e], "match": true}));
        pos = e;
    }
    if pos < text.len() && count > 0 {
        segs.push(json!({"text": &text[pos..]}));
    }
    (segs, count)
}

fn context(text: &str) -> Value {
    if text.is_empty() {
        json!({"segments": []})
    } else {
        json!({"segments": [{"text": text}]})
    }
}

/// The search result for one file, if it matches.
fn file_result(
    q: &SearchQuery,
    path: &str,
    content: &[u8],
) -> Option<(Vec<Value>, usize, Vec<Value>)> {
    if is_binary(content) {
        return None;
    }
    let text = String::from_utf8_lossy(content);
    let lower_text = text.to_lowercase();
    let lower_path = path.to_lowercase();
    if !q
        .terms
        .iter()
        .all(|t| lower_text.contains(t) || lower_path.contains(t))
    {
        return None;
    }
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let hits: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.to_lowercase();
            q.terms.iter().any(|t| l.contains(t))
        })
        .map(|(i, _)| i)
        .collect();
    let mut blocks: Vec<(usize, usize)> = Vec::new();
    for &h in &hits {
        let (s, e) = (h.saturating_sub(1), (h + 1).min(lines.len() - 1));
        match blocks.last_mut() {
            Some(last) if s <= last.1 + 1 => last.1 = e,
            _ => blocks.push((s, e)),
        }
    }
    let mut total = 0;
    let matches = blocks
        .iter()
        .map(|&(s, e)| {
            let lines: Vec<Value> = (s..=e)
                .map(|i| {
                    let (segs, n) = segments(lines[i], &q.terms);
                    total += n;
                    let mut v = if n > 0 {
                        json!({"segments": segs})
                    } else {
                        context(lines[i])
                    };
                    v["line"] = json!(i + 1);
                    v
                })
                .collect();
            json!({"lines": lines})
        })
        .collect();
    let (path_segs, path_hits) = segments(path, &q.terms);
    let path_matches = if path_hits > 0 { path_segs } else { Vec::new() };
    Some((matches, total, path_matches))
}

/// Answers a code search.
pub fn code(ctx: &Ctx) -> Reply {
    match ctx.search {
        SearchMode::Enabled => {}
        SearchMode::Disabled => return Reply::error(404, json::SEARCH_NOT_ENABLED),
        SearchMode::Forbidden => return Reply::error(403, "Forbidden"),
    }
    if let Err(r) = paging::pagelen(ctx.req, LIMITS) {
        return r;
    }
    let raw = ctx.req.query.get("search_query").unwrap_or("").trim();
    let q = parse_query(raw);
    if q.terms.is_empty() && q.paths.is_empty() {
        return Reply::json(
            400,
            &json!({"type": "error", "error": {"message": "Bad request", "detail": "search_query is missing or empty", "data": {"key": "search.query.invalid"}}}),
        );
    }
    let mut repos: Vec<_> = ctx
        .ws
        .repositories
        .iter()
        .filter(|r| ctx.viewer.can_see(r))
        .filter(|r| q.repos.is_empty() || q.repos.contains(&r.slug.to_lowercase()))
        .collect();
    repos.sort_by(|a, b| a.slug.cmp(&b.slug));
    let mut items = Vec::new();
    for repo in repos {
        let Some(head) = repo.main_head() else {
            continue;
        };
        for (path, content) in head.tree.iter() {
            let lp = path.to_lowercase();
            if !q.paths.iter().all(|p| lp.contains(p.as_str())) {
                continue;
            }
            if !q.exts.is_empty() && !q.exts.iter().any(|e| lp.ends_with(&format!(".{e}"))) {
                continue;
            }
            let Some((matches, count, path_matches)) = file_result(&q, path, content) else {
                continue;
            };
            let mut file = ctx.links.file(ctx.ws, repo, &head.hash, path, content);
            let mut repository = ctx.links.repo_condensed(ctx.ws, repo);
            repository["mainbranch"] = json!(
                repo.mainbranch
                    .as_ref()
                    .map(|m| json!({"type": "branch", "name": m}))
            );
            let commit = json!({
                "type": "commit",
                "hash": head.hash,
                "links": file["commit"]["links"].clone(),
                "repository": repository,
            });
            file = json!({
                "path": path,
                "type": "commit_file",
                "links": {"self": file["links"]["self"].clone()},
                "commit": commit,
            });
            items.push(json!({
                "type": "code_search_result",
                "content_match_count": count,
                "content_matches": matches,
                "path_matches": path_matches,
                "file": file,
            }));
        }
    }
    match paging::list_page(ctx.origin, ctx.req, items, LIMITS) {
        Ok(mut page) => {
            page["query_substituted"] = json!(false);
            ctx.ok(&page, HIDDEN)
        }
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_modifiers_and_phrases() {
        let q = parse_query("Frobnicate repo:acme/widgets \"lazy dog\" ext:rs path:src/");
        assert_eq!(
            q.terms,
            vec!["frobnicate".to_string(), "lazy dog".to_string()]
        );
        assert_eq!(q.repos, vec!["widgets".to_string()]);
        assert_eq!(q.exts, vec!["rs".to_string()]);
        assert_eq!(q.paths, vec!["src/".to_string()]);
    }

    #[test]
    fn marks_matches_in_segments() {
        let (s, n) = segments("def Foo(): foo", &["foo".into()]);
        assert_eq!(n, 2);
        assert_eq!(
            s,
            vec![
                json!({"text": "def "}),
                json!({"text": "Foo", "match": true}),
                json!({"text": "(): "}),
                json!({"text": "foo", "match": true}),
            ]
        );
    }

    #[test]
    fn groups_lines_with_context() {
        let q = parse_query("frobnicate");
        let content = b"a\n\nfrobnicate(x)\nb\nc\nd\nfrobnicate\n";
        let (m, count, path) = file_result(&q, "x.py", content).unwrap();
        assert_eq!(count, 2);
        assert!(path.is_empty());
        assert_eq!(m.len(), 2);
        let first: Vec<u64> = m[0]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["line"].as_u64().unwrap())
            .collect();
        assert_eq!(first, vec![2, 3, 4]);
        assert_eq!(m[0]["lines"][0]["segments"], json!([]));
        assert_eq!(m[0]["lines"][1]["segments"][0]["match"], true);
    }
}
