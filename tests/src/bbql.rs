//! A subset of BBQL, Bitbucket's query language for `q` (REFERENCE §4): comparisons
//! `=`, `!=`, `~` (case-insensitive contains), `!~`, `>`, `>=`, `<`, `<=`, `IN`, `NOT IN`;
//! `AND`/`OR` (any case) and parentheses; strings in double quotes with `\"` and `\\`
//! escapes, numbers, `true`/`false`/`null`, unquoted ISO 8601 datetimes, and lists
//! `("a", "b")`. Field paths are dotted (`destination.branch.name`) and evaluated against
//! the full JSON object (arrays match when any element matches). Also `sort`.

use crate::time::parse_datetime;
use serde_json::Value;
use std::cmp::Ordering;

/// A literal in a query.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `"text"`.
    Str(String),
    /// A number.
    Num(f64),
    /// `true`/`false`.
    Bool(bool),
    /// `null`.
    Null,
    /// A datetime, as Unix microseconds.
    Date(i64),
    /// `(a, b, …)`.
    List(Vec<Literal>),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `~`
    Contains,
    /// `!~`
    NotContains,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `IN`
    In,
    /// `NOT IN`
    NotIn,
}

/// A parsed query.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `a AND b`.
    And(Box<Expr>, Box<Expr>),
    /// `a OR b`.
    Or(Box<Expr>, Box<Expr>),
    /// `field OP literal`.
    Cmp(String, CmpOp, Literal),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Op(String),
    Str(String),
    Word(String),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        let ch = c[i];
        match ch {
            _ if ch.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '"' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match c.get(i) {
                        None => return Err("unterminated string".into()),
                        Some('\\') => {
                            match c.get(i + 1) {
                                Some(&e) => text.push(e),
                                None => return Err("unterminated string".into()),
                            }
                            i += 2;
                        }
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some(&o) => {
                            text.push(o);
                            i += 1;
                        }
                    }
                }
                // A quote glued to the next word means an unescaped quote inside a string.
                if c.get(i).is_some_and(|n| n.is_alphanumeric() || *n == '"') {
                    return Err("unexpected quote".into());
                }
                out.push(Tok::Str(text));
            }
            '=' | '~' => {
                out.push(Tok::Op(ch.to_string()));
                i += 1;
            }
            '!' | '>' | '<' => {
                let next = c.get(i + 1).copied();
                if matches!(next, Some('=') | Some('~')) && !(ch != '!' && next == Some('~')) {
                    out.push(Tok::Op(format!("{ch}{}", next.unwrap_or(' '))));
                    i += 2;
                } else if ch == '!' {
                    return Err("unexpected '!'".into());
                } else {
                    out.push(Tok::Op(ch.to_string()));
                    i += 1;
                }
            }
            _ => {
                let start = i;
                while i < c.len() && !c[i].is_whitespace() && !"()=,~!<>\"".contains(c[i]) {
                    i += 1;
                }
                out.push(Tok::Word(c[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.keyword("OR") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.keyword("AND") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.or()?;
            if self.next() != Some(Tok::RParen) {
                return Err("expected ')'".into());
            }
            return Ok(e);
        }
        let field = match self.next() {
            Some(Tok::Word(w)) => w,
            other => return Err(format!("expected a field name, got {other:?}")),
        };
        let op = match self.next() {
            Some(Tok::Op(o)) => match o.as_str() {
                "=" => CmpOp::Eq,
                "!=" => CmpOp::Ne,
                "~" => CmpOp::Contains,
                "!~" => CmpOp::NotContains,
                ">" => CmpOp::Gt,
                ">=" => CmpOp::Ge,
                "<" => CmpOp::Lt,
                "<=" => CmpOp::Le,
                _ => return Err(format!("unknown operator {o}")),
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IN") => CmpOp::In,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("NOT") => match self.next() {
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IN") => CmpOp::NotIn,
                _ => return Err("expected IN after NOT".into()),
            },
            other => return Err(format!("expected an operator, got {other:?}")),
        };
        let lit = self.literal()?;
        if matches!(op, CmpOp::In | CmpOp::NotIn) != matches!(lit, Literal::List(_)) {
            return Err("IN takes a list, other operators a single value".into());
        }
        Ok(Expr::Cmp(field, op, lit))
    }

    fn literal(&mut self) -> Result<Literal, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Literal::Str(s)),
            Some(Tok::LParen) => {
                let mut items = Vec::new();
                loop {
                    items.push(self.literal()?);
                    match self.next() {
                        Some(Tok::Comma) => continue,
                        Some(Tok::RParen) => break,
                        _ => return Err("expected ',' or ')' in a list".into()),
                    }
                }
                Ok(Literal::List(items))
            }
            Some(Tok::Word(w)) => {
                let lw = w.to_ascii_lowercase();
                if lw == "true" || lw == "false" {
                    Ok(Literal::Bool(lw == "true"))
                } else if lw == "null" {
                    Ok(Literal::Null)
                } else if let Some(d) = parse_datetime(&w) {
                    Ok(Literal::Date(d))
                } else if let Ok(n) = w.parse::<f64>() {
                    Ok(Literal::Num(n))
                } else {
                    Err(format!("invalid value {w}"))
                }
            }
            other => Err(format!("expected a value, got {other:?}")),
        }
    }
}

