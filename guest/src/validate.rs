//! Validation of tool arguments, before anything is sent. Each failure is an
//! `invalid_input` error that names the argument and says what is accepted.

use crate::bindings::ToolError;
use crate::error::ToolResult;

/// The default page size.
pub const DEFAULT_LIMIT: u32 = 30;
/// The largest page size a caller may ask for.
pub const MAX_LIMIT: u32 = 100;
/// The longest code search query accepted.
pub const MAX_QUERY_CHARS: usize = 500;
/// The highest line number accepted in a line range.
pub const MAX_LINE: u32 = 10_000_000;

/// Whether `text` is a Bitbucket workspace or repository slug.
pub fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 128
        && text != "."
        && text != ".."
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `limit` with its default, checked against 1..=100.
pub fn limit(limit: Option<u32>) -> ToolResult<u32> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ToolError::invalid_input(format!(
            "`limit` must be between 1 and {MAX_LIMIT} (got {n}); use `page` to get more."
        ))),
    }
}

/// A branch or tag name, as git allows them (roughly `git check-ref-format`).
pub fn branch_name(name: &str) -> ToolResult<()> {
    let bad = |why: &str| {
        Err(ToolError::invalid_input(format!(
            "`branch` is not a valid branch name ({why}); give a branch name such as `main` or \
             `feature/login`, or a commit hash."
        )))
    };
    if name.is_empty() || name.len() > 255 {
        return bad("it must be 1 to 255 characters");
    }
    if name
        .chars()
        .any(|c| c.is_control() || " ~^:?*[\\".contains(c))
    {
        return bad("it contains a space, control character or one of ~^:?*[\\");
    }
    if name.starts_with(['/', '-', '.']) || name.ends_with(['/', '.']) || name.ends_with(".lock") {
        return bad("it starts or ends with a character git does not allow there");
    }
    if name.contains("..") || name.contains("//") || name.contains("@{") || name.contains("/.") {
        return bad("it contains `..`, `//`, `/.` or `@{`");
    }
    Ok(())
}

/// Whether `text` looks like an abbreviated or full commit hash.
pub fn is_commit_hash(text: &str) -> bool {
    (4..=40).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A commit hash argument: 4 to 40 hexadecimal digits, returned in lower case.
pub fn commit_hash(text: &str) -> ToolResult<String> {
    if is_commit_hash(text) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(ToolError::invalid_input(format!(
            "`commit` must be a commit hash of 4 to 40 hexadecimal digits (got `{}`).",
            shorten(text)
        )))
    }
}

/// A path inside a repository: relative, without `..`, NUL or backslashes. Leading and
/// trailing slashes are dropped; the root is the empty string.
pub fn repo_path(path: &str, argument: &str) -> ToolResult<String> {
    let trimmed = path.trim_matches('/');
    let bad = |why: &str| {
        Err(ToolError::invalid_input(format!(
            "`{argument}` {why}; give a path from the repository root such as `src/main.rs`."
        )))
    };
    if path.len() > 4096 {
        return bad("is longer than 4096 characters");
    }
    if path.contains('\0') || path.contains('\\') || path.chars().any(char::is_control) {
        return bad("contains a NUL, backslash or control character");
    }
    if trimmed
        .split('/')
        .any(|segment| segment == ".." || segment == ".")
    {
        return bad("contains a `.` or `..` segment");
    }
    if trimmed.contains("//") {
        return bad("contains an empty segment (`//`)");
    }
    Ok(trimmed.to_owned())
}

/// A 1-based inclusive line range; `end` may be absent.
pub fn line_range(start: Option<u32>, end: Option<u32>) -> ToolResult<(u32, Option<u32>)> {
    let start_line = start.unwrap_or(1);
    if start_line == 0 || end == Some(0) {
        return Err(ToolError::invalid_input(
            "Line numbers start at 1: `start_line` and `end_line` must be 1 or more.",
        ));
    }
    if start_line > MAX_LINE || end.is_some_and(|e| e > MAX_LINE) {
        return Err(ToolError::invalid_input(format!(
            "Line numbers above {MAX_LINE} are not supported."
        )));
    }
    if let Some(end_line) = end
        && end_line < start_line
    {
        return Err(ToolError::invalid_input(format!(
            "`end_line` ({end_line}) is before `start_line` ({start_line}); the range is inclusive and must not be reversed."
        )));
    }
    Ok((start_line, end))
}

