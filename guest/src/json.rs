//! The tools' JSON front end for embedders that link this library (the Spin HTTP component):
//! `call("read_file", {"repo": …, "path": …})` → the contract's JSON result. The per-tool code
//! is generated from the WIT by `build.rs`; this file holds the conversions it uses. The
//! wasmtime host does the same conversion from the component's WIT on its side.

use crate::bindings::{self, ToolError};
use crate::error::ToolResult;
use crate::tools::{self, Ctx};
use serde_json::{Map, Value};

include!(concat!(env!("OUT_DIR"), "/json_dispatch.rs"));

/// Conversion of tool results to JSON.
pub trait ToJson {
    /// The JSON form.
    fn to_json(&self) -> Value;
}

impl ToJson for String {
    fn to_json(&self) -> Value {
        Value::from(self.as_str())
    }
}

impl ToJson for bool {
    fn to_json(&self) -> Value {
        Value::from(*self)
    }
}

impl ToJson for u32 {
    fn to_json(&self) -> Value {
        Value::from(*self)
    }
}

impl ToJson for u64 {
    fn to_json(&self) -> Value {
        Value::from(*self)
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToJson::to_json)
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(ToJson::to_json).collect())
    }
}

/// `{"error": {"kind", "message"}}`, as the contract prints a failed call.
pub fn error_json(error: &ToolError) -> Value {
    serde_json::json!({"error": {"kind": error.kind.to_json(), "message": error.message}})
}

/// Conversion of JSON arguments.
pub trait FromJson: Sized {
    /// Converts `value`, or says what was expected.
    fn from_json(value: &Value) -> Result<Self, &'static str>;
}

impl FromJson for String {
    fn from_json(value: &Value) -> Result<Self, &'static str> {
        value.as_str().map(str::to_owned).ok_or("a string")
    }
}

impl FromJson for bool {
    fn from_json(value: &Value) -> Result<Self, &'static str> {
        value.as_bool().ok_or("true or false")
    }
}

impl FromJson for u32 {
    fn from_json(value: &Value) -> Result<Self, &'static str> {
        value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or("a whole number from 0 to 4294967295")
    }
}

impl FromJson for u64 {
    fn from_json(value: &Value) -> Result<Self, &'static str> {
        value.as_u64().ok_or("a whole number of 0 or more")
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    /// A list, or a single item as a list of one.
    fn from_json(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Array(items) => items.iter().map(T::from_json).collect(),
            single => T::from_json(single).map(|item| vec![item]),
        }
    }
}

fn check_names(args: &Map<String, Value>, names: &[&str]) -> ToolResult<()> {
    match args.keys().find(|key| !names.contains(&key.as_str())) {
        None => Ok(()),
        Some(unknown) => Err(ToolError::invalid_input(format!(
            "unknown argument `{}`; this tool takes {}",
            crate::validate::shorten(unknown),
            if names.is_empty() {
                "no arguments".to_owned()
            } else {
                names.join(", ")
            }
        ))),
    }
}

fn required<T: FromJson>(args: &Map<String, Value>, name: &str) -> ToolResult<T> {
    match args.get(name) {
        None | Some(Value::Null) => Err(ToolError::invalid_input(format!(
            "missing required argument `{name}`"
        ))),
        Some(value) => convert(value, name),
    }
}

fn optional<T: FromJson>(args: &Map<String, Value>, name: &str) -> ToolResult<Option<T>> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => convert(value, name).map(Some),
    }
}

fn convert<T: FromJson>(value: &Value, name: &str) -> ToolResult<T> {
    T::from_json(value).map_err(|expected| {
        ToolError::invalid_input(format!("argument `{name}` must be {expected}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ErrorKind;
    use crate::tools::testing::{Scripted, config};
    use serde_json::json;

    fn call_json(t: &Scripted, tool: &str, args: Value) -> ToolResult<Value> {
        let c = config();
        call(&Ctx::new(&c, t), tool, args.as_object().unwrap())
    }

    #[test]
    fn lists_every_wit_function() {
        assert_eq!(TOOLS.len(), 11);
        assert_eq!(TOOLS[8], "list_branches");
        assert_eq!(TOOLS[0], "list_repositories");
        assert!(TOOLS.contains(&"list_pull_requests"));
    }

    #[test]
    fn results_use_the_contracts_names() {
        let t = Scripted::default().route(
            "/repositories/acme/widgets/src/main/",
            200,
            r#"{"values": [{"path": "src", "type": "commit_directory"}, {"path": "a.rs", "type": "commit_file", "size": 3}]}"#,
        );
        let out = call_json(
            &t,
            "browse_repository",
            json!({"repo": "widgets", "branch": "main"}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"repo": "acme/widgets", "ref": "main", "path": "",
                   "entries": [{"path": "src", "type": "directory", "size": null},
                               {"path": "a.rs", "type": "file", "size": 3}],
                   "next_page": null})
        );
    }

    #[test]
    fn arguments_are_checked_by_name_and_type() {
        let t = Scripted::default();
        for (tool, args, fragment) in [
            (
                "read_file",
                json!({"repo": "widgets"}),
                "missing required argument `path`",
            ),
            (
                "read_file",
                json!({"path": "a", "colour": 1}),
                "unknown argument `colour`",
            ),
            (
                "list_commits",
                json!({"limit": "ten"}),
                "argument `limit` must be a whole number",
            ),
            ("list_commits", json!({"limit": -1}), "argument `limit`"),
            ("nope", json!({}), "unknown tool `nope`"),
        ] {
            let e = call_json(&t, tool, args).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput);
            assert!(e.message.contains(fragment), "{tool}: {}", e.message);
        }
        assert!(t.sent().is_empty());
    }

    #[test]
    fn a_single_state_is_a_list_of_one_and_errors_have_the_contract_shape() {
        let t = Scripted::default();
        let e = call_json(
            &t,
            "list_pull_requests",
            json!({"repo": "widgets", "state": "CLOSED"}),
        )
        .unwrap_err();
        assert_eq!(error_json(&e)["error"]["kind"], "invalid_input");
        assert!(e.message.contains("CLOSED"));
    }
}
