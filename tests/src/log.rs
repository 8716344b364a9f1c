//! The request log: every request the server received, with timing.

use std::sync::Mutex;
use std::time::Instant;

/// One request as received.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// Sequence number (0-based, in arrival order).
    pub id: usize,
    /// The method.
    pub method: String,
    /// The raw request target (path and query) exactly as sent.
    pub url: String,
    /// The headers, including `Authorization`.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
    /// When the request arrived.
    pub arrived: Instant,
    /// When the response was sent (absent while in flight or when never answered).
    pub completed: Option<Instant>,
    /// The status answered (absent while in flight or when never answered).
    pub status: Option<u16>,
}

impl RecordedRequest {
    /// The raw path, without the query.
    pub fn path(&self) -> &str {
        self.url.split('?').next().unwrap_or("")
    }

    /// The raw query (without `?`), empty when none.
    pub fn query(&self) -> &str {
        self.url.split_once('?').map(|(_, q)| q).unwrap_or("")
    }

    /// The decoded values of query parameter `name`.
    pub fn query_values(&self, name: &str) -> Vec<String> {
        crate::http::Query::parse(self.query())
            .get_all(name)
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether this request and `other` were in flight at the same time (each arrived
    /// before the other completed).
    pub fn overlaps(&self, other: &RecordedRequest) -> bool {
        let before =
            |a: &RecordedRequest, b: &RecordedRequest| b.completed.is_none_or(|c| a.arrived < c);
        before(self, other) && before(other, self)
    }
}

/// A thread-safe log of requests.
#[derive(Debug, Default)]
pub struct RequestLog {
    inner: Mutex<(Vec<RecordedRequest>, usize)>,
}

impl RequestLog {
    /// Records an arrival; returns its id.
    pub fn arrive(
        &self,
        method: &str,
        url: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> usize {
        let mut g = self.inner.lock().expect("log lock");
        let id = g.1;
        g.1 += 1;
        g.0.push(RecordedRequest {
            id,
            method: method.into(),
            url: url.into(),
            headers,
            body,
            arrived: Instant::now(),
            completed: None,
            status: None,
        });
        id
    }

    /// Records the completion of request `id`.
    pub fn complete(&self, id: usize, status: Option<u16>) {
        let mut g = self.inner.lock().expect("log lock");
        if let Some(r) = g.0.iter_mut().rev().find(|r| r.id == id) {
            r.completed = Some(Instant::now());
            r.status = status;
        }
    }

    /// A copy of every request so far.
    pub fn all(&self) -> Vec<RecordedRequest> {
        self.inner.lock().expect("log lock").0.clone()
    }

    /// Forgets every request so far (ids keep increasing).
    pub fn clear(&self) {
        self.inner.lock().expect("log lock").0.clear();
    }
}
