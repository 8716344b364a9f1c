//! The `fields` partial-response filter (REFERENCE §3).
//!
//! A response is built in its *full* form; some paths are *hidden* by default (e.g.
//! `values.reviewers` in the pull request list). `fields` is a comma-separated list:
//! `-path` removes, `+path` adds (from the full form), a bare `path` whitelists (the result
//! then starts empty). `*` matches any key at its level; arrays are traversed transparently,
//! so `values.id` applies to every element of `values`. Entries apply in order, so
//! `-*,+foo` keeps only `foo`. An unescaped `+` arrives as a space and then matches nothing.

use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq)]
enum Op {
    Add,
    Remove,
    Only,
}

fn parse(spec: &str) -> Vec<(Op, Vec<String>)> {
    spec.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let (op, path) = match s.as_bytes()[0] {
                b'+' => (Op::Add, &s[1..]),
                b'-' => (Op::Remove, &s[1..]),
                _ => (Op::Only, s),
            };
            (op, path.split('.').map(str::to_string).collect())
        })
        .collect()
}

/// Paths (dot-separated) hidden from the default view, relative to the current node.
type Hidden = Vec<Vec<String>>;

fn hidden_below(hidden: &Hidden, key: &str) -> Hidden {
    hidden
        .iter()
        .filter(|h| h.first().is_some_and(|k| k == key || k == "*"))
        .map(|h| h[1..].to_vec())
        .collect()
}

/// `value` minus the hidden paths (the default view).
fn strip(value: &Value, hidden: &Hidden) -> Value {
    let hidden: Hidden = hidden.iter().filter(|h| !h.is_empty()).cloned().collect();
    if hidden.is_empty() {
        return value.clone();
    }
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| strip(v, &hidden)).collect()),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let below = hidden_below(&hidden, k);
                if below.iter().any(|h| h.is_empty()) {
                    continue;
                }
                out.insert(k.clone(), strip(v, &below));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// The node created for an intermediate path segment that is not in the result yet.
fn intermediate(src: &Value, op: &Op, hidden: &Hidden) -> Value {
    match (op, src) {
        (Op::Only, Value::Object(_)) => Value::Object(Map::new()),
        (Op::Only, Value::Array(items)) => {
            Value::Array(items.iter().map(|v| intermediate(v, op, hidden)).collect())
        }
        _ => strip(src, hidden),
    }
}