/// Parses a `q` expression.
pub fn parse(q: &str) -> Result<Expr, String> {
    let mut p = Parser {
        toks: tokenize(q)?,
        pos: 0,
    };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err("unexpected input after the expression".into());
    }
    Ok(e)
}

/// The values at a dotted path (several when the path crosses arrays).
fn lookup<'a>(v: &'a Value, path: &[&str], out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| lookup(i, path, out)),
        _ if path.is_empty() => out.push(v),
        Value::Object(m) => {
            if let Some(c) = m.get(path[0]) {
                lookup(c, &path[1..], out);
            }
        }
        _ => {}
    }
}

fn compare(v: &Value, lit: &Literal) -> Option<Ordering> {
    match (v, lit) {
        (Value::String(s), Literal::Date(d)) => parse_datetime(s).map(|x| x.cmp(d)),
        (Value::String(s), Literal::Str(t)) => Some(s.as_str().cmp(t.as_str())),
        (Value::Number(n), Literal::Num(x)) => n.as_f64().and_then(|a| a.partial_cmp(x)),
        (Value::Bool(b), Literal::Bool(x)) => Some(b.cmp(x)),
        (Value::Null, Literal::Null) => Some(Ordering::Equal),
        _ => None,
    }
}

fn matches_one(v: &Value, op: CmpOp, lit: &Literal) -> bool {
    match op {
        CmpOp::Eq => compare(v, lit) == Some(Ordering::Equal),
        CmpOp::Ne => compare(v, lit) != Some(Ordering::Equal),
        CmpOp::Contains | CmpOp::NotContains => {
            let hit = match (v, lit) {
                (Value::String(s), Literal::Str(t)) => s.to_lowercase().contains(&t.to_lowercase()),
                _ => false,
            };
            hit == (op == CmpOp::Contains)
        }
        CmpOp::Gt => compare(v, lit) == Some(Ordering::Greater),
        CmpOp::Ge => matches!(compare(v, lit), Some(Ordering::Greater | Ordering::Equal)),
        CmpOp::Lt => compare(v, lit) == Some(Ordering::Less),
        CmpOp::Le => matches!(compare(v, lit), Some(Ordering::Less | Ordering::Equal)),
        CmpOp::In | CmpOp::NotIn => {
            let items = match lit {
                Literal::List(items) => items.as_slice(),
                _ => &[],
            };
            let hit = items.iter().any(|l| compare(v, l) == Some(Ordering::Equal));
            hit == (op == CmpOp::In)
        }
    }
}

/// Whether `v` satisfies `e`.
pub fn eval(e: &Expr, v: &Value) -> bool {
    match e {
        Expr::And(a, b) => eval(a, v) && eval(b, v),
        Expr::Or(a, b) => eval(a, v) || eval(b, v),
        Expr::Cmp(field, op, lit) => {
            let path: Vec<&str> = field.split('.').collect();
            let mut found = Vec::new();
            lookup(v, &path, &mut found);
            if found.is_empty() {
                found.push(&Value::Null);
            }
            let negative = matches!(op, CmpOp::Ne | CmpOp::NotContains | CmpOp::NotIn);
            if negative {
                found.iter().all(|x| matches_one(x, *op, lit))
            } else {
                found.iter().any(|x| matches_one(x, *op, lit))
            }
        }
    }
}

