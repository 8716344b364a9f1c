//! The doc-comment convention of the WIT functions, and its parser.
//!
//! Every exported function's doc comment has three parts, in this order:
//!
//! ```text
//! /// # Read a file
//! ///
//! /// A file's text with 1-based line numbers. ... (the tool description, one or more
//! /// paragraphs)
//! ///
//! /// - `repo`: `slug` or `workspace/slug`; ...
//! /// - `limit` (1..=100; default 30): entries per page.
//! /// - `state` (one of `OPEN`, `MERGED`; default `OPEN`): which pull requests to list.
//! ///   A continuation line is indented by two spaces.
//! ```
//!
//! 1. a heading `# Title`: the tool's title, as written;
//! 2. the description: every line up to the first parameter bullet;
//! 3. one bullet per parameter, in any order: `` - `name`: text `` or
//!    `` - `name` (constraints): text ``. Constraints are separated by `; ` and each is one of
//!    `MIN..=MAX` or `MIN..` (an integer range), `default VALUE` (a literal default: a JSON
//!    number or boolean, else a string), `one of A, B, C` (the allowed values of a string, or
//!    of each item of a list).
//!
//! Parsing is strict: a missing title, a parameter without a bullet, a bullet for no
//! parameter, an unknown constraint or text after the bullets is an error, so a WIT change
//! that breaks the convention fails the build instead of producing a schema cut in the
//! wrong place.

use serde_json::Value;

/// A function's doc comment, taken apart.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionDoc {
    /// The heading's text.
    pub title: String,
    /// The paragraphs between the heading and the bullets, joined into one line.
    pub description: String,
    /// The parameter bullets, in the order written.
    pub params: Vec<ParamDoc>,
}

/// One parameter bullet.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDoc {
    /// The WIT (kebab-case) name.
    pub name: String,
    /// The text after the colon, joined into one line.
    pub text: String,
    /// What the parenthesised constraints say.
    pub constraints: Constraints,
}

/// The machine-readable part of a parameter bullet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    /// The smallest allowed integer.
    pub minimum: Option<i64>,
    /// The largest allowed integer.
    pub maximum: Option<i64>,
    /// The value used when the parameter is left out.
    pub default: Option<Value>,
    /// The allowed values.
    pub one_of: Option<Vec<String>>,
}

impl FunctionDoc {
    /// Parses the doc comment of the function `function` (the name is for messages).
    pub fn parse(function: &str, doc: &str) -> Result<FunctionDoc, String> {
        let fail = |what: String| Err(format!("the doc of `{function}`: {what}"));
        let mut lines = doc.lines().peekable();
        let Some(title) = lines.next().and_then(|l| l.strip_prefix("# ")) else {
            return fail("the first line must be a heading `# Title`".into());
        };
        let title = title.trim().to_string();
        let mut description = Vec::new();
        while let Some(line) = lines.peek() {
            if line.starts_with("- `") {
                break;
            }
            description.push(*line);
            lines.next();
        }
        let mut params: Vec<ParamDoc> = Vec::new();
        let mut bullet: Option<String> = None;
        for line in lines {
            if let Some(item) = line.strip_prefix("- ") {
                if let Some(text) = bullet.take() {
                    params.push(parse_bullet(function, &text)?);
                }
                bullet = Some(item.to_string());
            } else if let (Some(text), Some(more)) = (&mut bullet, line.strip_prefix("  ")) {
                text.push(' ');
                text.push_str(more.trim());
            } else if line.trim().is_empty() {
                continue;
            } else {
                return fail(format!(
                    "`{line}` follows the parameter bullets; continue a bullet with two spaces"
                ));
            }
        }
        if let Some(text) = bullet {
            params.push(parse_bullet(function, &text)?);
        }
        let description = one_line(&description.join(" "));
        if description.is_empty() {
            return fail("no description between the title and the parameters".into());
        }
        Ok(FunctionDoc {
            title,
            description,
            params,
        })
    }

