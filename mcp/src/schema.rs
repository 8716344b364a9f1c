//! The tool catalogue, derived from the embedded WIT: names, descriptions and JSON Schemas
//! (feature `wit`). `host-demo` uses it at run time; the Spin component's build script
//! renders it into the component.
//!
//! Nothing here is hand-written per tool: every exported function of the `tools` interface
//! becomes one tool, in WIT order, described by its doc comment as [`crate::wit_docs`]
//! defines it (title, description, one bullet per parameter with its constraints).

use std::collections::BTreeSet;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value, json};
use wit_parser::{Function, Resolve, Type, TypeDefKind};

use crate::ToolSpec;
use crate::wit_docs::{Constraints, FunctionDoc, one_line};

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
    /// The title written in the function's doc heading.
    pub title: String,
    /// The function's description, with WIT names rewritten to their JSON form.
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

        let mut tools = Vec::new();
        for func in iface.functions.values() {
            tools.push(build_tool(&resolve, func, &renames)?);
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
            title: self.title.clone(),
            description: self.description.clone(),
            input_schema: self.input_schema.clone(),
        }
    }
}

fn build_tool(resolve: &Resolve, func: &Function, renames: &Renames) -> Result<Tool> {
    let doc = FunctionDoc::parse(&func.name, func.docs.contents.as_deref().unwrap_or(""))
        .map_err(|e| anyhow!(e))?;
    let mut params = Vec::new();
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in &func.params {
        let (optional, inner) = match option_inner(resolve, &p.ty) {
            Some(inner) => (true, inner),
            None => (false, p.ty),
        };
        let name = json_name(&p.name);
        let param_doc = doc.param(&p.name).ok_or_else(|| {
            anyhow!(
                "the doc of `{}` has no bullet for the parameter `{}`",
                func.name,
                p.name
            )
        })?;
        let mut schema = type_schema(resolve, &inner, true);
        apply_constraints(&mut schema, &param_doc.constraints)
            .map_err(|e| anyhow!("`{}` parameter `{}`: {e}", func.name, p.name))?;
        if let Value::Object(obj) = &mut schema {
            obj.insert(
                "description".into(),
                Value::String(renames.apply(&param_doc.text)),
            );
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
    if let Some(stray) = doc
        .params
        .iter()
        .find(|d| !func.params.iter().any(|p| p.name == d.name))
    {
        bail!(
            "the doc of `{}` describes `{}`, which is not one of its parameters",
            func.name,
            stray.name
        );
    }
    let input_schema = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    Ok(Tool {
        name: json_name(&func.name),
        wit_name: func.name.clone(),
        title: doc.title,
        description: renames.apply(&doc.description),
        params,
        input_schema,
    })
}

/// Writes a bullet's constraints into a parameter's schema: a range on an integer, the
/// allowed values on a string (or on each string of a list), a default on the parameter.
fn apply_constraints(schema: &mut Value, c: &Constraints) -> std::result::Result<(), String> {
    if c.minimum.is_some() || c.maximum.is_some() {
        if schema["type"] != "integer" {
            return Err("a range is only for integers".into());
        }
        for (key, bound) in [("minimum", c.minimum), ("maximum", c.maximum)] {
            if let Some(bound) = bound {
                schema[key] = json!(bound);
            }
        }
    }
    if let Some(values) = &c.one_of {
        let mut strings = 0;
        for_each_string(schema, &mut |s| {
            s.insert("enum".into(), json!(values));
            strings += 1;
        });
        if strings == 0 {
            return Err("`one of` is only for strings and lists of strings".into());
        }
    }
    if let (Some(default), Value::Object(obj)) = (&c.default, &mut *schema) {
        obj.insert("default".into(), default.clone());
    }
    Ok(())
}

/// Calls `f` on every `{"type": "string"}` schema inside `schema`.
fn for_each_string(schema: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    match schema {
        Value::Object(obj) => {
            if obj.get("type").and_then(Value::as_str) == Some("string") {
                f(obj);
            }
            for value in obj.values_mut() {
                for_each_string(value, f);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| for_each_string(v, f)),
        _ => {}
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
#[path = "schema_tests.rs"]
mod tests;