/// Merges `src` into `dst`: objects key by key (keeping what only `dst` has), arrays of the
/// same length element by element, anything else replaced.
fn merge(dst: &mut Value, src: Value) {
    match (dst, src) {
        (Value::Object(d), Value::Object(s)) => {
            for (k, v) in s {
                match d.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        d.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(d), Value::Array(s)) if d.len() == s.len() => {
            for (d, s) in d.iter_mut().zip(s) {
                merge(d, s);
            }
        }
        (dst, src) => *dst = src,
    }
}

fn add(dst: &mut Value, src: &Value, segs: &[String], op: &Op, hidden: &Hidden) {
    if segs.is_empty() {
        match op {
            // `+path` adds the default view of what is at `path`: paths hidden below it stay
            // hidden unless they are named too (in any order).
            Op::Add => merge(dst, strip(src, hidden)),
            _ => *dst = src.clone(),
        }
        return;
    }
    match src {
        Value::Array(items) => {
            let fits = matches!(dst, Value::Array(d) if d.len() == items.len());
            if !fits {
                *dst = intermediate(src, op, hidden);
            }
            if let Value::Array(d) = dst {
                for (d, s) in d.iter_mut().zip(items) {
                    add(d, s, segs, op, hidden);
                }
            }
        }
        Value::Object(map) => {
            if !dst.is_object() {
                *dst = Value::Object(Map::new());
            }
            let keys: Vec<&String> = if segs[0] == "*" {
                map.keys().collect()
            } else {
                map.keys().filter(|k| **k == segs[0]).collect()
            };
            let out = dst.as_object_mut().expect("object");
            for k in keys {
                let below = hidden_below(hidden, k);
                let child = out
                    .entry(k.clone())
                    .or_insert_with(|| intermediate(&map[k], op, &below));
                add(child, &map[k], &segs[1..], op, &below);
            }
        }
        _ => {}
    }
}

fn remove(dst: &mut Value, segs: &[String]) {
    match dst {
        Value::Array(items) => items.iter_mut().for_each(|v| remove(v, segs)),
        Value::Object(map) => {
            let last = segs.len() == 1;
            if segs[0] == "*" {
                if last {
                    map.clear();
                } else {
                    map.values_mut().for_each(|v| remove(v, &segs[1..]));
                }
            } else if last {
                map.remove(&segs[0]);
            } else if let Some(v) = map.get_mut(&segs[0]) {
                remove(v, &segs[1..]);
            }
        }
        _ => {}
    }
}

/// Applies `fields` (decoded; `None` = absent) to a full response whose `hidden` paths
/// (dot-separated, e.g. `values.reviewers`) are left out of the default view.
pub fn apply(full: &Value, hidden: &[&str], fields: Option<&str>) -> Value {
    let hidden: Hidden = hidden
        .iter()
        .map(|h| h.split('.').map(str::to_string).collect())
        .collect();
    let entries = match fields {
        None => return strip(full, &hidden),
        Some(f) => parse(f),
    };
    let mut result = if entries.iter().any(|(op, _)| *op == Op::Only) {
        Value::Object(Map::new())
    } else {
        strip(full, &hidden)
    };
    for (op, segs) in &entries {
        match op {
            Op::Remove => remove(&mut result, segs),
            _ => add(&mut result, full, segs, op, &hidden),
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page() -> Value {
        json!({
            "pagelen": 10,
            "next": "http://x/?page=2",
            "values": [
                {"id": 1, "title": "a", "links": {"self": {"href": "s1"}, "html": {"href": "h1"}},
                 "reviewers": [{"nickname": "bob", "uuid": "{b}"}], "participants": []},
                {"id": 2, "title": "b", "links": {"self": {"href": "s2"}, "html": {"href": "h2"}},
                 "reviewers": [], "participants": [{"role": "PARTICIPANT"}]}
            ]
        })
    }

    const HIDDEN: &[&str] = &["values.reviewers", "values.participants"];

    #[test]
    fn default_view_hides() {
        let v = apply(&page(), HIDDEN, None);
        assert!(v["values"][0].get("reviewers").is_none());
        assert_eq!(v["values"][0]["title"], "a");
        assert_eq!(v["pagelen"], 10);
    }

    #[test]
    fn plus_adds_hidden_fields() {
        let v = apply(
            &page(),
            HIDDEN,
            Some("+values.reviewers,+values.participants"),
        );
        assert_eq!(v["values"][0]["reviewers"][0]["nickname"], "bob");
        assert_eq!(v["values"][1]["participants"][0]["role"], "PARTICIPANT");
        assert_eq!(v["values"][1]["title"], "b");
    }

    #[test]
    fn minus_removes_and_wildcard_empties() {
        let v = apply(&page(), HIDDEN, Some("-values.links.*,-pagelen"));
        assert_eq!(v["values"][0]["links"], json!({}));
        assert!(v.get("pagelen").is_none());
        assert!(v.get("next").is_some());
    }

    #[test]
    fn whitelist_keeps_only_what_is_asked() {
        let v = apply(
            &page(),
            HIDDEN,
            Some("values.id,values.links.self.href,values.reviewers.nickname"),
        );
        assert_eq!(
            v,
            json!({"values": [
                {"id": 1, "links": {"self": {"href": "s1"}}, "reviewers": [{"nickname": "bob"}]},
                {"id": 2, "links": {"self": {"href": "s2"}}, "reviewers": []}
            ]})
        );
    }

    #[test]
    fn minus_star_then_plus() {
        let v = apply(&page(), HIDDEN, Some("-*,+next"));
        assert_eq!(v, json!({"next": "http://x/?page=2"}));
    }

    #[test]
    fn unescaped_plus_matches_nothing() {
        // `+values.reviewers` sent with a raw `+` decodes to a leading space.
        let v = apply(&page(), HIDDEN, Some(" values.reviewers"));
        assert_eq!(v, json!({}));
    }

    #[test]
    fn star_adds_everything() {
        let v = apply(&page(), HIDDEN, Some("*"));
        assert_eq!(v, page());
    }

    #[test]
    fn adding_below_a_hidden_object_brings_its_default_view() {
        let full = json!({"values": [{"file": {"path": "a", "commit": {"hash": "h", "repository": {"slug": "r", "name": "R"}}}}]});
        let hidden = ["values.file.commit", "values.file.commit.repository"];
        let d = apply(&full, &hidden, None);
        assert_eq!(d, json!({"values": [{"file": {"path": "a"}}]}));
        let v = apply(&full, &hidden, Some("+values.file.commit.repository"));
        assert_eq!(v, full);
        let v = apply(&full, &hidden, Some("+values.file.commit.repository.slug"));
        assert_eq!(
            v,
            json!({"values": [{"file": {"path": "a", "commit": {"hash": "h", "repository": {"slug": "r", "name": "R"}}}}]})
        );
    }

    #[test]
    fn adding_a_hidden_object_keeps_what_is_hidden_below_it() {
        let full = json!({"values": [{"file": {"path": "a", "commit": {"hash": "h",
            "repository": {"slug": "r", "mainbranch": {"type": "branch", "name": "main"}}}}}]});
        let hidden = [
            "values.file.commit",
            "values.file.commit.repository",
            "values.file.commit.repository.mainbranch",
        ];
        let repo = json!({"values": [{"file": {"path": "a", "commit": {"hash": "h", "repository": {"slug": "r"}}}}]});
        let v = apply(&full, &hidden, Some("+values.file.commit.repository"));
        assert_eq!(v, repo);
        for fields in [
            "+values.file.commit.repository,+values.file.commit.repository.mainbranch.name",
            "+values.file.commit.repository.mainbranch.name,+values.file.commit.repository",
        ] {
            let v = apply(&full, &hidden, Some(fields));
            assert_eq!(v, full, "{fields}");
        }
    }
}
