//! A faithful fake of the Bitbucket Cloud REST API 2.0 for the read-only operations of the
//! connector (and the storage host of pipeline step logs), built from `shared/bitbucket-api/REFERENCE.md`, plus the sample
//! workspace it serves and helpers for end-to-end tests.
//!
//! ```no_run
//! use fake_bitbucket::{FakeBitbucket, Fault};
//! let fake = FakeBitbucket::start();
//! println!("{}", fake.base_url()); // http://127.0.0.1:PORT/2.0
//! fake.fail_next("/pullrequests", Fault::RateLimited, 2);
//! let seen = fake.requests();
//! # drop(seen);
//! ```
//!
//! Modules: [`server`] (HTTP plumbing, threads, switches), [`api`] (routes), [`model`]
//! (the git-like data model), [`sample`] (the `acme` workspace), [`render`] (model →
//! Bitbucket JSON), [`fields`] (partial responses), [`bbql`] (`q` and `sort`), [`paging`],
//! [`faults`], [`auth`], [`log`] (the request log).

#![warn(missing_docs)]
#![recursion_limit = "256"]

pub mod api;
pub mod auth;
pub mod bbql;
pub mod builder;
pub mod diff;
pub mod faults;
pub mod fields;
pub mod http;
pub mod ids;
pub mod json;
pub mod log;
pub mod model;
pub mod paging;
pub mod render;
pub mod sample;
pub mod sample_review;
pub mod served;
pub mod server;
pub mod storage;
pub mod time;

pub use auth::{AuthConfig, Viewer};
pub use faults::{Fault, SearchMode};
pub use log::RecordedRequest;
pub use server::{FakeBitbucket, Options};
