//! A small regular-expression engine for the scope patterns (repository and branch names).
//!
//! The component carries its own instead of a regex crate because those keep a `HashMap`
//! with a random seed, which would add a `wasi:random` import to the component. Patterns are
//! compiled to an NFA and run as a Pike VM: time is linear in the name's length, so no
//! pattern can make a match slow. Matching is always against the whole name.
//!
//! Syntax: literals, `.`, `[...]` and `[^...]` classes with ranges, `\d \w \s` (and `\D \W
//! \S`), escaped metacharacters, groups `(...)` and `(?:...)`, `|`, and the quantifiers `*`,
//! `+`, `?`, `{n}`, `{n,}`, `{n,m}` (a trailing lazy `?` is accepted), `^` and `$`.

/// A compiled pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    program: Vec<Inst>,
}

/// The largest program a pattern may compile to.
const MAX_PROGRAM: usize = 20_000;
/// The largest count in `{n,m}`.
const MAX_REPEAT: u32 = 1000;

#[derive(Clone, Debug)]
enum Inst {
    Char(Set),
    Split(usize, usize),
    Jump(usize),
    AssertStart,
    AssertEnd,
    Match,
}

/// A set of characters: ranges, possibly negated.
#[derive(Clone, Debug, PartialEq)]
struct Set {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl Set {
    fn one(c: char) -> Set {
        Set {
            negated: false,
            ranges: vec![(c, c)],
        }
    }

    fn any() -> Set {
        Set {
            negated: true,
            ranges: Vec::new(),
        }
    }

    fn contains(&self, c: char) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != self.negated
    }
}

#[derive(Clone, Debug)]
enum Node {
    Empty,
    Char(Set),
    Start,
    End,
    Concat(Vec<Node>),
    Alternate(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

impl Pattern {
    /// Compiles `pattern`; the error says what is wrong and where.
    pub fn new(pattern: &str) -> Result<Pattern, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut parser = Parser {
            chars: &chars,
            pos: 0,
        };
        let node = parser.alternation()?;
        if parser.pos < chars.len() {
            return Err(format!("unmatched `)` at position {}", parser.pos + 1));
        }
        let mut program = Vec::new();
        compile(&node, &mut program)?;
        program.push(Inst::Match);
        Ok(Pattern { program })
    }

    /// Whether the whole of `text` matches.
    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let mut current = Vec::new();
        let mut seen = vec![usize::MAX; self.program.len()];
        self.add(&mut current, &mut seen, 0, 0, chars.len());
        for (pos, &c) in chars.iter().enumerate() {
            let mut next = Vec::new();
            for &pc in &current {
                if let Inst::Char(set) = &self.program[pc]
                    && set.contains(c)
                {
                    self.add(&mut next, &mut seen, pc + 1, pos + 1, chars.len());
                }
            }
            if next.is_empty() {
                return false;
            }
            current = next;
        }
        current
            .iter()
            .any(|&pc| matches!(self.program[pc], Inst::Match))
    }

    /// Adds `pc` and everything reachable from it without consuming a character.
    fn add(&self, list: &mut Vec<usize>, seen: &mut [usize], pc: usize, pos: usize, len: usize) {
        let mut stack = vec![pc];
        while let Some(pc) = stack.pop() {
            if seen[pc] == pos {
                continue;
            }
            seen[pc] = pos;
            match &self.program[pc] {
                Inst::Jump(to) => stack.push(*to),
                Inst::Split(a, b) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                Inst::AssertStart if pos == 0 => stack.push(pc + 1),
                Inst::AssertEnd if pos == len => stack.push(pc + 1),
                Inst::AssertStart | Inst::AssertEnd => {}
                Inst::Char(_) | Inst::Match => list.push(pc),
            }
        }
    }
}

