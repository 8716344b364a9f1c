//! The tool catalogue, derived from the embedded WIT: names, descriptions and JSON Schemas
//! (feature `wit`). `host-demo` uses it at run time; the Spin component's build script
//! renders it into the component.
//!
//! Nothing here is hand-written per tool: every exported function of the `tools` interface
//! becomes one tool, in WIT order.

use std::collections::BTreeSet;

use anyhow::{Context, Result, anyhow};
use serde_json::{Map, Value, json};
use wit_parser::{Docs, Function, Resolve, Type, TypeDefKind};

use crate::ToolSpec;

/// The WIT package this host serves, compiled in.
pub const WIT_SOURCE: &str = include_str!("../../wit/connector.wit");

/// The world and interface the component exports.
const WORLD: &str = "connector";
const INTERFACE: &str = "tools";

/// One parameter of a tool.
#[derive(Debug, Clone)]
pub struct Param {
    /// The JSON (snake_case) name.
    pub name: String,
    /// The WIT type.
    pub ty: Type,
    /// Whether the argument may be left out (`option<T>`).
    pub optional: bool,
}

/// One tool: one exported function.
#[derive(Debug, Clone)]
pub struct Tool {
    /// The JSON / MCP name (`list_repositories`).
    pub name: String,
    /// The WIT export name (`list-repositories`).
    pub wit_name: String,
    /// The function's doc comment, with WIT names rewritten to their JSON form.
    pub description: String,
    /// The parameters in WIT order.
    pub params: Vec<Param>,
    /// The JSON Schema of the arguments object.
    pub input_schema: Value,
}

/// The parsed WIT and the tools of its exported interface.
pub struct Catalog {
    pub resolve: Resolve,
    /// The fully qualified interface name, e.g. `bitbucket:connector/tools@0.1.0`.
    pub interface_name: String,
    pub tools: Vec<Tool>,
}

/// `invalid-input` → `invalid_input`; a leading `%` (WIT keyword escape) is dropped.
pub fn json_name(wit_name: &str) -> String {
    wit_name.trim_start_matches('%').replace('-', "_")
}

impl Catalog {
    /// Parses the embedded WIT.
    pub fn embedded() -> Result<Catalog> {
        Catalog::from_wit("connector.wit", WIT_SOURCE)
    }

    /// Parses a WIT package given as text.
    pub fn from_wit(path: &str, source: &str) -> Result<Catalog> {
        let mut resolve = Resolve::default();
        let pkg = resolve
            .push_source(path, source)
            .context("parsing the WIT package")?;
        let world = resolve
            .select_world(&[pkg], Some(WORLD))
            .context("finding the WIT world")?;
        let iface_id = resolve.worlds[world]
            .exports
            .values()
            .find_map(|item| match item {
                wit_parser::WorldItem::Interface { id, .. }
                    if resolve.interfaces[*id].name.as_deref() == Some(INTERFACE) =>
                {
                    Some(*id)
                }
                _ => None,
            })
            .ok_or_else(|| anyhow!("the world `{WORLD}` does not export `{INTERFACE}`"))?;
        let interface_name = resolve
            .id_of(iface_id)
            .ok_or_else(|| anyhow!("the interface `{INTERFACE}` has no package name"))?;

        let iface = &resolve.interfaces[iface_id];
        let renames = kebab_names(&resolve, iface_id);
        let iface_doc = doc_text(&iface.docs);

        let mut tools = Vec::new();
        for func in iface.functions.values() {
            tools.push(build_tool(&resolve, func, &iface_doc, &renames));
        }
        Ok(Catalog {
            resolve,
            interface_name,
            tools,
        })
    }

    /// The tool with this JSON name (the WIT name is accepted too).
    pub fn tool(&self, name: &str) -> Option<&Tool> {
        self.tools
            .iter()
            .find(|t| t.name == name || t.wit_name == name)
    }

    /// What the protocol layer needs of each tool, in WIT order.
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.tools.iter().map(Tool::spec).collect()
    }

    /// `[{name, description, input_schema}]`, the form `host-demo tools` prints.
    pub fn tools_json(&self) -> Value {
        crate::tools_json(&self.specs())
    }
}

impl Tool {
    /// The tool's [`ToolSpec`].
    pub fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: self.name.clone(),
            wit_name: self.wit_name.clone(),
            description: self.description.clone(),
            input_schema: self.input_schema.clone(),
        }
    }
}

