//! `read_file`: a file's text with line numbers, a line range, binary detection and a 100 KB cap.

use super::{Ctx, repo_path};
use crate::api::SourceEntry;
use crate::bindings::{FileContent, NumberedLine, ToolError};
use crate::client::{ApiGet, decode_json};
use crate::encoding::{percent_encode, percent_encode_path};
use crate::error::{Endpoint, ToolResult};
use crate::transport::{LineWindow, ReadLimit};
use crate::validate;

/// At most this many bytes of line text are returned.
pub const CAP_BYTES: usize = 100_000;
/// A line range may reach this far into a file.
pub const MAX_FILE_BYTES: usize = 10_000_000;
/// Files up to this size are read whole, so that their lines can be counted.
pub const READ_WHOLE_BYTES: usize = 1_000_000;
/// Bytes inspected for NUL to detect binary content.
const SNIFF_BYTES: usize = 8_000;

/// Runs the tool.
pub fn run(
    ctx: &Ctx,
    repo: Option<String>,
    path: String,
    branch: Option<String>,
    start_line: Option<u32>,
    end_line: Option<u32>,
) -> ToolResult<FileContent> {
    let repo = ctx.repo(repo.as_deref())?;
    let path = validate::repo_path(&path, "path")?;
    if path.is_empty() {
        return Err(ToolError::invalid_input(
            "`path` is required: give a file path such as `README.md` (browse_repository lists files).",
        ));
    }
    let (start, end) = validate::line_range(start_line, end_line)?;
    // The metadata (size, binary attribute, file or directory) and the raw text are
    // independent: fetch both at once. The raw body is read only as far as the range needs.
    let window = LineWindow {
        start,
        end,
        cap_bytes: CAP_BYTES,
        read_at_least: READ_WHOLE_BYTES,
    };
    let (revision, answers) = ctx.at_revision(&repo, branch.as_deref(), |rev| {
        let url = repo_path(
            &repo,
            &format!(
                "/src/{}/{}",
                percent_encode(rev),
                percent_encode_path(&path)
            ),
        );
        let endpoint = Endpoint::Source {
            what: format!("file `{path}` in {}", repo.full_name()),
        };
        vec![
            ApiGet::new(url.clone(), endpoint.clone()).param("format", "meta"),
            ApiGet::new(url, endpoint).read(ReadLimit {
                max_bytes: MAX_FILE_BYTES,
                lines: Some(window),
            }),
        ]
    })?;
    let what = format!("`{path}` at `{}` in {}", revision.name, repo.full_name());
    let mut answers = answers.into_iter();
    let (meta, raw) = (answers.next().expect("meta"), answers.next().expect("raw"));
    let meta: SourceEntry = decode_json(&meta?)?;
    if meta.is_directory() {
        return Err(ToolError::invalid_input(format!(
            "{what} is a directory, not a file: use browse_repository to list it."
        )));
    }
    let size = meta.size.unwrap_or(0);
    let mut content = FileContent {
        repo: repo.full_name(),
        ref_: revision.name,
        path,
        size,
        binary: false,
        truncated: false,
        total_lines: None,
        start_line: start,
        end_line: 0,
        lines: Vec::new(),
    };
    if meta.has_attribute("binary") || meta.has_attribute("lfs") {
        // An LFS file's raw URL redirects to the media store (REFERENCE §10): not read.
        content.binary = true;
        return Ok(content);
    }
    let raw = raw?;
    // A symlink's content is its target path, a submodule's the commit it pins (REFERENCE §9):
    // neither is the text of a file, so say what it is instead of showing it as one.
    let pointer = || {
        let text = String::from_utf8_lossy(&raw.body[..raw.body.len().min(300)]).into_owned();
        validate::shorten(text.trim())
    };
    if meta.has_attribute("link") {
        return Err(ToolError::invalid_input(format!(
            "{what} is a symbolic link to `{}`, not a file: read_file the target path instead \
             (relative to the link's directory).",
            pointer()
        )));
    }
    if meta.has_attribute("subrepository") {
        return Err(ToolError::invalid_input(format!(
            "{what} is a git submodule pinned at commit `{}`: its files are in another \
             repository, which read_file cannot read through this one.",
            pointer()
        )));
    }
    if raw.body[..raw.body.len().min(SNIFF_BYTES)].contains(&0) {
        content.binary = true;
        return Ok(content);
    }
    let text = String::from_utf8_lossy(&raw.body);
    let mut lines: Vec<&str> = text.split('\n').collect();
    if raw.complete {
        // A final newline ends the last line; it does not start another.
        if text.ends_with('\n') || text.is_empty() {
            lines.pop();
        }
        content.total_lines = Some(lines.len() as u32);
    } else {
        // Reading stopped early: the last piece is a cut-off line (or empty after a newline).
        lines.pop();
    }
    let available = lines.len() as u32;
    // An empty file has no line 1 to start at, but reading it from the top is not a mistake.
    if available == 0 && start == 1 && raw.complete {
        return Ok(content);
    }
    if start > available {
        return Err(match content.total_lines {
            Some(total) => ToolError::invalid_input(format!(
                "`start_line` {start} is past the end of the file, which has {total} lines."
            )),
            None => ToolError::invalid_input(format!(
                "`start_line` {start} lies beyond the first {} MB of the file, which is as far as \
                 read_file reads.",
                MAX_FILE_BYTES / 1_000_000
            )),
        });
    }
    let last = end.unwrap_or(u32::MAX).min(available);
    let mut used = 0usize;
    for number in start..=last {
        let line = lines[(number - 1) as usize]
            .strip_suffix('\r')
            .unwrap_or(lines[(number - 1) as usize]);
        let cost = line.len() + 1;
        if used + cost > CAP_BYTES {
            content.truncated = true;
            if content.lines.is_empty() {
                // A single line over the cap: return its beginning rather than nothing.
                let mut cut = CAP_BYTES;
                while !line.is_char_boundary(cut) {
                    cut -= 1;
                }
                content.lines.push(NumberedLine {
                    number,
                    text: line[..cut].to_owned(),
                });
            }
            break;
        }
        used += cost;
        content.lines.push(NumberedLine {
            number,
            text: line.to_owned(),
        });
    }
    // The read stopped before the requested end (10 MB limit or cap), so lines are missing.
    if !raw.complete && end.is_none_or(|e| e > available) && !content.truncated {
        content.truncated = true;
    }
    content.end_line = content.lines.last().map_or(0, |l| l.number);
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ErrorKind;
    use crate::tools::testing::{Scripted, config};
    use crate::transport::{
        HttpRequest, HttpResponse, LineWindowTracker, Transport, TransportError,
    };

    /// Serves one file (meta + raw), honouring the read limit like the wasi:http transport.
    struct OneFile {
        meta: String,
        body: Vec<u8>,
    }

    impl Transport for OneFile {
        fn send_all(&self, requests: &[HttpRequest]) -> Vec<Result<HttpResponse, TransportError>> {
            requests
                .iter()
                .map(|r| {
                    if r.path_and_query.ends_with("format=meta") {
                        return Ok(HttpResponse {
                            status: 200,
                            headers: vec![("content-type".into(), "application/json".into())],
                            body: self.meta.clone().into_bytes(),
                            complete: true,
                        });
                    }
                    let mut out = HttpResponse {
                        status: 200,
                        complete: true,
                        ..Default::default()
                    };
                    let mut tracker = r.read.lines.map(LineWindowTracker::new);
                    for chunk in self.body.chunks(1000) {
                        if out.body.len() >= r.read.max_bytes {
                            out.complete = false;
                            break;
                        }
                        out.body.extend_from_slice(chunk);
                        if tracker.as_mut().is_some_and(|t| t.feed(chunk)) {
                            out.complete = out.body.len() == self.body.len();
                            break;
                        }
                    }
                    Ok(out)
                })
                .collect()
        }

        fn pause(&self, _millis: u64) {}
    }

    fn read(
        body: &[u8],
        attributes: &str,
        start: Option<u32>,
        end: Option<u32>,
    ) -> ToolResult<FileContent> {
        let t = OneFile {
            meta: format!(
                r#"{{"type": "commit_file", "path": "f.txt", "size": {}, "attributes": {attributes}}}"#,
                body.len()
            ),
            body: body.to_vec(),
        };
        let c = config();
        run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            "f.txt".into(),
            Some("main".into()),
            start,
            end,
        )
    }

    #[test]
    fn numbers_lines_and_strips_crlf() {
        let f = read(b"one\r\ntwo\r\nthree", "[]", None, None).unwrap();
        assert_eq!(f.total_lines, Some(3));
        let texts: Vec<_> = f
            .lines
            .iter()
            .map(|l| (l.number, l.text.as_str()))
            .collect();
        assert_eq!(texts, [(1, "one"), (2, "two"), (3, "three")]);
        assert_eq!(
            (f.start_line, f.end_line, f.truncated, f.binary),
            (1, 3, false, false)
        );
    }

    #[test]
    fn an_empty_file_reads_as_no_lines() {
        let f = read(b"", "[]", None, None).unwrap();
        assert_eq!(f.total_lines, Some(0));
        assert!(f.lines.is_empty());
        assert_eq!((f.start_line, f.end_line, f.truncated), (1, 0, false));
        // Asking for a line of it is still a mistake, with the reason.
        let e = read(b"", "[]", Some(2), None).unwrap_err();
        assert!(e.message.contains("0 lines"), "{}", e.message);
    }

    #[test]
    fn returns_a_range() {
        let body: String = (1..=50).map(|n| format!("line {n}\n")).collect();
        let f = read(body.as_bytes(), "[]", Some(10), Some(12)).unwrap();
        let numbers: Vec<_> = f.lines.iter().map(|l| l.number).collect();
        assert_eq!(numbers, [10, 11, 12]);
        assert_eq!(f.lines[0].text, "line 10");
        assert!(!f.truncated);
        let e = read(body.as_bytes(), "[]", Some(51), None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(e.message.contains("50 lines"));
        let tail = read(body.as_bytes(), "[]", Some(49), Some(80)).unwrap();
        assert_eq!(tail.end_line, 50);
        assert_eq!(tail.total_lines, Some(50));
    }

    #[test]
    fn caps_text_at_100_kb_on_a_line_boundary() {
        let body: String = (1..=5000).map(|n| format!("{n:>40}\n")).collect();
        let f = read(body.as_bytes(), "[]", None, None).unwrap();
        assert!(f.truncated);
        let used: usize = f.lines.iter().map(|l| l.text.len() + 1).sum();
        assert!(used <= CAP_BYTES && used > CAP_BYTES - 42);
        assert_eq!(f.end_line as usize, f.lines.len());
        let far = read(body.as_bytes(), "[]", Some(4990), None).unwrap();
        assert_eq!(
            (far.start_line, far.end_line, far.truncated),
            (4990, 5000, false)
        );
    }

    #[test]
    fn detects_binary_files() {
        assert!(
            read(b"\x89PNG\r\n\x1a\n\0\0\0", "[]", None, None)
                .unwrap()
                .binary
        );
        let flagged = read(b"looks like text", r#"["binary"]"#, None, None).unwrap();
        assert!(flagged.binary && flagged.lines.is_empty());
    }

    #[test]
    fn symlinks_and_submodules_are_named_not_read_as_text() {
        let link = read(b"../shared/config.toml", r#"["link"]"#, None, None).unwrap_err();
        assert_eq!(link.kind, ErrorKind::InvalidInput);
        assert!(
            link.message
                .contains("symbolic link to `../shared/config.toml`"),
            "{}",
            link.message
        );
        let sub = read(
            b"9f2c4e1a7b3d5f6e8a0b1c2d3e4f5a6b7c8d9e0f",
            r#"["subrepository"]"#,
            None,
            None,
        )
        .unwrap_err();
        assert!(
            sub.message
                .contains("git submodule pinned at commit `9f2c4e1a"),
            "{}",
            sub.message
        );
        let lfs = read(b"", r#"["lfs"]"#, None, None).unwrap();
        assert!(lfs.binary && lfs.lines.is_empty());
    }

    #[test]
    fn a_directory_is_not_a_file() {
        let t = Scripted::default().route(
            "/repositories/acme/widgets/src/main/src",
            200,
            r#"{"type": "commit_directory", "path": "src"}"#,
        );
        let c = config();
        let e = run(
            &Ctx::new(&c, &t),
            Some("widgets".into()),
            "src".into(),
            Some("main".into()),
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(e.message.contains("browse_repository"));
    }
}
