//! A scripted transport for unit tests of the tools: answers by path prefix and records
//! every request, so tests can check both results and what was (not) sent.

use crate::config::Config;
use crate::transport::{HttpRequest, HttpResponse, Transport, TransportError};
use std::cell::RefCell;

/// Answers requests from a list of `(path prefix, status, body)` routes.
#[derive(Default)]
pub struct Scripted {
    routes: Vec<(String, u16, Vec<u8>)>,
    /// The path and query of every request, in order.
    pub log: RefCell<Vec<String>>,
    /// The size of every batch sent (requests in flight together).
    pub batches: RefCell<Vec<usize>>,
    /// Every pause before a retry, in milliseconds.
    pub pauses: RefCell<Vec<u64>>,
}

impl Scripted {
    /// Adds a JSON route; the first matching prefix wins.
    pub fn route(mut self, prefix: &str, status: u16, body: &str) -> Self {
        self.routes
            .push((format!("/2.0{prefix}"), status, body.as_bytes().to_vec()));
        self
    }

    /// The requests sent, as path and query below `/2.0`, without their `fields` parameter.
    pub fn sent_without_fields(&self) -> Vec<String> {
        self.sent()
            .iter()
            .map(|p| {
                let (path, query) = p.split_once('?').unwrap_or((p, ""));
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|kv| !kv.starts_with("fields="))
                    .collect();
                if kept.iter().all(|kv| kv.is_empty()) {
                    path.to_owned()
                } else {
                    format!("{path}?{}", kept.join("&"))
                }
            })
            .collect()
    }

    /// The requests sent, as path and query below `/2.0`.
    pub fn sent(&self) -> Vec<String> {
        self.log
            .borrow()
            .iter()
            .map(|p| p.trim_start_matches("/2.0").to_owned())
            .collect()
    }
}

impl Transport for Scripted {
    fn send_all(&self, requests: &[HttpRequest]) -> Vec<Result<HttpResponse, TransportError>> {
        self.batches.borrow_mut().push(requests.len());
        requests
            .iter()
            .map(|request| {
                self.log.borrow_mut().push(request.path_and_query.clone());
                let (status, body) = self
                    .routes
                    .iter()
                    .find(|(prefix, _, _)| request.path_and_query.starts_with(prefix.as_str()))
                    .map(|(_, status, body)| (*status, body.clone()))
                    .unwrap_or((
                        404,
                        br#"{"type": "error", "error": {"message": "Resource not found"}}"#
                            .to_vec(),
                    ));
                Ok(HttpResponse {
                    status,
                    headers: vec![(
                        "content-type".into(),
                        "application/json; charset=utf-8".into(),
                    )],
                    body,
                    complete: true,
                })
            })
            .collect()
    }

    fn pause(&self, millis: u64) {
        self.pauses.borrow_mut().push(millis);
    }
}

/// A configuration for workspace `acme` at `http://bb.test/2.0` with extra variables.
pub fn config_with(extra: &[(&str, &str)]) -> Config {
    let mut vars = vec![
        ("BITBUCKET_WORKSPACE", "acme"),
        ("BITBUCKET_API_BASE_URL", "http://bb.test/2.0"),
        ("BITBUCKET_TOKEN", "t0ken"),
    ];
    vars.extend_from_slice(extra);
    Config::from_vars(|name| {
        vars.iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
    .unwrap()
}

/// The default test configuration.
pub fn config() -> Config {
    config_with(&[])
}
