//! Tests of `schema.rs`: the JSON Schemas and tool descriptions derived from the WIT.

use super::*;

fn catalog() -> Catalog {
    Catalog::embedded().expect("the embedded WIT parses")
}

#[test]
fn tools_in_wit_order() {
    let c = catalog();
    let names: Vec<&str> = c.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        &names[..11],
        [
            "list_repositories",
            "browse_repository",
            "read_file",
            "search_code",
            "list_commits",
            "get_commit",
            "list_pull_requests",
            "list_pipelines",
            "list_branches",
            "get_pull_request",
            "get_pipeline",
        ]
    );
    assert_eq!(c.interface_name, "bitbucket:connector/tools@0.1.0");
}

#[test]
fn titles_and_descriptions_come_from_the_doc_convention() {
    let c = catalog();
    let t = c.tool("read_file").unwrap();
    assert_eq!(t.title, "Read a file");
    assert_eq!(
        c.tool("browse_repository").unwrap().title,
        "Browse a directory"
    );
    assert!(
        t.description
            .starts_with("A text file with 1-based line numbers.")
    );
    assert!(!t.description.contains('\n') && !t.description.contains("- `"));
    for t in &c.tools {
        assert!(
            !t.title.is_empty() && !t.title.contains('_'),
            "{}: {}",
            t.name,
            t.title
        );
        assert!(
            t.description.ends_with('.'),
            "{}: {}",
            t.name,
            t.description
        );
    }
}

/// Every property's description is its own bullet, whole: the text the WIT gives that
/// parameter, no more (no other parameter's sentence) and no less (not cut at an `e.g.`).
#[test]
fn every_property_has_its_complete_description() {
    let c = catalog();
    let iface = c
        .resolve
        .interfaces
        .iter()
        .find(|(_, i)| i.name.as_deref() == Some(INTERFACE))
        .unwrap()
        .1;
    for func in iface.functions.values() {
        let doc = FunctionDoc::parse(&func.name, func.docs.contents.as_deref().unwrap()).unwrap();
        let tool = c.tool(&func.name).unwrap();
        let props = tool.input_schema["properties"].as_object().unwrap();
        assert_eq!(props.len(), func.params.len(), "{}", tool.name);
        for p in &func.params {
            let prop = &props[&json_name(&p.name)];
            let text = prop["description"]
                .as_str()
                .unwrap_or_else(|| panic!("{}.{} has no description", tool.name, p.name));
            let bullet = &doc.param(&p.name).unwrap().text;
            assert!(
                text.len() >= 10 && text.ends_with('.'),
                "{}.{}: {text}",
                tool.name,
                p.name
            );
            assert_eq!(
                text.replace('_', "-"),
                bullet.replace('_', "-"),
                "{}.{}",
                tool.name,
                p.name
            );
            for other in func.params.iter().filter(|o| o.name != p.name) {
                assert!(
                    !text.contains(&format!("`{}`", json_name(&other.name))),
                    "{}.{} speaks of `{}`: {text}",
                    tool.name,
                    p.name,
                    other.name
                );
            }
        }
    }
    let read = &c.tool("read_file").unwrap().input_schema["properties"];
    assert_eq!(
        read["path"]["description"],
        "the file's path from the repository root, e.g. `src/main.rs`."
    );
    let commits = &c.tool("list_commits").unwrap().input_schema["properties"];
    assert_eq!(
        commits["path"]["description"],
        "only commits touching this file or directory."
    );
}

#[test]
fn limits_are_1_to_100_and_states_are_enums() {
    let c = catalog();
    let mut with_limit = 0;
    for t in &c.tools {
        if let Some(limit) = t.input_schema["properties"].get("limit") {
            with_limit += 1;
            assert_eq!(limit["type"], "integer", "{}", t.name);
            assert_eq!(
                (&limit["minimum"], &limit["maximum"], &limit["default"]),
                (&json!(1), &json!(100), &json!(30)),
                "{}",
                t.name
            );
        }
    }
    assert!(with_limit >= 6);
    let pr = &c.tool("list_pull_requests").unwrap().input_schema["properties"]["state"];
    let states = json!(["OPEN", "MERGED", "DECLINED", "SUPERSEDED"]);
    assert_eq!(pr["anyOf"][0]["enum"], states);
    assert_eq!(pr["anyOf"][1]["items"]["enum"], states);
    assert_eq!(pr["default"], "OPEN");
    let status = &c.tool("list_pipelines").unwrap().input_schema["properties"]["status"];
    assert_eq!(
        status["enum"],
        json!([
            "PENDING",
            "IN_PROGRESS",
            "SUCCESSFUL",
            "FAILED",
            "ERROR",
            "STOPPED",
            "PAUSED",
            "HALTED",
            "PARSING"
        ])
    );
    let start = &c.tool("read_file").unwrap().input_schema["properties"]["start_line"];
    assert_eq!(start["minimum"], 1);
}

#[test]
fn read_file_schema() {
    let c = catalog();
    let s = &c.tool("read_file").unwrap().input_schema;
    assert_eq!(s["type"], "object");
    assert_eq!(s["additionalProperties"], false);
    assert_eq!(s["required"], json!(["path"]));
    let props = s["properties"].as_object().unwrap();
    let mut keys: Vec<&String> = props.keys().collect();
    keys.sort();
    assert_eq!(keys, ["branch", "end_line", "path", "repo", "start_line"]);
    assert_eq!(props["path"]["type"], "string");
    assert_eq!(props["start_line"]["type"], "integer");
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
    assert_eq!(arr.len(), catalog().tools.len());
    for t in arr {
        let o = t.as_object().unwrap();
        assert_eq!(o.len(), 3);
        assert!(o["description"].as_str().unwrap().len() > 20);
    }
}

/// A WIT whose docs break the convention does not become a catalogue.
#[test]
fn a_doc_off_the_convention_fails_the_build() {
    let wit = |doc: &str| {
        format!(
            "package a:b@0.1.0;\ninterface tools {{\n{doc}\n  f: func(x: option<u32>, y: string);\n}}\nworld connector {{ export tools; }}\n"
        )
    };
    let good = "/// # F\n///\n/// Does f.\n///\n/// - `x` (1..=5): the x.\n/// - `y`: the y.";
    let c = Catalog::from_wit("t.wit", &wit(good)).unwrap();
    assert_eq!(c.tools[0].input_schema["properties"]["x"]["maximum"], 5);
    for bad in [
        // `y` has no bullet.
        "/// # F\n///\n/// Does f.\n///\n/// - `x`: the x.",
        // `z` is not a parameter.
        "/// # F\n///\n/// Does f.\n///\n/// - `x`: the x.\n/// - `y`: the y.\n/// - `z`: the z.",
        // A range on a string.
        "/// # F\n///\n/// Does f.\n///\n/// - `x`: the x.\n/// - `y` (1..=2): the y.",
        // `one of` on an integer.
        "/// # F\n///\n/// Does f.\n///\n/// - `x` (one of A, B): the x.\n/// - `y`: the y.",
        // No heading.
        "/// Does f.\n///\n/// - `x`: the x.\n/// - `y`: the y.",
    ] {
        assert!(Catalog::from_wit("t.wit", &wit(bad)).is_err(), "{bad}");
    }
}

#[test]
fn word_replacement() {
    assert_eq!(replace_word("a read-file b", "read-file", "x"), "a x b");
    assert_eq!(
        replace_word("pre-read-file", "read-file", "x"),
        "pre-read-file"
    );
}