fn build_tool(resolve: &Resolve, func: &Function, iface_doc: &str, renames: &Renames) -> Tool {
    let func_doc = doc_text(&func.docs);
    let all_params: Vec<&str> = func.params.iter().map(|p| p.name.as_str()).collect();
    let mut params = Vec::new();
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in &func.params {
        let (optional, inner) = match option_inner(resolve, &p.ty) {
            Some(inner) => (true, inner),
            None => (false, p.ty),
        };
        let name = json_name(&p.name);
        let mut schema = type_schema(resolve, &inner, true);
        let description = param_description(&p.name, &all_params, &func_doc, iface_doc, renames);
        if let (Some(text), Value::Object(obj)) = (description, &mut schema) {
            obj.insert("description".into(), Value::String(text));
        }
        properties.insert(name.clone(), schema);
        if !optional {
            required.push(Value::String(name.clone()));
        }
        params.push(Param {
            name,
            ty: p.ty,
            optional,
        });
    }
    let input_schema = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    Tool {
        name: json_name(&func.name),
        wit_name: func.name.clone(),
        description: renames.apply(&func_doc),
        params,
        input_schema,
    }
}

/// `Some(T)` when `ty` is (an alias of) `option<T>`.
pub fn option_inner(resolve: &Resolve, ty: &Type) -> Option<Type> {
    match ty {
        Type::Id(id) => match &resolve.types[*id].kind {
            TypeDefKind::Option(inner) => Some(*inner),
            TypeDefKind::Type(t) => option_inner(resolve, t),
            _ => None,
        },
        _ => None,
    }
}

/// The JSON Schema of a WIT type. `accept_single` lets a `list<T>` also be given as one `T`.
fn type_schema(resolve: &Resolve, ty: &Type, accept_single: bool) -> Value {
    match ty {
        Type::Bool => json!({"type": "boolean"}),
        Type::U8 => json!({"type": "integer", "minimum": 0, "maximum": u8::MAX}),
        Type::U16 => json!({"type": "integer", "minimum": 0, "maximum": u16::MAX}),
        Type::U32 => json!({"type": "integer", "minimum": 0, "maximum": u32::MAX}),
        Type::U64 => json!({"type": "integer", "minimum": 0}),
        Type::S8 => json!({"type": "integer", "minimum": i8::MIN, "maximum": i8::MAX}),
        Type::S16 => json!({"type": "integer", "minimum": i16::MIN, "maximum": i16::MAX}),
        Type::S32 => json!({"type": "integer", "minimum": i32::MIN, "maximum": i32::MAX}),
        Type::S64 => json!({"type": "integer"}),
        Type::F32 | Type::F64 => json!({"type": "number"}),
        Type::Char => json!({"type": "string", "minLength": 1, "maxLength": 1}),
        Type::String => json!({"type": "string"}),
        Type::ErrorContext => json!({}),
        Type::Id(id) => {
            let def = &resolve.types[*id];
            match &def.kind {
                TypeDefKind::Type(t) => type_schema(resolve, t, accept_single),
                TypeDefKind::Option(inner) => {
                    json!({"anyOf": [type_schema(resolve, inner, accept_single), {"type": "null"}]})
                }
                TypeDefKind::List(inner) | TypeDefKind::FixedLengthList(inner, _) => {
                    let item = type_schema(resolve, inner, false);
                    let array = json!({"type": "array", "items": item});
                    if accept_single {
                        json!({"anyOf": [item, array]})
                    } else {
                        array
                    }
                }
                TypeDefKind::Enum(e) => {
                    let cases: Vec<Value> = e
                        .cases
                        .iter()
                        .map(|c| Value::String(json_name(&c.name)))
                        .collect();
                    json!({"type": "string", "enum": cases})
                }
                TypeDefKind::Record(r) => {
                    let mut props = Map::new();
                    let mut required = Vec::new();
                    for f in &r.fields {
                        let (optional, inner) = match option_inner(resolve, &f.ty) {
                            Some(inner) => (true, inner),
                            None => (false, f.ty),
                        };
                        let mut s = type_schema(resolve, &inner, false);
                        if let (Some(d), Value::Object(o)) = (&f.docs.contents, &mut s) {
                            o.insert("description".into(), Value::String(one_line(d)));
                        }
                        props.insert(json_name(&f.name), s);
                        if !optional {
                            required.push(Value::String(json_name(&f.name)));
                        }
                    }
                    json!({"type": "object", "properties": props, "required": required,
                           "additionalProperties": false})
                }
                TypeDefKind::Flags(f) => {
                    let names: Vec<Value> = f
                        .flags
                        .iter()
                        .map(|f| Value::String(json_name(&f.name)))
                        .collect();
                    json!({"type": "array", "items": {"type": "string", "enum": names},
                           "uniqueItems": true})
                }
                TypeDefKind::Tuple(t) => {
                    let items: Vec<Value> = t
                        .types
                        .iter()
                        .map(|t| type_schema(resolve, t, false))
                        .collect();
                    json!({"type": "array", "prefixItems": items,
                           "minItems": t.types.len(), "maxItems": t.types.len()})
                }
                TypeDefKind::Variant(v) => {
                    let alts: Vec<Value> = v
                        .cases
                        .iter()
                        .map(|c| match &c.ty {
                            None => json!({"const": json_name(&c.name)}),
                            Some(t) => json!({
                                "type": "object",
                                "properties": {json_name(&c.name): type_schema(resolve, t, false)},
                                "required": [json_name(&c.name)],
                                "additionalProperties": false,
                            }),
                        })
                        .collect();
                    json!({"oneOf": alts})
                }
                TypeDefKind::Result(r) => {
                    let side = |t: &Option<Type>| match t {
                        Some(t) => type_schema(resolve, t, false),
                        None => json!({"type": "null"}),
                    };
                    json!({"oneOf": [
                        {"type": "object", "properties": {"ok": side(&r.ok)}, "required": ["ok"],
                         "additionalProperties": false},
                        {"type": "object", "properties": {"error": side(&r.err)}, "required": ["error"],
                         "additionalProperties": false},
                    ]})
                }
                _ => json!({}),
            }
        }
    }
}

