//! The Bitbucket Cloud connector: eight read-only tools, exported as a WASI 0.2 component.
//!
//! The tools' logic is plain Rust over a [`transport::Transport`], so it compiles and is
//! unit-tested natively; only `component.rs` and `wasi_http.rs` are WebAssembly-specific.

/// Bindings generated from `wit/connector.wit`: the WIT records are the tools' result types.
pub mod bindings {
    wit_bindgen::generate!({ world: "connector", path: "../wit" });
    pub use self::exports::bitbucket::connector::tools::*;
}

pub mod api;
pub mod client;
pub mod config;
pub mod cursor;
pub mod encoding;
pub mod error;
pub mod json;
pub mod pattern;
pub mod scope;
pub mod tools;
pub mod transport;
pub mod validate;

#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod wasi_http;