/// Whether the expression mentions `field`.
pub fn mentions(e: &Expr, field: &str) -> bool {
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => mentions(a, field) || mentions(b, field),
        Expr::Cmp(f, _, _) => f == field,
    }
}

fn sort_key_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => match (parse_datetime(x), parse_datetime(y)) {
            (Some(p), Some(q)) => p.cmp(&q),
            _ => x.cmp(y),
        },
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

/// Sorts `items` by `sort` (`field` ascending, `-field` descending; stable).
pub fn sort(items: &mut [Value], sort: &str) {
    let (desc, field) = match sort.strip_prefix('-') {
        Some(f) => (true, f),
        None => (false, sort),
    };
    let path: Vec<&str> = field.split('.').collect();
    let key = |v: &Value| {
        let mut found = Vec::new();
        lookup(v, &path, &mut found);
        found.first().map(|x| (*x).clone()).unwrap_or(Value::Null)
    };
    items.sort_by(|a, b| {
        let o = sort_key_cmp(&key(a), &key(b));
        if desc { o.reverse() } else { o }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pr() -> Value {
        json!({
            "state": "MERGED",
            "title": "Need to test \"foo\" here",
            "id": 12,
            "draft": false,
            "updated_on": "2025-01-12T10:00:00.000000+00:00",
            "destination": {"branch": {"name": "main"}},
            "reviewers": [{"nickname": "bob"}, {"nickname": "carol"}]
        })
    }

    fn q(s: &str) -> bool {
        eval(&parse(s).unwrap(), &pr())
    }

    #[test]
    fn comparisons() {
        assert!(q(r#"state = "MERGED""#));
        assert!(!q(r#"state != "MERGED""#));
        assert!(q(r#"title ~ "NEED TO""#));
        assert!(q(r#"title !~ "bar""#));
        assert!(q(r#"destination.branch.name = "main""#));
        assert!(q("id > 10 and id <= 12"));
        assert!(q("draft = false"));
        assert!(q(r#"reviewers.nickname = "carol""#));
        assert!(q(r#"state IN ("OPEN", "MERGED")"#));
        assert!(q(r#"state NOT IN ("OPEN", "DECLINED")"#));
        assert!(q("missing = null"));
    }

    #[test]
    fn dates_and_strings_order() {
        assert!(q("updated_on > 2025-01-10"));
        assert!(!q("updated_on > 2025-01-12T11:00:00+00:00"));
        assert!(q("updated_on < 2025-01-12T11:00:00+00:00"));
        assert!(q(r#"state > "DECLINED""#));
    }

    #[test]
    fn boolean_logic_and_parens() {
        assert!(q(r#"state = "OPEN" OR state = "MERGED" AND id = 12"#));
        assert!(!q(r#"(state = "OPEN" OR state = "MERGED") AND id = 13"#));
        assert!(q(
            r#"(state = "OPEN" OR state = "MERGED") AND (id = 13 OR id = 12)"#
        ));
    }

    #[test]
    fn escaped_quotes() {
        assert!(q(r#"title ~ "test \"foo\"""#));
        assert!(parse(r#"title ~ "test "foo"""#).is_err());
        assert!(parse(r#"title ~ "unterminated"#).is_err());
        assert!(parse("state =").is_err());
        assert!(parse(r#"state = "a" junk"#).is_err());
    }

    #[test]
    fn sorts() {
        let mut v = vec![
            json!({"n": 2, "d": "2024-01-02"}),
            json!({"n": 1, "d": "2024-01-03"}),
            json!({"n": 3, "d": "2024-01-01"}),
        ];
        sort(&mut v, "n");
        assert_eq!(
            v.iter()
                .map(|x| x["n"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            [1, 2, 3]
        );
        sort(&mut v, "-d");
        assert_eq!(
            v.iter()
                .map(|x| x["n"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            [1, 2, 3]
        );
        sort(&mut v, "d");
        assert_eq!(
            v.iter()
                .map(|x| x["n"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            [3, 2, 1]
        );
    }
}
