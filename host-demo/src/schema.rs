//! The tool catalogue, derived from the embedded WIT: names, descriptions and JSON Schemas.
//! It lives in the shared `mcp-protocol` crate (feature `wit`), so that the Spin component
//! serves the same tool list; this module keeps the host's paths.

pub use mcp_protocol::schema::*;