/// Joins a doc comment's lines into one paragraph.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn doc_text(docs: &Docs) -> String {
    docs.contents.as_deref().map(one_line).unwrap_or_default()
}

/// Splits a paragraph into sentences (a period followed by a space ends one).
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'.' && (i + 1 == bytes.len() || bytes[i + 1] == b' ') {
            let s = text[start..=i].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = i + 1;
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// A parameter's description: the sentences of the function's doc that name it in backticks,
/// else those of the interface's doc. A sentence that also names other parameters is cut to
/// its `;`-separated clauses that name this one.
fn param_description(
    wit_name: &str,
    all_params: &[&str],
    func_doc: &str,
    iface_doc: &str,
    renames: &Renames,
) -> Option<String> {
    let quoted = |name: &str| format!("`{name}`");
    let needle = quoted(wit_name);
    for doc in [func_doc, iface_doc] {
        let mut picked = Vec::new();
        for sentence in sentences(doc).into_iter().filter(|s| s.contains(&needle)) {
            let others = all_params
                .iter()
                .any(|p| *p != wit_name && sentence.contains(&quoted(p)));
            let clauses: Vec<&str> = sentence.split("; ").collect();
            if others && clauses.len() > 1 {
                for clause in clauses.into_iter().filter(|c| c.contains(&needle)) {
                    let clause = clause.trim_end_matches('.');
                    let mut chars = clause.chars();
                    let mut text: String = chars
                        .next()
                        .into_iter()
                        .flat_map(char::to_uppercase)
                        .collect();
                    text.push_str(chars.as_str());
                    text.push('.');
                    picked.push(text);
                }
            } else {
                picked.push(sentence.to_string());
            }
        }
        if !picked.is_empty() {
            return Some(renames.apply(&picked.join(" ")));
        }
    }
    None
}

/// Rewrites WIT names in prose to their JSON form: backticked parameter, field and case names,
/// and function names anywhere.
struct Renames {
    /// Kebab names of parameters, fields and cases (only rewritten inside backticks).
    quoted: BTreeSet<String>,
    /// Function names (rewritten wherever they appear as a word).
    functions: BTreeSet<String>,
}

fn kebab_names(resolve: &Resolve, iface: wit_parser::InterfaceId) -> Renames {
    let iface = &resolve.interfaces[iface];
    let mut quoted = BTreeSet::new();
    let mut functions = BTreeSet::new();
    for f in iface.functions.values() {
        functions.insert(f.name.clone());
        for p in &f.params {
            quoted.insert(p.name.clone());
        }
    }
    for id in iface.types.values() {
        match &resolve.types[*id].kind {
            TypeDefKind::Record(r) => {
                quoted.extend(r.fields.iter().map(|f| f.name.clone()));
            }
            TypeDefKind::Enum(e) => quoted.extend(e.cases.iter().map(|c| c.name.clone())),
            TypeDefKind::Variant(v) => quoted.extend(v.cases.iter().map(|c| c.name.clone())),
            TypeDefKind::Flags(f) => quoted.extend(f.flags.iter().map(|c| c.name.clone())),
            _ => {}
        }
    }
    quoted.retain(|n| n.contains('-'));
    Renames { quoted, functions }
}

impl Renames {
    fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        for name in &self.quoted {
            out = out.replace(&format!("`{name}`"), &format!("`{}`", json_name(name)));
        }
        for name in &self.functions {
            out = replace_word(&out, name, &json_name(name));
        }
        out
    }
}

