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
    /// When the server began to send its answer, after the injected latency and its own
    /// work (absent until then, and for a stalled request that is never answered). A request
    /// that depends on this answer cannot arrive before this instant.
    pub answered: Option<Instant>,
    /// When the response was sent (absent while in flight or when never answered).
    pub completed: Option<Instant>,
    /// The status answered (absent while in flight or when never answered).
    pub status: Option<u16>,
    /// Whether it went to the log storage host (another origin) rather than the API.
    pub storage: bool,
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
        storage: bool,
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
            answered: None,
            completed: None,
            status: None,
            storage,
        });
        id
    }

    /// Records that the answer to request `id` begins to be sent.
    pub fn answering(&self, id: usize) {
        let mut g = self.inner.lock().expect("log lock");
        if let Some(r) = g.0.iter_mut().rev().find(|r| r.id == id) {
            r.answered = Some(Instant::now());
        }
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

/// Groups requests into sequential "waves": requests whose time ranges overlap (directly or
/// through a chain of overlapping requests) form one wave, and a wave begins only after every
/// request of the previous one was answered. The number of waves is the number of round trips
/// a call spent waiting on the server one after another.
///
/// A request's range runs from its arrival to the moment the server began to answer
/// ([`RecordedRequest::answered`], else [`completed`](RecordedRequest::completed)): a request
/// sent in reaction to an answer always arrives after that moment, whereas the completion is
/// recorded only once the answer was written, which a fast client may beat.
///
/// Returns the waves in time order, each as the requests' indexes into `requests` in arrival
/// order. A request never answered counts as still in flight (it joins everything after it).
pub fn waves(requests: &[RecordedRequest]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&i| (requests[i].arrived, requests[i].id));
    let mut waves: Vec<Vec<usize>> = Vec::new();
    // The end of the current wave: its latest completion (`None` = still in flight).
    let mut end: Option<Option<Instant>> = None;
    for i in order {
        let r = &requests[i];
        let joins = match end {
            None => false,
            Some(None) => true,
            Some(Some(e)) => r.arrived < e,
        };
        if joins {
            waves.last_mut().expect("a current wave").push(i);
            end = Some(match (end.flatten(), r.answered.or(r.completed)) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            });
        } else {
            waves.push(vec![i]);
            end = Some(r.answered.or(r.completed));
        }
    }
    waves
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn req(id: usize, t0: Instant, from_ms: u64, to_ms: Option<u64>) -> RecordedRequest {
        RecordedRequest {
            id,
            method: "GET".into(),
            url: format!("/r{id}"),
            headers: Vec::new(),
            body: Vec::new(),
            arrived: t0 + Duration::from_millis(from_ms),
            answered: None,
            completed: to_ms.map(|ms| t0 + Duration::from_millis(ms)),
            status: to_ms.map(|_| 200),
            storage: false,
        }
    }

    #[test]
    fn overlapping_requests_form_one_wave() {
        let t0 = Instant::now();
        let log = vec![
            req(0, t0, 0, Some(50)),
            req(1, t0, 1, Some(52)),
            // Starts after both completed: a second wave; the third chains onto it.
            req(2, t0, 60, Some(110)),
            req(3, t0, 100, Some(150)),
            req(4, t0, 200, Some(250)),
        ];
        assert_eq!(waves(&log), vec![vec![0, 1], vec![2, 3], vec![4]]);
        assert!(waves(&[]).is_empty());
    }

    #[test]
    fn arrival_order_is_used_and_in_flight_requests_join_later_ones() {
        let t0 = Instant::now();
        let log = vec![
            req(0, t0, 100, Some(150)),
            req(1, t0, 0, None),
            req(2, t0, 500, Some(550)),
        ];
        assert_eq!(waves(&log), vec![vec![1, 0, 2]]);
    }

    #[test]
    fn a_request_after_the_answer_began_is_a_new_wave_even_before_completion() {
        let t0 = Instant::now();
        let mut first = req(0, t0, 0, Some(60));
        first.answered = Some(t0 + Duration::from_millis(50));
        // Sent on reading the first answer, logged before the first completion was.
        let second = req(1, t0, 55, Some(110));
        assert_eq!(waves(&[first, second]), vec![vec![0], vec![1]]);
    }
}