fn compile(node: &Node, out: &mut Vec<Inst>) -> Result<(), String> {
    if out.len() > MAX_PROGRAM {
        return Err("the pattern is too large".into());
    }
    match node {
        Node::Empty => {}
        Node::Char(set) => out.push(Inst::Char(set.clone())),
        Node::Start => out.push(Inst::AssertStart),
        Node::End => out.push(Inst::AssertEnd),
        Node::Concat(nodes) => {
            for n in nodes {
                compile(n, out)?;
            }
        }
        Node::Alternate(branches) => {
            // split L1, next; L1: a; jump end; next: split L2, ...; last branch.
            let mut jumps = Vec::new();
            for (i, branch) in branches.iter().enumerate() {
                if i + 1 < branches.len() {
                    let split = out.len();
                    out.push(Inst::Split(split + 1, 0));
                    compile(branch, out)?;
                    jumps.push(out.len());
                    out.push(Inst::Jump(0));
                    let next = out.len();
                    out[split] = Inst::Split(split + 1, next);
                } else {
                    compile(branch, out)?;
                }
            }
            let end = out.len();
            for j in jumps {
                out[j] = Inst::Jump(end);
            }
        }
        Node::Repeat { node, min, max } => {
            for _ in 0..*min {
                compile(node, out)?;
            }
            match max {
                None => {
                    // loop: split body, end; body; jump loop
                    let split = out.len();
                    out.push(Inst::Split(split + 1, 0));
                    compile(node, out)?;
                    out.push(Inst::Jump(split));
                    let end = out.len();
                    out[split] = Inst::Split(split + 1, end);
                }
                Some(max) => {
                    let mut splits = Vec::new();
                    for _ in *min..*max {
                        splits.push(out.len());
                        out.push(Inst::Split(out.len() + 1, 0));
                        compile(node, out)?;
                    }
                    let end = out.len();
                    for s in splits {
                        out[s] = Inst::Split(s + 1, end);
                    }
                }
            }
        }
    }
    Ok(())
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn alternation(&mut self) -> Result<Node, String> {
        let mut branches = vec![self.concatenation()?];
        while self.peek() == Some('|') {
            self.pos += 1;
            branches.push(self.concatenation()?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().expect("one branch")
        } else {
            Node::Alternate(branches)
        })
    }

    fn concatenation(&mut self) -> Result<Node, String> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            items.push(self.quantified(atom)?);
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.pop().expect("one item"),
            _ => Node::Concat(items),
        })
    }

    fn atom(&mut self) -> Result<Node, String> {
        let at = self.pos + 1;
        let c = self.peek().expect("checked by caller");
        self.pos += 1;
        Ok(match c {
            '.' => Node::Char(Set::any()),
            '^' => Node::Start,
            '$' => Node::End,
            '(' => {
                if self.chars[self.pos..].starts_with(&['?', ':']) {
                    self.pos += 2;
                } else if self.peek() == Some('?') {
                    return Err(format!("unsupported group syntax `(?` at position {at}"));
                }
                let inner = self.alternation()?;
                if self.peek() != Some(')') {
                    return Err(format!("unclosed `(` at position {at}"));
                }
                self.pos += 1;
                inner
            }
            '[' => Node::Char(self.class(at)?),
            '\\' => Node::Char(self.escape(at)?),
            '*' | '+' | '?' | '{' => {
                return Err(format!("`{c}` at position {at} has nothing to repeat"));
            }
            other => Node::Char(Set::one(other)),
        })
    }

    fn quantified(&mut self, atom: Node) -> Result<Node, String> {
        let at = self.pos + 1;
        let (min, max) = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => {
                let close = self.chars[self.pos..]
                    .iter()
                    .position(|&c| c == '}')
                    .ok_or_else(|| format!("unclosed `{{` at position {at}"))?;
                let inside: String = self.chars[self.pos + 1..self.pos + close].iter().collect();
                let number = |s: &str| {
                    s.trim().parse::<u32>().ok().filter(|n| *n <= MAX_REPEAT).ok_or_else(|| {
                        format!("bad repetition `{{{inside}}}` at position {at} (counts go up to {MAX_REPEAT})")
                    })
                };
                let (min, max) = match inside.split_once(',') {
                    None => (number(&inside)?, Some(number(&inside)?)),
                    Some((lo, "")) => (number(lo)?, None),
                    Some((lo, hi)) => (number(lo)?, Some(number(hi)?)),
                };
                if max.is_some_and(|m| m < min) {
                    return Err(format!("bad repetition `{{{inside}}}` at position {at}"));
                }
                self.pos += close;
                (min, max)
            }
            _ => return Ok(atom),
        };
        self.pos += 1;
        if self.peek() == Some('?') {
            self.pos += 1; // lazy: the same for a whole-name match
        }
        if matches!(self.peek(), Some('*' | '+' | '{')) {
            return Err(format!(
                "a quantifier follows another at position {}",
                self.pos + 1
            ));
        }
        Ok(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
        })
    }

    fn escape(&mut self, at: usize) -> Result<Set, String> {
        let c = self
            .peek()
            .ok_or_else(|| format!("a trailing `\\` at position {at}"))?;
        self.pos += 1;
        let ranges = |r: &[(char, char)], negated| Set {
            negated,
            ranges: r.to_vec(),
        };
        const DIGIT: &[(char, char)] = &[('0', '9')];
        const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
        const SPACE: &[(char, char)] = &[('\t', '\r'), (' ', ' ')];
        Ok(match c {
            'd' => ranges(DIGIT, false),
            'D' => ranges(DIGIT, true),
            'w' => ranges(WORD, false),
            'W' => ranges(WORD, true),
            's' => ranges(SPACE, false),
            'S' => ranges(SPACE, true),
            'n' => Set::one('\n'),
            't' => Set::one('\t'),
            c if c.is_ascii_alphanumeric() => {
                return Err(format!("unsupported escape `\\{c}` at position {at}"));
            }
            c => Set::one(c),
        })
    }

    fn class(&mut self, at: usize) -> Result<Set, String> {
        let mut set = Set {
            negated: false,
            ranges: Vec::new(),
        };
        if self.peek() == Some('^') {
            set.negated = true;
            self.pos += 1;
        }
        let mut first = true;
        loop {
            let c = self
                .peek()
                .ok_or_else(|| format!("unclosed `[` at position {at}"))?;
            self.pos += 1;
            if c == ']' && !first {
                return Ok(set);
            }
            first = false;
            let lo = if c == '\\' {
                let escaped = self.escape(self.pos)?;
                if escaped.negated
                    || escaped.ranges.len() != 1
                    || escaped.ranges[0].0 != escaped.ranges[0].1
                {
                    if escaped.negated {
                        return Err(format!(
                            "negated classes like `\\D` are not supported inside `[...]` (position {at})"
                        ));
                    }
                    set.ranges.extend(escaped.ranges);
                    continue;
                }
                escaped.ranges[0].0
            } else {
                c
            };
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&n| n != ']') {
                let hi = self.chars[self.pos + 1];
                self.pos += 2;
                if hi < lo {
                    return Err(format!(
                        "the range `{lo}-{hi}` at position {at} is reversed"
                    ));
                }
                set.ranges.push((lo, hi));
            } else {
                set.ranges.push((lo, lo));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        Pattern::new(pattern).unwrap().is_match(text)
    }

    #[test]
    fn whole_name_matches() {
        assert!(m("main", "main"));
        assert!(!m("main", "mainline"));
        assert!(!m("main", "xmain"));
        assert!(m("main|release/.*", "release/1.2"));
        assert!(!m("main|release/.*", "hotfix/1"));
        assert!(m("api-.*", "api-gateway"));
        assert!(!m("api-.*", "old-api-gateway"));
        assert!(m("(feature|bugfix)/[A-Z]+-\\d+", "feature/ABC-12"));
        assert!(!m("(feature|bugfix)/[A-Z]+-\\d+", "feature/abc-12"));
        assert!(m("^v\\d+\\.\\d+$", "v1.20"));
        assert!(!m("v\\d+\\.\\d+", "v1x20"));
        assert!(m("[^/]+", "develop"));
        assert!(!m("[^/]+", "feature/x"));
        assert!(m("a{2,3}", "aaa") && !m("a{2,3}", "aaaa") && !m("a{2}", "a"));
        assert!(m("x{2,}", "xxxxx"));
        assert!(m("(?:ab)*c?", "ababc") && m("(?:ab)*c?", ""));
        assert!(m("[a-z0-9._-]+", "my-repo.v2_x"));
        assert!(m("\\w+", "snake_case9") && !m("\\w+", "kebab-case"));
        assert!(m(".*", "") && m("", ""));
        assert!(m("a+?b", "aab"));
        assert!(m("ü.", "üß"));
    }

    #[test]
    fn bad_patterns_say_where() {
        for (pattern, fragment) in [
            ("(", "unclosed `(`"),
            ("a)", "unmatched `)`"),
            ("[a-", "unclosed `[`"),
            ("*a", "nothing to repeat"),
            ("a{3,1}", "bad repetition"),
            ("a{99999}", "bad repetition"),
            ("\\", "trailing"),
            ("\\q", "unsupported escape"),
            ("(?<n>a)", "unsupported group"),
            ("[z-a]", "reversed"),
            ("a**", "quantifier follows"),
        ] {
            let e = Pattern::new(pattern).unwrap_err();
            assert!(e.contains(fragment), "{pattern}: {e}");
        }
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let p = Pattern::new("(a*)*(a|aa)*b").unwrap();
        assert!(!p.is_match(&"a".repeat(5000)));
        let big = Pattern::new("(x{1,100}){1,20}").unwrap();
        assert!(big.is_match(&"x".repeat(2000)) && !big.is_match(&"x".repeat(2001)));
        let e = Pattern::new("(x{1,1000}){1,1000}").unwrap_err();
        assert!(e.contains("too large"));
    }
}
