//! Unified diffs for get_commit and get_pull_request: the request (raw text, read only a
//! little past the cap) and the cut at a file boundary, with the files left out.
//! Diff text is repository content: it is passed through as data, never interpreted.

use crate::bindings::FileChange;
use crate::client::ApiGet;
use crate::error::{Endpoint, ToolResult};
use crate::transport::{HttpResponse, ReadLimit};

/// At most this many bytes of diff text are returned.
pub const MAX_DIFF_BYTES: usize = 100 * 1024;

/// A diff as returned: the text, whether it was cut, and the files it leaves out.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CutDiff {
    /// The diff text (lossy UTF-8: Bitbucket sends files in their own encoding).
    pub text: String,
    /// Whether files (or, for one huge file, lines) were left out.
    pub truncated: bool,
    /// The paths of the changed files whose diff is not in `text`.
    pub omitted: Vec<String>,
}

/// A GET of diff text at `path` (already encoded, below the API base): `text/plain`, read
/// one byte past the cap so that a longer diff is known to be longer.
pub fn request(path: String, what: String) -> ApiGet {
    ApiGet::new(path, Endpoint::Diff(what))
        .accept("text/plain")
        .read(ReadLimit::bytes(MAX_DIFF_BYTES + 1))
}

/// Cuts `answer` to [`MAX_DIFF_BYTES`] at the start of a file's diff (`diff --git`), or at a
/// line end when even the first file is longer; `files` (from the diffstat) name what is
/// left out.
pub fn cut(answer: ToolResult<HttpResponse>, files: &[FileChange]) -> ToolResult<CutDiff> {
    let answer = answer?;
    let body = &answer.body;
    let whole = answer.complete && body.len() <= MAX_DIFF_BYTES;
    let kept = if whole {
        body.len()
    } else {
        let window = &body[..body.len().min(MAX_DIFF_BYTES)];
        match rfind(window, b"\ndiff --git ") {
            Some(at) if at > 0 => at + 1,
            _ => window
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |at| at + 1),
        }
    };
    let text = String::from_utf8_lossy(&body[..kept]).into_owned();
    let omitted = if whole {
        Vec::new()
    } else {
        let headers: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("diff --git "))
            .collect();
        files
            .iter()
            .filter(|f| !headers.iter().any(|h| names(h, &f.path)))
            .map(|f| f.path.clone())
            .collect()
    };
    Ok(CutDiff {
        text,
        truncated: !whole,
        omitted,
    })
}

/// Whether a `diff --git a/X b/Y` header is about `path` (as its new or only name; git
/// quotes unusual names).
fn names(header: &str, path: &str) -> bool {
    let header = header.trim_end();
    header.ends_with(&format!(" b/{path}")) || header.ends_with(&format!(" \"b/{path}\""))
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> FileChange {
        FileChange {
            path: path.into(),
            old_path: None,
            status: "modified".into(),
            lines_added: 1,
            lines_removed: 1,
        }
    }

    fn answer(body: Vec<u8>, complete: bool) -> ToolResult<HttpResponse> {
        Ok(HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "text/plain".into())],
            body,
            complete,
        })
    }

    fn file_diff(path: &str, lines: usize) -> String {
        let mut d = format!(
            "diff --git a/{path} b/{path}\nindex 1..2 100644\n--- a/{path}\n+++ b/{path}\n@@ -1 +1 @@\n"
        );
        for i in 0..lines {
            d.push_str(&format!("+line {i}\n"));
        }
        d
    }

    #[test]
    fn a_small_diff_is_whole() {
        let text = file_diff("a.rs", 3);
        let out = cut(answer(text.clone().into_bytes(), true), &[file("a.rs")]).unwrap();
        assert_eq!(
            out,
            CutDiff {
                text,
                truncated: false,
                omitted: vec![]
            }
        );
    }

    #[test]
    fn a_long_diff_is_cut_at_a_file_boundary_and_names_what_is_left_out() {
        let first = file_diff("src/a b.rs", 6000);
        let second = file_diff("src/b.rs", 5000);
        let third = file_diff("src/c.rs", 10);
        let body = format!("{first}{second}{third}");
        assert!(first.len() < MAX_DIFF_BYTES && first.len() + second.len() > MAX_DIFF_BYTES);
        let read: Vec<u8> = body.as_bytes()[..MAX_DIFF_BYTES + 1].to_vec();
        let files = [file("src/a b.rs"), file("src/b.rs"), file("src/c.rs")];
        let out = cut(answer(read, false), &files).unwrap();
        assert_eq!(out.text, first);
        assert!(out.truncated);
        assert_eq!(out.omitted, ["src/b.rs", "src/c.rs"]);
    }

    #[test]
    fn one_huge_file_is_cut_at_a_line_end() {
        let body = file_diff("big.txt", 20_000);
        let read: Vec<u8> = body.as_bytes()[..MAX_DIFF_BYTES + 1].to_vec();
        let out = cut(answer(read, false), &[file("big.txt")]).unwrap();
        assert!(out.truncated);
        assert!(out.text.len() <= MAX_DIFF_BYTES && out.text.ends_with('\n'));
        assert!(out.text.starts_with("diff --git a/big.txt"));
        assert!(out.omitted.is_empty(), "its diff is there, only cut");
    }
}
