//! Unified diffs as `GET …/diff/{spec}` gives them (REFERENCE-REVIEW §2b): git-style
//! headers, one hunk per text file (the single changed region the diffstat counts, with
//! `context` lines around it), the 2020 form for binary files, `/dev/null` for added and
//! removed files, and `\ No newline at end of file` where a side lacks its final newline.

use crate::model::{DiffEntry, DiffStatus, Tree, changed_region, is_binary};

/// The abbreviated blob id of a file's content (7 hex digits, as Bitbucket's `index` lines).
fn blob_id(content: Option<&[u8]>) -> String {
    match content {
        None => "0000000".into(),
        Some(c) => crate::ids::sha(&format!("blob:{}", String::from_utf8_lossy(c)))[..7].into(),
    }
}

/// `a/path` or `/dev/null`.
fn side(prefix: &str, path: Option<&str>) -> String {
    path.map_or("/dev/null".into(), |p| format!("{prefix}/{p}"))
}

/// The diff of `entries` (from `old` to `new`) with `context` lines around each change.
pub fn unified(old: &Tree, new: &Tree, entries: &[DiffEntry], context: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let before = e
            .old_path
            .as_deref()
            .and_then(|p| old.get(p))
            .map(|c| c.as_slice());
        let after = e
            .new_path
            .as_deref()
            .and_then(|p| new.get(p))
            .map(|c| c.as_slice());
        let a = e
            .old_path
            .as_deref()
            .or(e.new_path.as_deref())
            .unwrap_or("");
        let b = e
            .new_path
            .as_deref()
            .or(e.old_path.as_deref())
            .unwrap_or("");
        out.extend(format!("diff --git a/{a} b/{b}\n").bytes());
        let mode = match e.status {
            DiffStatus::Added => {
                out.extend(b"new file mode 100644\n");
                ""
            }
            DiffStatus::Removed => {
                out.extend(b"deleted file mode 100644\n");
                ""
            }
            DiffStatus::Renamed => {
                let similarity = if before == after { 100 } else { 90 };
                out.extend(
                    format!("similarity index {similarity}%\nrename from {a}\nrename to {b}\n")
                        .bytes(),
                );
                " 100644"
            }
            DiffStatus::Modified => " 100644",
        };
        if before == after {
            continue;
        }
        out.extend(format!("index {}..{}{mode}\n", blob_id(before), blob_id(after)).bytes());
        let old_name = side("a", e.old_path.as_deref().filter(|_| before.is_some()));
        let new_name = side("b", e.new_path.as_deref().filter(|_| after.is_some()));
        if before.is_some_and(is_binary) || after.is_some_and(is_binary) {
            out.extend(format!("Binary files {old_name} and {new_name} differ\n").bytes());
            continue;
        }
        out.extend(format!("--- {old_name}\n+++ {new_name}\n").bytes());
        hunk(
            &mut out,
            before.unwrap_or(b""),
            after.unwrap_or(b""),
            context,
        );
    }
    out
}

/// `-start,count`, as git writes it (`,count` left out for 1; an empty side starts at the
/// line before).
fn range(first: usize, count: usize) -> String {
    match count {
        0 => format!("{},0", first.saturating_sub(1)),
        1 => format!("{first}"),
        n => format!("{first},{n}"),
    }
}

fn hunk(out: &mut Vec<u8>, old: &[u8], new: &[u8], context: usize) {
    let (a, b, prefix, suffix) = changed_region(old, new);
    let lead = context.min(prefix);
    let trail = context.min(suffix);
    let start = prefix - lead;
    let old_count = a.len() - start - (suffix - trail);
    let new_count = b.len() - start - (suffix - trail);
    out.extend(
        format!(
            "@@ -{} +{} @@\n",
            range(start + 1, old_count),
            range(start + 1, new_count)
        )
        .bytes(),
    );
    let mut line = |mark: u8, text: &[u8]| {
        out.push(mark);
        out.extend_from_slice(text);
        if !text.ends_with(b"\n") {
            out.extend(b"\n\\ No newline at end of file\n");
        }
    };
    for l in &a[start..prefix] {
        line(b' ', l);
    }
    for l in &a[prefix..a.len() - suffix] {
        line(b'-', l);
    }
    for l in &b[prefix..b.len() - suffix] {
        line(b'+', l);
    }
    for l in &a[a.len() - suffix..a.len() - suffix + trail] {
        line(b' ', l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::diff_trees;
    use std::sync::Arc;

    fn tree(files: &[(&str, &[u8])]) -> Tree {
        files
            .iter()
            .map(|(p, c)| (p.to_string(), Arc::new(c.to_vec())))
            .collect()
    }

    #[test]
    fn git_style_headers_hunks_and_binary_files() {
        let old = tree(&[
            ("a.txt", b"1\n2\n3\n4\n5\n6\n7\n8\n"),
            ("gone.txt", b"x\n"),
            ("logo.png", b"\0\x01"),
        ]);
        let new = tree(&[
            ("a.txt", b"1\n2\n3\n4\nFIVE\n6\n7\n8\n"),
            ("new.txt", b"n"),
            ("logo.png", b"\0\x02"),
        ]);
        let entries = diff_trees(Some(&old), &new, &[]);
        let text = String::from_utf8(unified(&old, &new, &entries, 3)).unwrap();
        assert!(
            text.starts_with("diff --git a/a.txt b/a.txt\nindex "),
            "{text}"
        );
        assert!(text.contains(
            "--- a/a.txt\n+++ b/a.txt\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n"
        ));
        assert!(
            text.contains("diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\nindex ")
        );
        assert!(text.contains("--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"));
        assert!(text.contains("Binary files a/logo.png and b/logo.png differ\n"));
        assert!(text.contains(
            "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+n\n\\ No newline at end of file\n"
        ));
        // The hunks agree with the diffstat's counts.
        let plus = text
            .lines()
            .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
            .count();
        let minus = text
            .lines()
            .filter(|l| l.starts_with('-') && !l.starts_with("---"))
            .count();
        let added: u32 = entries.iter().map(|e| e.lines_added).sum();
        let removed: u32 = entries.iter().map(|e| e.lines_removed).sum();
        assert_eq!((plus as u32, minus as u32), (added, removed));
    }
}
