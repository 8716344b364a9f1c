//! Portability checks on the built component (`make build` first):
//!
//! - its imports are exactly the WASI 0.2 interfaces every component host provides (wasmtime,
//!   Wassette, Spin, jco): an import a host lacks stops the component from loading there, so
//!   a new one must be a deliberate decision, made by editing [`ALLOWED_IMPORTS`];
//! - its WIT, as `wasm-tools component wit` prints it, matches the checked-in golden file
//!   `wit/golden/connector.wit.txt`, so interface changes show up in review. Regenerate it with
//!   `UPDATE_GOLDEN=1 cargo test --release -p host-demo --test component_portability`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use host_demo::schema::Catalog;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;
use wasmtime::{Config, Engine};
use wit_component::WitPrinter;

/// The imports a host must provide, without versions (all must be `@0.2.x`).
///
/// `wasi:clocks/monotonic-clock` comes with `wasi:http/types`, whose request-option timeouts
/// use its `duration` type; the guest may also use it to wait between retries.
/// `wasi:random/insecure-seed` seeds the `HashMap`s of the scope patterns' regex crate
/// (`regex-lite`); wasmtime, Spin, Wassette and jco all provide it.
const ALLOWED_IMPORTS: [&str; 17] = [
    "wasi:io/poll",
    "wasi:io/error",
    "wasi:io/streams",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:http/types",
    "wasi:http/outgoing-handler",
    "wasi:clocks/monotonic-clock",
    "wasi:random/insecure-seed",
];

/// The WASI version line every import must belong to.
const WASI_VERSION_PREFIX: &str = "0.2.";

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host-demo/ has a parent")
        .to_path_buf()
}

fn component_path() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if PathBuf::from(&d).is_absolute() => PathBuf::from(d),
        Some(d) => workspace_root().join(d),
        None => workspace_root().join("target"),
    };
    let path = target
        .join("wasm32-wasip2")
        .join("component")
        .join("bitbucket_connector.wasm");
    assert!(
        path.is_file(),
        "{} is missing: run `make build` (it builds the component) before these tests",
        path.display()
    );
    path
}

/// `wasi:http/types@0.2.12` → (`wasi:http/types`, `0.2.12`).
fn split_version(name: &str) -> (&str, &str) {
    name.split_once('@').unwrap_or((name, ""))
}