/// Replaces `word` where it is not part of a longer identifier.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(word) {
        let before = rest[..pos].chars().next_back();
        let after = rest[pos + word.len()..].chars().next();
        out.push_str(&rest[..pos]);
        if before.is_some_and(is_ident) || after.is_some_and(is_ident) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[pos + word.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::embedded().expect("the embedded WIT parses")
    }

    #[test]
    fn eight_tools_in_wit_order() {
        let c = catalog();
        let names: Vec<&str> = c.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "list_repositories",
                "browse_repository",
                "read_file",
                "search_code",
                "list_commits",
                "get_commit",
                "list_pull_requests",
                "list_pipelines",
            ]
        );
        assert_eq!(c.interface_name, "bitbucket:connector/tools@0.1.0");
    }

    #[test]
    fn descriptions_come_from_docs() {
        let c = catalog();
        let t = c.tool("read_file").unwrap();
        assert!(t.description.starts_with("Read the text file at `path`"));
        // WIT names in backticks are shown with their JSON spelling.
        assert!(t.description.contains("`start_line`/`end_line`"));
        assert!(!t.description.contains('\n'));
        let path = &t.input_schema["properties"]["path"]["description"];
        assert!(
            path.as_str().unwrap().contains("from the repository root"),
            "{path}"
        );
    }

    #[test]
    fn read_file_schema() {
        let c = catalog();
        let s = &c.tool("read_file").unwrap().input_schema;
        assert_eq!(s["type"], "object");
        assert_eq!(s["additionalProperties"], false);
        assert_eq!(s["required"], json!(["path"]));
        let props = s["properties"].as_object().unwrap();
        let keys: Vec<&String> = props.keys().collect();
        assert_eq!(
            keys.len(),
            5,
            "repo, path, branch, start_line, end_line: {keys:?}"
        );
        assert_eq!(props["path"]["type"], "string");
        assert_eq!(props["start_line"]["type"], "integer");
        assert_eq!(props["start_line"]["minimum"], 0);
        assert!(
            props["start_line"]["description"]
                .as_str()
                .unwrap()
                .contains("`start_line`")
        );
        assert!(
            props["repo"]["description"]
                .as_str()
                .unwrap()
                .contains("workspace/slug")
        );
    }

    #[test]
    fn list_param_accepts_single_value() {
        let c = catalog();
        let s = &c.tool("list_pull_requests").unwrap().input_schema;
        let state = &s["properties"]["state"];
        assert_eq!(state["anyOf"][0]["type"], "string");
        assert_eq!(state["anyOf"][1]["type"], "array");
        assert_eq!(state["anyOf"][1]["items"]["type"], "string");
        assert_eq!(s["required"], json!([]));
    }

    #[test]
    fn required_params() {
        let c = catalog();
        let req = |t: &str| c.tool(t).unwrap().input_schema["required"].clone();
        assert_eq!(req("search_code"), json!(["query"]));
        assert_eq!(req("get_commit"), json!(["commit"]));
        assert_eq!(req("list_repositories"), json!([]));
    }

    #[test]
    fn tools_json_shape() {
        let v = catalog().tools_json();
        let arr = v.as_array().unwrap();
        assert_eq!(arr.len(), 8);
        for t in arr {
            let o = t.as_object().unwrap();
            assert_eq!(o.len(), 3);
            assert!(o["description"].as_str().unwrap().len() > 20);
        }
    }

    #[test]
    fn word_replacement() {
        assert_eq!(replace_word("a read-file b", "read-file", "x"), "a x b");
        assert_eq!(
            replace_word("pre-read-file", "read-file", "x"),
            "pre-read-file"
        );
        assert_eq!(
            sentences("One. `a` two; three. Four"),
            ["One.", "`a` two; three.", "Four"]
        );
    }
}
