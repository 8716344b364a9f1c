//! The Bitbucket Cloud connector: read-only tools, exported as a WASI 0.2 component.
//!
//! The tools' logic is plain Rust over a [`transport::Transport`], so it compiles and is
//! unit-tested natively; only `component.rs` (the export, behind the default `component`
//! feature) and `wasi_http.rs` are WebAssembly-specific.

/// Bindings generated from `wit/connector.wit`: the WIT records are the tools' result types.
#[cfg(feature = "component")]
pub mod bindings {
    wit_bindgen::generate!({ world: "connector", path: "../wit" });
    pub use self::exports::bitbucket::connector::tools::*;
}

/// The same types for a crate that links this library into a component of its own (feature
/// `component` off): generated from a world that only uses the interface (its functions are
/// never called, so the linked component neither imports nor exports them).
#[cfg(not(feature = "component"))]
pub mod bindings {
    wit_bindgen::generate!({
        inline: "package local:library; world library { import bitbucket:connector/tools@0.1.0; }",
        path: "../wit",
        world: "local:library/library",
        generate_all,
    });
    pub use self::bitbucket::connector::tools::*;
}

pub mod api;
pub mod client;
pub mod config;
pub mod cursor;
pub mod encoding;
pub mod error;
pub mod json;
pub mod next_link;
pub mod pattern;
pub mod scope;
pub mod tools;
pub mod transport;
pub mod validate;

#[cfg(all(target_arch = "wasm32", feature = "component"))]
mod component;
/// The wasi:http transport, public for embedders that build their own component (Spin).
#[cfg(target_arch = "wasm32")]
pub mod wasi_http;
