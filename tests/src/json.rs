//! JSON output the way Bitbucket writes it (`", "` and `": "` separators) and the error
//! envelopes of REFERENCE §5.

use serde_json::{Value, json};
use std::io;

/// A serde_json formatter with Python's default separators, as Bitbucket's API emits.
struct BitbucketFormatter;

impl serde_json::ser::Formatter for BitbucketFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

/// Serialises `value` with Bitbucket's separators.
pub fn to_bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, BitbucketFormatter);
    serde::Serialize::serialize(value, &mut ser).expect("serialising a Value cannot fail");
    out
}

/// `{"type": "error", "error": {"message": MESSAGE}}`.
pub fn error(message: &str) -> Value {
    json!({"type": "error", "error": {"message": message}})
}

/// `{"type": "error", "error": {"message": MESSAGE, "detail": DETAIL}}`; `detail` may be
/// a string or an object.
pub fn error_with_detail(message: &str, detail: Value) -> Value {
    json!({"type": "error", "error": {"message": message, "detail": detail}})
}

/// The text of the 404 for a missing or invisible repository.
pub const REPOSITORY_NOT_FOUND: &str = "The requested repository either does not exist or you do not have access. If you believe this repository exists and you have access, make sure you're authenticated.";

/// The 401 message for a bad, expired or unsupported credential.
pub const TOKEN_INVALID: &str = "Token is invalid, expired, or not supported for this endpoint.";

/// The 404 message when code search is off for the workspace.
pub const SEARCH_NOT_ENABLED: &str = "Search is not enabled for the requested workspace, navigate to https://bitbucket.org/search to turn it on";

/// The 429 body (plain text).
pub const RATE_LIMITED: &str = "Rate limit for this resource has been exceeded";

/// The 404 body for a URL no API is hosted at.
pub fn no_api() -> Value {
    error_with_detail(
        "Resource not found",
        Value::String("There is no API hosted at this URL.\n\nFor information about our API's, please refer to the documentation at: https://developer.atlassian.com/bitbucket/api/2/reference/".into()),
    )
}

/// The 404 body for an unknown commit or ref (note the duplicated top-level `data`).
pub fn commit_not_found(rev: &str) -> Value {
    json!({"type": "error", "error": {"message": "Commit not found", "data": {"shas": [rev]}}, "data": {"shas": [rev]}})
}

/// The 403 body for missing OAuth scopes (object `detail`).
pub fn scope_error(required: &[String], granted: &[String]) -> Value {
    error_with_detail(
        "Your credentials lack one or more required privilege scopes.",
        json!({"required": required, "granted": granted}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_python_separators() {
        let v = json!({"type": "error", "error": {"message": "Forbidden"}, "a": [1, 2]});
        let s = String::from_utf8(to_bytes(&v)).unwrap();
        assert_eq!(
            s,
            r#"{"type": "error", "error": {"message": "Forbidden"}, "a": [1, 2]}"#
        );
    }
}