    /// The bullet of the parameter `name`.
    pub fn param(&self, name: &str) -> Option<&ParamDoc> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// `` `name` (constraints): text `` (without the leading `- `).
fn parse_bullet(function: &str, bullet: &str) -> Result<ParamDoc, String> {
    let message = |what: &str| format!("the doc of `{function}`, bullet `- {bullet}`: {what}");
    let fail = |what: &str| Err(message(what));
    let Some(rest) = bullet.strip_prefix('`') else {
        return fail("a bullet starts with the parameter's name in backticks");
    };
    let Some((name, rest)) = rest.split_once('`') else {
        return fail("the parameter's name has no closing backtick");
    };
    let (constraints, rest) = match rest.strip_prefix(" (") {
        Some(inner) => match inner.split_once(')') {
            Some((c, rest)) => (parse_constraints(c).map_err(|e| message(&e))?, rest),
            None => return fail("the constraints must be closed by `)`"),
        },
        None => (Constraints::default(), rest),
    };
    let Some(text) = rest.strip_prefix(": ") else {
        return fail("the name (and constraints) must be followed by `: ` and the text");
    };
    let text = one_line(text);
    if text.is_empty() {
        return fail("the text is empty");
    }
    Ok(ParamDoc {
        name: name.to_string(),
        text,
        constraints,
    })
}

fn parse_constraints(text: &str) -> Result<Constraints, String> {
    let mut c = Constraints::default();
    let int = |s: &str| {
        s.trim()
            .parse::<i64>()
            .map_err(|_| format!("`{s}` is not an integer"))
    };
    for clause in text.split("; ") {
        let clause = clause.trim();
        if let Some(value) = clause.strip_prefix("default ") {
            let value = value.trim().trim_matches('`');
            c.default = Some(match serde_json::from_str::<Value>(value) {
                Ok(v @ (Value::Number(_) | Value::Bool(_))) => v,
                _ => Value::String(value.to_string()),
            });
        } else if let Some(values) = clause.strip_prefix("one of ") {
            let values: Vec<String> = values
                .split(", ")
                .map(|v| v.trim().trim_matches('`').to_string())
                .collect();
            if values.iter().any(String::is_empty) {
                return Err(format!("an empty value in `{clause}`"));
            }
            c.one_of = Some(values);
        } else if let Some((low, high)) = clause.split_once("..") {
            c.minimum = Some(int(low)?);
            if let Some(high) = high.strip_prefix('=') {
                c.maximum = Some(int(high)?);
            } else if !high.is_empty() {
                return Err(format!(
                    "`{clause}`: write an inclusive range as `MIN..=MAX`"
                ));
            }
        } else {
            return Err(format!(
                "unknown constraint `{clause}` (use `MIN..=MAX`, `MIN..`, `default X` or `one of A, B`)"
            ));
        }
    }
    Ok(c)
}

/// Joins lines into one paragraph.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DOC: &str = "# Read a file\n\nThe text of a file.\nSecond line.\n\n- `path`: from the repository root, e.g. `src/main.rs`.\n- `limit` (1..=100; default 30): entries\n  per page.\n- `state` (one of `OPEN`, `MERGED`; default `OPEN`): which ones.\n- `start-line` (1..): the first line.";

    #[test]
    fn parses_the_three_parts() {
        let d = FunctionDoc::parse("f", DOC).unwrap();
        assert_eq!(d.title, "Read a file");
        assert_eq!(d.description, "The text of a file. Second line.");
        let names: Vec<&str> = d.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["path", "limit", "state", "start-line"]);
        assert_eq!(
            d.param("path").unwrap().text,
            "from the repository root, e.g. `src/main.rs`."
        );
        let limit = d.param("limit").unwrap();
        assert_eq!(limit.text, "entries per page.");
        assert_eq!(
            limit.constraints,
            Constraints {
                minimum: Some(1),
                maximum: Some(100),
                default: Some(json!(30)),
                one_of: None
            }
        );
        let state = &d.param("state").unwrap().constraints;
        assert_eq!(
            state.one_of.as_deref(),
            Some(&["OPEN".to_string(), "MERGED".to_string()][..])
        );
        assert_eq!(state.default, Some(json!("OPEN")));
        let start = &d.param("start-line").unwrap().constraints;
        assert_eq!((start.minimum, start.maximum), (Some(1), None));
    }

    #[test]
    fn breaking_the_convention_is_an_error() {
        for bad in [
            "No heading.\n\n- `a`: x.",
            "# T\n\n- `a`: x.",
            "# T\n\nText.\n\n- `a` x.",
            "# T\n\nText.\n\n- `a` (1-100): x.",
            "# T\n\nText.\n\n- `a` (maybe): x.",
            "# T\n\nText.\n\n- `a` (1..=100: x.",
            "# T\n\nText.\n\n- `a`: x.\nA stray paragraph.",
            "# T\n\nText.\n\n- `a`: ",
        ] {
            assert!(FunctionDoc::parse("f", bad).is_err(), "{bad:?}");
        }
    }
}