#[test]
fn component_imports_exactly_the_allowed_wasi_0_2_interfaces() {
    let engine = Engine::new(&Config::new()).unwrap();
    let component = Component::from_file(&engine, component_path()).unwrap();
    let ty = component.component_type();

    let mut names = BTreeSet::new();
    let mut problems = Vec::new();
    for (name, item) in ty.imports(&engine) {
        let (unversioned, version) = split_version(name);
        if !matches!(item.ty, ComponentItem::ComponentInstance(_)) {
            problems.push(format!("`{name}` is not an interface import"));
        }
        if !version.starts_with(WASI_VERSION_PREFIX) {
            problems.push(format!(
                "`{name}` is not a WASI {WASI_VERSION_PREFIX}x interface: hosts such as Wassette link only WASI 0.2"
            ));
        }
        names.insert(unversioned.to_string());
    }
    let allowed: BTreeSet<String> = ALLOWED_IMPORTS.iter().map(|s| s.to_string()).collect();
    let new: Vec<&String> = names.difference(&allowed).collect();
    let gone: Vec<&String> = allowed.difference(&names).collect();
    if !new.is_empty() {
        problems.push(format!(
            "new import(s) {new:?}: a host without them cannot load the component. Remove the \
             dependency that pulls them in (HashMap's RandomState adds wasi:random, SystemTime \
             adds wasi:clocks/wall-clock, std::fs adds wasi:filesystem), or, if it is \
             deliberate, add them to ALLOWED_IMPORTS and say why"
        ));
    }
    if !gone.is_empty() {
        problems.push(format!(
            "import(s) {gone:?} are no longer used: remove them from ALLOWED_IMPORTS"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // And it exports the one interface the host serves, at the WIT package's version.
    let catalog = Catalog::embedded().unwrap();
    let exports: Vec<&str> = ty.exports(&engine).map(|(name, _)| name).collect();
    assert_eq!(exports, [catalog.interface_name.as_str()]);
}

/// The component's WIT as `wasm-tools component wit` prints it: the component's world
/// package, then every package it refers to, nested.
fn component_wit(bytes: &[u8]) -> String {
    let decoded = wit_component::decode(bytes).expect("the component decodes");
    let resolve = decoded.resolve();
    let main = decoded.package();
    let nested: Vec<_> = resolve
        .packages
        .iter()
        .map(|(id, _)| id)
        .filter(|id| *id != main)
        .collect();
    let mut printer = WitPrinter::default();
    printer
        .print(resolve, main, &nested)
        .expect("the WIT prints");
    printer.output.to_string()
}

#[test]
fn component_wit_matches_the_golden_file() {
    let golden_path = workspace_root()
        .join("wit")
        .join("golden")
        .join("connector.wit.txt");
    let bytes = std::fs::read(component_path()).unwrap();
    let actual = component_wit(&bytes);

    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| !v.is_empty() && v != "0") {
        std::fs::create_dir_all(golden_path.parent().unwrap()).unwrap();
        std::fs::write(&golden_path, &actual).unwrap();
        eprintln!("wrote {}", golden_path.display());
        return;
    }
    let expected = std::fs::read_to_string(&golden_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", golden_path.display()))
        .replace("\r\n", "\n");
    if actual == expected {
        return;
    }
    let (a, e): (Vec<&str>, Vec<&str>) = (actual.lines().collect(), expected.lines().collect());
    let first = a
        .iter()
        .zip(&e)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(e.len()));
    let context = |lines: &[&str]| {
        lines
            .iter()
            .enumerate()
            .skip(first.saturating_sub(3))
            .take(8)
            .map(|(i, l)| format!("{:>5}| {l}", i + 1))
            .collect::<Vec<_>>()
            .join("\n")
    };
    panic!(
        "the component's WIT differs from {} from line {}.\n\
         If the interface change is intended, regenerate the file with\n  \
         UPDATE_GOLDEN=1 cargo test --release -p host-demo --test component_portability\n\
         and review the diff.\n\n--- golden\n{}\n\n+++ component\n{}",
        golden_path.display(),
        first + 1,
        context(&e),
        context(&a),
    );
}

#[test]
fn component_exports_the_tools_of_the_source_wit() {
    // A component built from another version of wit/connector.wit would serve other tools
    // than the host describes.
    let bytes = std::fs::read(component_path()).unwrap();
    let decoded = wit_component::decode(&bytes).unwrap();
    let resolve = decoded.resolve();
    let catalog = Catalog::embedded().unwrap();
    let iface = resolve
        .interfaces
        .iter()
        .find(|(id, _)| resolve.id_of(*id).as_deref() == Some(catalog.interface_name.as_str()))
        .map(|(_, iface)| iface)
        .expect("the component has the tools interface");
    let from_component: Vec<(String, Vec<String>)> = iface
        .functions
        .values()
        .map(|f| {
            (
                f.name.clone(),
                f.params.iter().map(|p| p.name.clone()).collect(),
            )
        })
        .collect();
    let from_source: Vec<(String, Vec<String>)> = catalog
        .tools
        .iter()
        .map(|t| {
            let func = &catalog.resolve.interfaces.iter().find_map(|(id, i)| {
                (catalog.resolve.id_of(id).as_deref() == Some(catalog.interface_name.as_str()))
                    .then_some(i)
            });
            let f = &func.unwrap().functions[&t.wit_name];
            (
                t.wit_name.clone(),
                f.params.iter().map(|p| p.name.clone()).collect(),
            )
        })
        .collect();
    assert_eq!(from_component, from_source);
}

/// The size budget of each component (the tools component and the Spin component that links
/// them): under 1 MB, which plugin hosts that load the `.wasm` are promised.
const MAX_COMPONENT_BYTES: u64 = 1_000_000;

#[test]
fn both_components_stay_under_1_mb() {
    let connector = component_path();
    let target = connector
        .ancestors()
        .nth(3)
        .expect("target/wasm32-wasip2/component/…");
    let spin = target.join("spin/wasm32-wasip2/component/bitbucket_spin.wasm");
    assert!(
        spin.is_file(),
        "{} is missing: run `make build`",
        spin.display()
    );
    for path in [connector, spin] {
        let bytes = std::fs::metadata(&path).unwrap().len();
        assert!(
            bytes < MAX_COMPONENT_BYTES,
            "{}: {bytes} bytes, over the {MAX_COMPONENT_BYTES}-byte budget",
            path.display()
        );
    }
}
