//! Page cursors: the opaque `next_page` strings handed to agents. A cursor names the tool and
//! repository that produced it and holds only where the next page starts (a page number, or
//! the position parameters of Bitbucket's `next` link, see `next_link.rs`), never a URL, so it
//! cannot make the component fetch anything but the next page of the same listing.

use crate::bindings::ToolError;
use crate::encoding::{base64_url, base64_url_decode};
use crate::error::ToolResult;
use serde::{Deserialize, Serialize};

/// Where the next page of a listing starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The tool that produced the cursor.
    #[serde(rename = "t")]
    pub tool: String,
    /// The repository (or workspace, for workspace-wide listings) it belongs to.
    #[serde(rename = "r")]
    pub scope: String,
    /// A page number (numbered listings); empty when `position` says where to go on.
    #[serde(rename = "p", default)]
    pub page: String,
    /// The position parameters of Bitbucket's `next` link (opaque listings).
    #[serde(rename = "q", default, skip_serializing_if = "Vec::is_empty")]
    pub position: Vec<(String, String)>,
    /// How many items of that page were already returned.
    #[serde(rename = "s", default)]
    pub skip: u32,
    /// The page size the page number refers to.
    #[serde(rename = "l", default)]
    pub pagelen: u32,
}

impl Cursor {
    /// The opaque text form.
    pub fn encode(&self) -> String {
        base64_url(&serde_json::to_vec(self).expect("a cursor serializes"))
    }

    /// Parses `text` and checks that it came from `tool` for `scope`.
    pub fn decode(text: &str, tool: &str, scope: &str) -> ToolResult<Cursor> {
        let invalid = || {
            ToolError::invalid_input(format!(
                "`page` is not a page cursor of {tool} for {scope}: pass the `next_page` value of \
                 an earlier {tool} answer unchanged, with the same repository, or omit `page` to \
                 start from the first page."
            ))
        };
        if text.len() > 4096 {
            return Err(invalid());
        }
        let bytes = base64_url_decode(text.trim()).ok_or_else(invalid)?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        let token_ok = if cursor.position.is_empty() {
            !cursor.page.is_empty()
                && cursor.page.len() <= 512
                && cursor.page.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'=')
                })
        } else {
            cursor.page.is_empty() && crate::next_link::check_position(&cursor.position)
        };
        if cursor.tool != tool
            || !cursor.scope.eq_ignore_ascii_case(scope)
            || !token_ok
            || cursor.pagelen > 100
        {
            return Err(invalid());
        }
        Ok(cursor)
    }

    /// The page token as a page number (for list-style endpoints).
    pub fn page_number(&self) -> ToolResult<u32> {
        self.page
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| {
                ToolError::invalid_input("`page` is not a valid page cursor for this tool.")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(page: &str) -> Cursor {
        Cursor {
            tool: "list_commits".into(),
            scope: "acme/widgets".into(),
            page: page.into(),
            position: Vec::new(),
            skip: 3,
            pagelen: 30,
        }
    }

    #[test]
    fn round_trip() {
        let c = cursor("a1b2c3");
        assert_eq!(
            Cursor::decode(&c.encode(), "list_commits", "acme/widgets").unwrap(),
            c
        );
    }

    #[test]
    fn rejects_cursors_of_other_tools_repos_and_forged_tokens() {
        let c = cursor("2");
        assert!(Cursor::decode(&c.encode(), "list_pipelines", "acme/widgets").is_err());
        assert!(Cursor::decode(&c.encode(), "list_commits", "acme/other").is_err());
        for forged in ["https://evil.example/", "2&pagelen=100", "../x", "", "a b"] {
            let e = Cursor::decode(&cursor(forged).encode(), "list_commits", "acme/widgets")
                .unwrap_err();
            assert!(e.message.contains("next_page"), "{forged}");
        }
        for garbage in ["", "not base64!", "e30", "AAAA"] {
            assert!(
                Cursor::decode(garbage, "list_commits", "acme/widgets").is_err(),
                "{garbage}"
            );
        }
    }

    #[test]
    fn positions_of_any_charset_round_trip_but_only_position_parameters() {
        let mut c = cursor("");
        c.position = vec![
            ("page".into(), "a+b/c==".into()),
            ("ctx".into(), "%x".into()),
        ];
        assert_eq!(
            Cursor::decode(&c.encode(), "list_commits", "acme/widgets").unwrap(),
            c
        );
        c.position = vec![("include".into(), "secret-branch".into())];
        assert!(Cursor::decode(&c.encode(), "list_commits", "acme/widgets").is_err());
        let mut both = cursor("2");
        both.position = vec![("page".into(), "x".into())];
        assert!(Cursor::decode(&both.encode(), "list_commits", "acme/widgets").is_err());
    }

    #[test]
    fn page_numbers() {
        assert_eq!(cursor("7").page_number().unwrap(), 7);
        assert!(cursor("0").page_number().is_err());
        assert!(cursor("abc").page_number().is_err());
    }
}
