//! The HTTP seam: tools describe requests, a `Transport` sends a batch of them concurrently.
//! The component uses wasi:http (`wasi_http.rs`); unit tests use a scripted fake.

/// An HTTP method the connector uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Every API read.
    Get,
    /// Only the OAuth token refresh.
    Post,
}

/// One outgoing request.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    /// GET or POST.
    pub method: Method,
    /// `true` for https.
    pub https: bool,
    /// `host[:port]`.
    pub authority: String,
    /// The encoded path and query.
    pub path_and_query: String,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// A request body (form-encoded POSTs only).
    pub body: Option<Vec<u8>>,
    /// When to stop reading the response body.
    pub read: ReadLimit,
}

/// When to stop reading a response body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadLimit {
    /// Never read more than this many bytes.
    pub max_bytes: usize,
    /// For text files: stop once this window of lines has been read.
    pub lines: Option<LineWindow>,
}

impl ReadLimit {
    /// A JSON document of at most `max_bytes`.
    pub const fn bytes(max_bytes: usize) -> Self {
        ReadLimit {
            max_bytes,
            lines: None,
        }
    }
}

/// Lines `start..=end` of a text file, of which at most `cap_bytes` bytes will be returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineWindow {
    /// The first line wanted (1-based).
    pub start: u32,
    /// The last line wanted, if any.
    pub end: Option<u32>,
    /// How many bytes of lines the caller can use at most.
    pub cap_bytes: usize,
    /// Keep reading up to this many bytes even after the window is complete, so that a small
    /// file is read whole (and its lines can be counted).
    pub read_at_least: usize,
}

/// Tracks how much of a line window a growing body already holds, chunk by chunk.
#[derive(Debug)]
pub struct LineWindowTracker {
    window: LineWindow,
    newlines: u64,
    bytes_in_window: usize,
    bytes_read: usize,
    window_done: bool,
}

impl LineWindowTracker {
    /// A tracker for `window`.
    pub fn new(window: LineWindow) -> Self {
        LineWindowTracker {
            window,
            newlines: 0,
            bytes_in_window: 0,
            bytes_read: 0,
            window_done: false,
        }
    }

    /// Feeds the next chunk; returns `true` once nothing after this chunk can be used.
    pub fn feed(&mut self, chunk: &[u8]) -> bool {
        self.bytes_read += chunk.len();
        if !self.window_done {
            self.window_done = self.window_complete_after(chunk);
        }
        self.window_done && self.bytes_read >= self.window.read_at_least
    }

    fn window_complete_after(&mut self, chunk: &[u8]) -> bool {
        let start = u64::from(self.window.start);
        for &byte in chunk {
            // Line N begins after newline N-1.
            if self.newlines + 1 >= start {
                self.bytes_in_window += 1;
            }
            if byte == b'\n' {
                self.newlines += 1;
                if self
                    .window
                    .end
                    .is_some_and(|end| self.newlines >= u64::from(end))
                {
                    return true;
                }
            }
        }
        // One byte beyond the cap tells the caller that more text exists.
        self.bytes_in_window > self.window.cap_bytes
    }
}

/// A response, possibly read only in part.
#[derive(Clone, Debug, Default)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body read so far.
    pub body: Vec<u8>,
    /// `false` when reading stopped at the read limit before the body ended.
    pub complete: bool,
}

impl HttpResponse {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the body is declared as JSON.
    pub fn is_json(&self) -> bool {
        self.header("content-type")
            .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"))
    }
}

/// Why a request got no response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// The host refused the request (not on its allow-list).
    Denied,
    /// No answer in time (connect, first byte or between bytes).
    Timeout,
    /// Anything else: DNS, connection, TLS, protocol; the text is safe to show.
    Failed(String),
}

/// Sends requests; all requests of one batch are in flight at the same time.
pub trait Transport {
    /// Sends every request and returns their outcomes in the same order.
    fn send_all(&self, requests: &[HttpRequest]) -> Vec<Result<HttpResponse, TransportError>>;

    /// Waits before a retry.
    fn pause(&self, millis: u64);

    /// A value that differs between calls, to spread retries (jitter); not for secrets.
    fn entropy(&self) -> u64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(start: u32, end: Option<u32>, cap: usize) -> LineWindowTracker {
        LineWindowTracker::new(LineWindow {
            start,
            end,
            cap_bytes: cap,
            read_at_least: 0,
        })
    }

    #[test]
    fn stops_after_the_last_wanted_line() {
        let mut t = window(1, Some(2), 1000);
        assert!(!t.feed(b"one\ntw"));
        assert!(t.feed(b"o\nthree\n"));
    }

    #[test]
    fn stops_once_the_cap_is_exceeded_after_the_start_line() {
        let mut t = window(3, None, 5);
        assert!(!t.feed(b"skipped line\nskipped too\n"));
        assert!(!t.feed(b"abcd"));
        assert!(!t.feed(b"e"));
        assert!(t.feed(b"f"));
    }

    #[test]
    fn small_files_are_read_whole() {
        let mut t = LineWindowTracker::new(LineWindow {
            start: 1,
            end: Some(1),
            cap_bytes: 100,
            read_at_least: 10,
        });
        assert!(!t.feed(b"one\ntwo\n"));
        assert!(t.feed(b"three\n"));
    }

    #[test]
    fn chunk_boundaries_do_not_matter() {
        let text = b"a\nbb\nccc\ndddd\n";
        for split in 0..text.len() {
            let mut t = window(2, Some(3), 100);
            let first = t.feed(&text[..split]);
            let done = first || t.feed(&text[split..]);
            assert!(done, "split at {split}");
        }
    }
}
