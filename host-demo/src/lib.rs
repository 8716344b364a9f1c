//! The host's modules as a library, so that other programs (the benchmark in `tests/`, a
//! long-running front end) can reuse [`runtime::Runtime`] in process. The `host-demo`
//! binary (`main.rs`) is a thin command line over them.

pub mod budget;
pub mod cache;
pub mod config;
pub mod mcp;
pub mod outbound;
pub mod runtime;
pub mod schema;
pub mod serve;
pub mod values;