/// A code search query: not empty, not absurdly long.
pub fn search_query(query: &str) -> ToolResult<String> {
    let query = query.trim();
    if query.is_empty() {
        return Err(ToolError::invalid_input(
            "`query` is empty: give the text to search for.",
        ));
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ToolError::invalid_input(format!(
            "`query` is longer than {MAX_QUERY_CHARS} characters; search for a shorter, distinctive piece of code."
        )));
    }
    if query.chars().any(char::is_control) {
        return Err(ToolError::invalid_input(
            "`query` contains control characters.",
        ));
    }
    Ok(query.to_owned())
}

/// A short, printable excerpt of user input for error messages.
pub fn shorten(text: &str) -> String {
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(60).collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for good in ["acme", "my-repo", "a_b.c", "R2"] {
            assert!(is_slug(good), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a?b", "a#b", "a%2F", "a b", "é"] {
            assert!(!is_slug(bad), "{bad}");
        }
        assert!(!is_slug(&"a".repeat(129)));
    }

    #[test]
    fn limits() {
        assert_eq!(limit(None).unwrap(), 30);
        assert_eq!(limit(Some(1)).unwrap(), 1);
        assert_eq!(limit(Some(100)).unwrap(), 100);
        assert!(limit(Some(0)).unwrap_err().message.contains("`limit`"));
        assert!(limit(Some(101)).is_err());
    }

    #[test]
    fn branch_names() {
        for good in ["main", "feature/login", "release-1.2", "v1.0.0", "a@b"] {
            assert!(branch_name(good).is_ok(), "{good}");
        }
        for bad in [
            "", "a b", "a..b", "-x", "a/", "/a", "x.lock", "a~1", "a^", "a:b", "a\\b", "a//b",
            "a@{1}", "a\nb",
        ] {
            assert!(branch_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn commit_hashes() {
        assert_eq!(commit_hash("ABCDEF12").unwrap(), "abcdef12");
        assert!(commit_hash(&"a".repeat(40)).is_ok());
        for bad in ["abc", "xyz123", &"a".repeat(41), "abcd/", "", "12 34"] {
            let e = commit_hash(bad).unwrap_err();
            assert!(e.message.contains("`commit`"), "{bad}");
        }
    }

    #[test]
    fn repo_paths() {
        assert_eq!(repo_path("/src/lib.rs/", "path").unwrap(), "src/lib.rs");
        assert_eq!(repo_path("", "path").unwrap(), "");
        assert_eq!(repo_path("a b/ü.txt", "path").unwrap(), "a b/ü.txt");
        for bad in ["../etc", "a/../b", "a\\b", "a\0b", "./a", "a//b"] {
            let e = repo_path(bad, "path").unwrap_err();
            assert!(e.message.contains("`path`"), "{bad}");
        }
    }

    #[test]
    fn line_ranges() {
        assert_eq!(line_range(None, None).unwrap(), (1, None));
        assert_eq!(line_range(Some(5), Some(5)).unwrap(), (5, Some(5)));
        assert!(line_range(Some(0), None).is_err());
        assert!(line_range(None, Some(0)).is_err());
        assert!(
            line_range(Some(9), Some(3))
                .unwrap_err()
                .message
                .contains("reversed")
        );
        assert!(line_range(Some(MAX_LINE + 1), None).is_err());
    }

    #[test]
    fn search_queries() {
        assert_eq!(search_query("  fn main ").unwrap(), "fn main");
        assert!(search_query("   ").is_err());
        assert!(search_query(&"x".repeat(501)).is_err());
        assert!(search_query("a\u{7}").is_err());
    }
}
