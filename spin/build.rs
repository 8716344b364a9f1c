//! Renders the tool list (names, descriptions, JSON Schemas) from `wit/connector.wit` into
//! `OUT_DIR/tools.json`, with the same code that `host-demo tools` runs, so the component
//! serves the same list without a WIT parser inside the WebAssembly.

use std::path::Path;

fn main() {
    // At run time, not `env!`: a build script compiled in another checkout must read this one.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let wit = Path::new(&manifest).join("../wit/connector.wit");
    println!("cargo::rerun-if-changed={}", wit.display());
    let catalog = mcp_protocol::schema::Catalog::embedded().expect("wit/connector.wit parses");
    let specs: Vec<serde_json::Value> = catalog.specs().iter().map(|t| t.to_json()).collect();
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("tools.json");
    std::fs::write(dest, serde_json::Value::Array(specs).to_string()).unwrap();
}
