//! The check that an MCP text rendering loses nothing: every value of a tool's JSON result
//! appears in the text, in the part of it that belongs to its item, unless the value is
//! derivable from what the text shows (and then the derivation is checked to hold).

use serde_json::{Map, Value};

/// A top-level array of the result, and for each item the text its first line starts with.
pub type ListRule = (&'static str, fn(&Value) -> String);

/// A value that follows from others (see [`Rules::derived`]).
pub type DerivedRule =
    fn(field: &str, item: &Value, result: &Value, block: &str, text: &str) -> Option<bool>;

/// How one tool's result maps onto its text.
pub struct Rules {
    /// The top-level arrays whose items each have their own block of lines, and for each the
    /// text that the item's first line starts with.
    pub lists: &'static [ListRule],
    /// A value the text need not show because it follows from others: `Some(true)` when
    /// `field` of `item` is derivable (the rule checks that the derivation holds against the
    /// whole result, the item's block and the whole text), `None` to check it normally.
    pub derived:
        fn(field: &str, item: &Value, result: &Value, block: &str, text: &str) -> Option<bool>,
    /// Booleans: the field and the word the block holds when it is true and when it is
    /// false (`""`: the word of the true case is absent).
    pub bools: &'static [(&'static str, &'static str, &'static str)],
}

/// No value is derived.
pub fn nothing_derived(_: &str, _: &Value, _: &Value, _: &str, _: &str) -> Option<bool> {
    None
}

/// The values of `result` missing from `text`, as `path: value` descriptions.
pub fn missing(result: &Value, text: &str, rules: &Rules) -> Vec<String> {
    let mut out = Vec::new();
    let Some(top) = result.as_object() else {
        return vec![format!("the result is not an object: {result}")];
    };
    for (key, value) in top {
        match rules.lists.iter().find(|(k, _)| k == key) {
            Some((_, start)) => {
                let items = value.as_array().cloned().unwrap_or_default();
                let starts: Vec<String> = items.iter().map(start).collect();
                let blocks = blocks(text, &starts);
                for (i, (item, block)) in items.iter().zip(blocks).enumerate() {
                    match block {
                        Some(block) => check_object(
                            &format!("{key}[{i}]"),
                            item,
                            result,
                            &block,
                            text,
                            rules,
                            &mut out,
                        ),
                        None => {
                            out.push(format!("{key}[{i}]: no line starts with {:?}", starts[i]))
                        }
                    }
                }
            }
            None => {
                let mut one = Map::new();
                one.insert(key.clone(), value.clone());
                check_object("", &Value::Object(one), result, text, text, rules, &mut out);
            }
        }
    }
    out
}

/// The block of lines of each item: from the first line (after the previous block) that
/// starts with the item's start text, to the line before the next item's block.
fn blocks(text: &str, starts: &[String]) -> Vec<Option<String>> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut found: Vec<Option<usize>> = Vec::new();
    let mut from = 1;
    for start in starts {
        // A right-aligned number (a file's line numbers) may be padded with spaces.
        let numbered = start.starts_with(|c: char| c.is_ascii_digit());
        let at = (from..lines.len()).find(|&i| {
            lines[i].starts_with(start.as_str())
                || (numbered && lines[i].trim_start_matches(' ').starts_with(start.as_str()))
        });
        if let Some(at) = at {
            from = at + 1;
        }
        found.push(at);
    }
    (0..starts.len())
        .map(|i| {
            let begin = found[i]?;
            let end = found[i + 1..]
                .iter()
                .flatten()
                .next()
                .copied()
                .unwrap_or(lines.len());
            Some(lines[begin..end].join("\n"))
        })
        .collect()
}

fn check_object(
    path: &str,
    item: &Value,
    result: &Value,
    block: &str,
    text: &str,
    rules: &Rules,
    out: &mut Vec<String>,
) {
    let Some(fields) = item.as_object() else {
        check_leaf(path, item, block, out);
        return;
    };
    for (field, value) in fields {
        let here = if path.is_empty() {
            field.clone()
        } else {
            format!("{path}.{field}")
        };
        match (rules.derived)(field, item, result, block, text) {
            Some(true) => continue,
            Some(false) => {
                out.push(format!(
                    "{here}: declared derivable, but the derivation does not hold"
                ));
                continue;
            }
            None => {}
        }
        if let (Some(flag), Some((_, yes, no))) = (
            value.as_bool(),
            rules.bools.iter().find(|(f, _, _)| f == field),
        ) {
            let ok = match (flag, no.is_empty()) {
                (true, _) => block.contains(yes),
                (false, true) => !block.contains(yes),
                (false, false) => block.contains(no),
            };
            if !ok {
                out.push(format!("{here}: {flag} is not shown ({yes:?}/{no:?})"));
            }
            continue;
        }
        match value {
            Value::Array(values) => {
                for (i, v) in values.iter().enumerate() {
                    if v.is_object() {
                        check_object(&format!("{here}[{i}]"), v, result, block, text, rules, out);
                    } else {
                        check_leaf(&format!("{here}[{i}]"), v, block, out);
                    }
                }
            }
            Value::Object(_) => check_object(&here, value, result, block, text, rules, out),
            leaf => check_leaf(&here, leaf, block, out),
        }
    }
}

fn check_leaf(path: &str, value: &Value, block: &str, out: &mut Vec<String>) {
    match value {
        Value::Null => {}
        Value::String(s) => {
            let s = time_form(s);
            for line in s.trim_end_matches(['\n', '\r']).split('\n') {
                if !line.is_empty() && !block.contains(line) {
                    out.push(format!("{path}: {line:?} is not in {block:?}"));
                    return;
                }
            }
        }
        Value::Number(n) => {
            if !contains_number(block, &n.to_string()) {
                out.push(format!("{path}: {n} is not in {block:?}"));
            }
        }
        Value::Bool(b) => out.push(format!("{path}: a boolean ({b}) without a rule")),
        other => out.push(format!("{path}: unexpected {other}")),
    }
}

/// A `+00:00` offset is shown as `Z` (the same instant).
pub fn time_form(s: &str) -> String {
    let looks_like_time = s.len() >= 20 && s.as_bytes().get(10) == Some(&b'T');
    match s.strip_suffix("+00:00") {
        Some(rest) if looks_like_time => format!("{rest}Z"),
        _ => s.to_string(),
    }
}

/// Whether `digits` occurs in `text` not as part of a longer number.
pub fn contains_number(text: &str, digits: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices(digits).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + digits.len()).copied();
        !before.is_some_and(|b| b.is_ascii_digit()) && !after.is_some_and(|b| b.is_ascii_digit())
    })
}
