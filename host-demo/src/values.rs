//! JSON ↔ component values.
//!
//! Arguments are converted from JSON guided by the WIT types (so the host can reject a bad
//! argument before the component runs); results are converted from the `Val`s the component
//! returned, which carry their own names.

use serde_json::{Map, Number, Value};
use wasmtime::component::Val;
use wit_parser::{Resolve, Type, TypeDefKind};

use crate::schema::{Tool, json_name};

/// Converts a tool's JSON arguments to its parameters, in WIT order.
///
/// The error is a message for an `invalid_input` tool error; it names the argument.
pub fn args_to_vals(resolve: &Resolve, tool: &Tool, args: &Value) -> Result<Vec<Val>, String> {
    let empty = Map::new();
    let obj = match args {
        Value::Object(o) => o,
        Value::Null => &empty,
        other => {
            return Err(format!(
                "the arguments of `{}` must be a JSON object, not {}",
                tool.name,
                describe(other)
            ));
        }
    };
    if let Some(unknown) = obj
        .keys()
        .find(|k| !tool.params.iter().any(|p| &p.name == *k))
    {
        let known: Vec<&str> = tool.params.iter().map(|p| p.name.as_str()).collect();
        return Err(format!(
            "unknown argument `{unknown}`: `{}` takes {}",
            tool.name,
            if known.is_empty() {
                "no arguments".to_string()
            } else {
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
    }
    let mut vals = Vec::with_capacity(tool.params.len());
    for p in &tool.params {
        let value = obj.get(&p.name).unwrap_or(&Value::Null);
        if value.is_null() && !p.optional {
            return Err(format!(
                "missing required argument `{}` of `{}`",
                p.name, tool.name
            ));
        }
        vals.push(json_to_val(resolve, &p.ty, value, &p.name)?);
    }
    Ok(vals)
}

/// A short description of a JSON value's type, for messages.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn mismatch(path: &str, expected: &str, got: &Value) -> String {
    format!(
        "argument `{path}` must be {expected}, not {}",
        describe(got)
    )
}

fn unsigned(path: &str, v: &Value, max: u64, what: &str) -> Result<u64, String> {
    let n = match v {
        Value::Number(n) => n,
        _ => return Err(mismatch(path, what, v)),
    };
    match n.as_u64() {
        Some(x) if x <= max => Ok(x),
        Some(_) => Err(format!("argument `{path}` must be at most {max}, not {n}")),
        None if n.as_i64().is_some() => {
            Err(format!("argument `{path}` must not be negative, not {n}"))
        }
        None => Err(format!("argument `{path}` must be a whole number, not {n}")),
    }
}

fn signed(path: &str, v: &Value, min: i64, max: i64, what: &str) -> Result<i64, String> {
    let n = match v {
        Value::Number(n) => n,
        _ => return Err(mismatch(path, what, v)),
    };
    match n.as_i64() {
        Some(x) if (min..=max).contains(&x) => Ok(x),
        Some(_) => Err(format!(
            "argument `{path}` must be between {min} and {max}, not {n}"
        )),
        None if n.as_u64().is_some() => {
            Err(format!("argument `{path}` must be at most {max}, not {n}"))
        }
        None => Err(format!("argument `{path}` must be a whole number, not {n}")),
    }
}

/// Converts one JSON value to a `Val` of WIT type `ty`; `path` names it in messages.
pub fn json_to_val(resolve: &Resolve, ty: &Type, v: &Value, path: &str) -> Result<Val, String> {
    Ok(match ty {
        Type::Bool => match v {
            Value::Bool(b) => Val::Bool(*b),
            _ => return Err(mismatch(path, "true or false", v)),
        },
        Type::U8 => Val::U8(unsigned(path, v, u8::MAX.into(), "an integer")? as u8),
        Type::U16 => Val::U16(unsigned(path, v, u16::MAX.into(), "an integer")? as u16),
        Type::U32 => Val::U32(unsigned(path, v, u32::MAX.into(), "an integer")? as u32),
        Type::U64 => Val::U64(unsigned(path, v, u64::MAX, "an integer")?),
        Type::S8 => Val::S8(signed(path, v, i8::MIN.into(), i8::MAX.into(), "an integer")? as i8),
        Type::S16 => {
            Val::S16(signed(path, v, i16::MIN.into(), i16::MAX.into(), "an integer")? as i16)
        }
        Type::S32 => {
            Val::S32(signed(path, v, i32::MIN.into(), i32::MAX.into(), "an integer")? as i32)
        }
        Type::S64 => Val::S64(signed(path, v, i64::MIN, i64::MAX, "an integer")?),
        Type::F32 => match v.as_f64() {
            Some(x) if v.is_number() => Val::Float32(x as f32),
            _ => return Err(mismatch(path, "a number", v)),
        },
        Type::F64 => match v.as_f64() {
            Some(x) if v.is_number() => Val::Float64(x),
            _ => return Err(mismatch(path, "a number", v)),
        },
        Type::Char => match v {
            Value::String(s) if s.chars().count() == 1 => Val::Char(s.chars().next().unwrap()),
            _ => return Err(mismatch(path, "a single character", v)),
        },
        Type::String => match v {
            Value::String(s) => Val::String(s.clone()),
            _ => return Err(mismatch(path, "a string", v)),
        },
        Type::ErrorContext => {
            return Err(format!("argument `{path}` has a type JSON cannot express"));
        }
        Type::Id(id) => {
            let def = &resolve.types[*id];
            match &def.kind {
                TypeDefKind::Type(t) => json_to_val(resolve, t, v, path)?,
                TypeDefKind::Option(inner) => match v {
                    Value::Null => Val::Option(None),
                    _ => Val::Option(Some(Box::new(json_to_val(resolve, inner, v, path)?))),
                },
                TypeDefKind::List(inner) => match v {
                    Value::Array(items) => Val::List(
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, item)| {
                                json_to_val(resolve, inner, item, &format!("{path}[{i}]"))
                            })
                            .collect::<Result<_, _>>()?,
                    ),
                    // A single value stands for a one-element list.
                    _ => Val::List(vec![json_to_val(resolve, inner, v, path)?]),
                },
                TypeDefKind::FixedLengthList(inner, len) => match v {
                    Value::Array(items) if items.len() == *len as usize => Val::FixedLengthList(
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, item)| {
                                json_to_val(resolve, inner, item, &format!("{path}[{i}]"))
                            })
                            .collect::<Result<_, _>>()?,
                    ),
                    _ => return Err(mismatch(path, &format!("an array of {len} items"), v)),
                },
                TypeDefKind::Enum(e) => {
                    let names = || {
                        e.cases
                            .iter()
                            .map(|c| format!("`{}`", json_name(&c.name)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    let Value::String(s) = v else {
                        return Err(mismatch(path, &format!("one of {}", names()), v));
                    };
                    let case = e
                        .cases
                        .iter()
                        .find(|c| json_name(&c.name) == *s || c.name == *s)
                        .ok_or_else(|| {
                            format!("argument `{path}` must be one of {}, not `{s}`", names())
                        })?;
                    Val::Enum(case.name.clone())
                }
                TypeDefKind::Record(r) => {
                    let Value::Object(obj) = v else {
                        return Err(mismatch(path, "an object", v));
                    };
                    if let Some(k) = obj
                        .keys()
                        .find(|k| !r.fields.iter().any(|f| json_name(&f.name) == **k))
                    {
                        return Err(format!("argument `{path}` has an unknown field `{k}`"));
                    }
                    let mut fields = Vec::with_capacity(r.fields.len());
                    for f in &r.fields {
                        let key = json_name(&f.name);
                        let sub = format!("{path}.{key}");
                        let fv = obj.get(&key).unwrap_or(&Value::Null);
                        let optional = crate::schema::option_inner(resolve, &f.ty).is_some();
                        if fv.is_null() && !optional {
                            return Err(format!("argument `{sub}` is missing"));
                        }
                        fields.push((f.name.clone(), json_to_val(resolve, &f.ty, fv, &sub)?));
                    }
                    Val::Record(fields)
                }
                TypeDefKind::Tuple(t) => match v {
                    Value::Array(items) if items.len() == t.types.len() => Val::Tuple(
                        t.types
                            .iter()
                            .zip(items)
                            .enumerate()
                            .map(|(i, (ty, item))| {
                                json_to_val(resolve, ty, item, &format!("{path}[{i}]"))
                            })
                            .collect::<Result<_, _>>()?,
                    ),
                    _ => {
                        return Err(mismatch(
                            path,
                            &format!("an array of {} items", t.types.len()),
                            v,
                        ));
                    }
                },
                TypeDefKind::Flags(f) => {
                    let items: Vec<&Value> = match v {
                        Value::Array(a) => a.iter().collect(),
                        other => vec![other],
                    };
                    let mut set = Vec::new();
                    for item in items {
                        let flag = item.as_str().and_then(|s| {
                            f.flags
                                .iter()
                                .find(|fl| json_name(&fl.name) == s || fl.name == s)
                        });
                        match flag {
                            Some(fl) => set.push(fl.name.clone()),
                            None => {
                                return Err(format!(
                                    "argument `{path}` has an unknown flag {item}"
                                ));
                            }
                        }
                    }
                    Val::Flags(set)
                }
                TypeDefKind::Variant(var) => {
                    let (name, payload) = match v {
                        Value::String(s) => (s.as_str(), None),
                        Value::Object(o) if o.len() == 1 => {
                            let (k, p) = o.iter().next().unwrap();
                            (k.as_str(), Some(p))
                        }
                        _ => {
                            return Err(mismatch(
                                path,
                                "a case name or an object with one case",
                                v,
                            ));
                        }
                    };
                    let case = var
                        .cases
                        .iter()
                        .find(|c| json_name(&c.name) == name || c.name == name)
                        .ok_or_else(|| format!("argument `{path}` has an unknown case `{name}`"))?;
                    let payload = match (&case.ty, payload) {
                        (None, None) | (None, Some(Value::Null)) => None,
                        (Some(t), Some(p)) => Some(Box::new(json_to_val(
                            resolve,
                            t,
                            p,
                            &format!("{path}.{name}"),
                        )?)),
                        (Some(_), None) => {
                            return Err(format!("argument `{path}`: case `{name}` needs a value"));
                        }
                        (None, Some(_)) => {
                            return Err(format!("argument `{path}`: case `{name}` takes no value"));
                        }
                    };
                    Val::Variant(case.name.clone(), payload)
                }
                TypeDefKind::Result(r) => {
                    let Value::Object(o) = v else {
                        return Err(mismatch(path, "an object with `ok` or `error`", v));
                    };
                    let side = |t: &Option<Type>, p: &Value, sub: &str| match t {
                        Some(t) => json_to_val(resolve, t, p, sub).map(|x| Some(Box::new(x))),
                        None => Ok(None),
                    };
                    if let (1, Some(p)) = (o.len(), o.get("ok")) {
                        Val::Result(Ok(side(&r.ok, p, &format!("{path}.ok"))?))
                    } else if let (1, Some(p)) = (o.len(), o.get("error").or(o.get("err"))) {
                        Val::Result(Err(side(&r.err, p, &format!("{path}.error"))?))
                    } else {
                        return Err(mismatch(path, "an object with `ok` or `error`", v));
                    }
                }
                _ => return Err(format!("argument `{path}` has a type JSON cannot express")),
            }
        }
    })
}

/// Converts a component value to JSON: records → objects with snake_case keys, enums →
/// snake_case strings, `none` → null, `result` → its `ok` value or `{"error": …}`.
pub fn val_to_json(v: &Val) -> Value {
    match v {
        Val::Bool(b) => Value::Bool(*b),
        Val::S8(x) => (*x).into(),
        Val::U8(x) => (*x).into(),
        Val::S16(x) => (*x).into(),
        Val::U16(x) => (*x).into(),
        Val::S32(x) => (*x).into(),
        Val::U32(x) => (*x).into(),
        Val::S64(x) => (*x).into(),
        Val::U64(x) => (*x).into(),
        Val::Float32(x) => Number::from_f64(f64::from(*x)).map_or(Value::Null, Value::Number),
        Val::Float64(x) => Number::from_f64(*x).map_or(Value::Null, Value::Number),
        Val::Char(c) => Value::String(c.to_string()),
        Val::String(s) => Value::String(s.clone()),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            Value::Array(items.iter().map(val_to_json).collect())
        }
        Val::Map(pairs) => {
            if pairs.iter().all(|(k, _)| matches!(k, Val::String(_))) {
                Value::Object(
                    pairs
                        .iter()
                        .map(|(k, v)| match k {
                            Val::String(k) => (k.clone(), val_to_json(v)),
                            _ => unreachable!(),
                        })
                        .collect(),
                )
            } else {
                Value::Array(
                    pairs
                        .iter()
                        .map(|(k, v)| Value::Array(vec![val_to_json(k), val_to_json(v)]))
                        .collect(),
                )
            }
        }
        Val::Record(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (json_name(k), val_to_json(v)))
                .collect(),
        ),
        Val::Variant(name, payload) => match payload {
            None => Value::String(json_name(name)),
            Some(p) => {
                let mut m = Map::new();
                m.insert(json_name(name), val_to_json(p));
                Value::Object(m)
            }
        },
        Val::Enum(name) => Value::String(json_name(name)),
        Val::Option(o) => o.as_deref().map_or(Value::Null, val_to_json),
        Val::Result(Ok(ok)) => ok.as_deref().map_or(Value::Null, val_to_json),
        Val::Result(Err(err)) => {
            let mut m = Map::new();
            m.insert(
                "error".into(),
                err.as_deref().map_or(Value::Null, val_to_json),
            );
            Value::Object(m)
        }
        Val::Flags(names) => {
            Value::Array(names.iter().map(|n| Value::String(json_name(n))).collect())
        }
        Val::Resource(_) | Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Catalog;
    use serde_json::json;

    fn convert(tool: &str, args: Value) -> Result<Vec<Val>, String> {
        let c = Catalog::embedded().unwrap();
        let t = c.tool(tool).unwrap().clone();
        args_to_vals(&c.resolve, &t, &args)
    }

    fn some(v: Val) -> Val {
        Val::Option(Some(Box::new(v)))
    }

    #[test]
    fn empty_object_gives_all_none() {
        let vals = convert("list_repositories", json!({})).unwrap();
        assert_eq!(
            vals,
            [Val::Option(None), Val::Option(None), Val::Option(None)]
        );
        // null arguments count as absent
        let vals = convert("list_repositories", json!({"query": null})).unwrap();
        assert_eq!(vals[0], Val::Option(None));
    }

    #[test]
    fn read_file_arguments() {
        let vals = convert(
            "read_file",
            json!({"path": "src/lib.rs", "start_line": 3, "end_line": 9, "repo": "a/b"}),
        )
        .unwrap();
        assert_eq!(
            vals,
            [
                some(Val::String("a/b".into())),
                Val::String("src/lib.rs".into()),
                Val::Option(None),
                some(Val::U32(3)),
                some(Val::U32(9)),
            ]
        );
    }

    #[test]
    fn missing_required_is_named() {
        let err = convert("read_file", json!({"repo": "x"})).unwrap_err();
        assert!(err.contains("missing required argument `path`"), "{err}");
        let err = convert("get_commit", json!({"commit": null})).unwrap_err();
        assert!(err.contains("`commit`"), "{err}");
    }

    #[test]
    fn unknown_argument_is_named() {
        let err = convert("list_repositories", json!({"workspace": "x"})).unwrap_err();
        assert!(err.contains("unknown argument `workspace`"), "{err}");
        // kebab names are not the JSON names
        let err = convert("read_file", json!({"path": "a", "start-line": 1})).unwrap_err();
        assert!(err.contains("`start-line`"), "{err}");
    }

    #[test]
    fn integers_are_checked() {
        for bad in [
            json!(-1),
            json!(1.5),
            json!("3"),
            json!(4294967296u64),
            json!(true),
        ] {
            let err = convert("list_repositories", json!({ "limit": bad })).unwrap_err();
            assert!(err.contains("`limit`"), "{err}");
        }
        let vals = convert("list_repositories", json!({"limit": 4294967295u64})).unwrap();
        assert_eq!(vals[1], some(Val::U32(u32::MAX)));
    }

    #[test]
    fn wrong_types() {
        let err = convert("search_code", json!({"query": 5})).unwrap_err();
        assert!(err.contains("`query` must be a string"), "{err}");
        let err = convert("list_repositories", json!([1])).unwrap_err();
        assert!(err.contains("JSON object"), "{err}");
    }

    #[test]
    fn list_accepts_single_value_and_array() {
        let one = convert("list_pull_requests", json!({"state": "MERGED"})).unwrap();
        assert_eq!(one[1], some(Val::List(vec![Val::String("MERGED".into())])));
        let two = convert("list_pull_requests", json!({"state": ["OPEN", "MERGED"]})).unwrap();
        assert_eq!(
            two[1],
            some(Val::List(vec![
                Val::String("OPEN".into()),
                Val::String("MERGED".into())
            ]))
        );
        let err = convert("list_pull_requests", json!({"state": ["OPEN", 1]})).unwrap_err();
        assert!(err.contains("`state[1]`"), "{err}");
    }

    #[test]
    fn enum_and_record_from_json() {
        let c = Catalog::from_wit(
            "t.wit",
            r#"package t:t@0.1.0;
            interface tools {
                enum color { dark-red, blue }
                record opts { %type: color, max-size: option<u64>, flag: bool }
                /// # F
                ///
                /// Takes a record and a result.
                ///
                /// - `o`: the options.
                /// - `r`: a result.
                f: func(o: opts, r: result<u32, string>) -> u32;
            }
            world connector { export tools; }"#,
        )
        .unwrap();
        let t = c.tool("f").unwrap().clone();
        let vals = args_to_vals(
            &c.resolve,
            &t,
            &json!({"o": {"type": "dark_red", "flag": true}, "r": {"error": "x"}}),
        )
        .unwrap();
        assert_eq!(
            vals[0],
            Val::Record(vec![
                ("type".into(), Val::Enum("dark-red".into())),
                ("max-size".into(), Val::Option(None)),
                ("flag".into(), Val::Bool(true)),
            ])
        );
        assert_eq!(
            vals[1],
            Val::Result(Err(Some(Box::new(Val::String("x".into())))))
        );
        let err = args_to_vals(
            &c.resolve,
            &t,
            &json!({"o": {"type": "green", "flag": true}, "r": {"ok": 1}}),
        )
        .unwrap_err();
        assert!(
            err.contains("`o.type`") && err.contains("`dark_red`"),
            "{err}"
        );
        let err = args_to_vals(
            &c.resolve,
            &t,
            &json!({"o": {"type": "blue"}, "r": {"ok": 1}}),
        )
        .unwrap_err();
        assert!(err.contains("`o.flag` is missing"), "{err}");
        assert_eq!(
            c.tool("f").unwrap().input_schema["properties"]["o"]["properties"]["type"]["enum"],
            json!(["dark_red", "blue"])
        );
    }

    #[test]
    fn results_to_json() {
        let ok = Val::Result(Ok(Some(Box::new(Val::Record(vec![
            (
                "entries".into(),
                Val::List(vec![Val::Record(vec![
                    ("path".into(), Val::String("a".into())),
                    ("type".into(), Val::Enum("directory".into())),
                    ("size".into(), Val::Option(None)),
                ])]),
            ),
            ("next-page".into(), Val::Option(None)),
            ("total-lines".into(), some(Val::U32(7))),
            ("%ref".into(), Val::String("main".into())),
        ])))));
        assert_eq!(
            val_to_json(&ok),
            json!({"entries": [{"path": "a", "type": "directory", "size": null}],
                   "next_page": null, "total_lines": 7, "ref": "main"})
        );
        let err = Val::Result(Err(Some(Box::new(Val::Record(vec![
            ("kind".into(), Val::Enum("not-found".into())),
            ("message".into(), Val::String("no such repo".into())),
        ])))));
        assert_eq!(
            val_to_json(&err),
            json!({"error": {"kind": "not_found", "message": "no such repo"}})
        );
        assert_eq!(val_to_json(&Val::U64(u64::MAX)), json!(u64::MAX));
    }
}
