//! The HTTP side: a tiny_http server on 127.0.0.1 with a pool of worker threads (so
//! parallel requests overlap), the run-time switches, and the public [`FakeBitbucket`]
//! handle.

use crate::api::{self, Ctx};
use crate::auth::AuthConfig;
use crate::faults::{Fault, FaultRule, Faults, SearchMode};
use crate::http::{ApiRequest, Body, Reply};
use crate::json;
use crate::log::{RecordedRequest, RequestLog};
use crate::model::Workspace;
use crate::render::Links;
use std::collections::HashSet;
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How to start a fake server.
#[derive(Clone, Debug)]
pub struct Options {
    /// The workspace served (default: [`crate::sample::acme`]).
    pub workspace: Workspace,
    /// Worker threads answering requests concurrently (default 8).
    pub workers: usize,
    /// Accepted credentials and OAuth settings.
    pub auth: AuthConfig,
    /// The port on 127.0.0.1 (0 = an ephemeral port).
    pub port: u16,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            workspace: crate::sample::acme(),
            workers: 8,
            auth: AuthConfig::default(),
            port: 0,
        }
    }
}

struct Shared {
    workspace: RwLock<Arc<Workspace>>,
    links: Links,
    origin: String,
    log: RequestLog,
    auth: Mutex<AuthConfig>,
    faults: Mutex<Faults>,
    latency_ms: AtomicU64,
    search: Mutex<SearchMode>,
    pipelines_disabled: Mutex<HashSet<String>>,
    storage_origin: String,
    storage_strict: AtomicBool,
    position_param: Mutex<String>,
    shutdown: AtomicBool,
}

/// A running fake Bitbucket Cloud API server. It stops when dropped.
pub struct FakeBitbucket {
    shared: Arc<Shared>,
    server: Arc<tiny_http::Server>,
    storage: Arc<tiny_http::Server>,
    threads: Vec<JoinHandle<()>>,
    port: u16,
}

impl FakeBitbucket {
    /// Starts a server with the sample workspace and default credentials on an ephemeral
    /// port.
    pub fn start() -> FakeBitbucket {
        Self::start_with(Options::default())
    }

    /// Starts a server with `options`.
    pub fn start_with(options: Options) -> FakeBitbucket {
        let server = tiny_http::Server::http(("127.0.0.1", options.port))
            .expect("bind the fake Bitbucket server on 127.0.0.1");
        let port = server.server_addr().to_ip().expect("an IP listener").port();
        let origin = format!("http://127.0.0.1:{port}");
        // The log storage host: another origin (another port) on the same loopback address.
        let storage = tiny_http::Server::http(("127.0.0.1", 0))
            .expect("bind the fake log storage server on 127.0.0.1");
        let storage_port = storage
            .server_addr()
            .to_ip()
            .expect("an IP listener")
            .port();
        let shared = Arc::new(Shared {
            workspace: RwLock::new(Arc::new(options.workspace)),
            links: Links::new(&format!("{origin}/2.0")),
            origin,
            log: RequestLog::default(),
            auth: Mutex::new(options.auth),
            faults: Mutex::new(Faults::default()),
            latency_ms: AtomicU64::new(0),
            search: Mutex::new(SearchMode::Enabled),
            pipelines_disabled: Mutex::new(HashSet::new()),
            storage_origin: format!("http://127.0.0.1:{storage_port}"),
            storage_strict: AtomicBool::new(false),
            position_param: Mutex::new("page".into()),
            shutdown: AtomicBool::new(false),
        });
        let server = Arc::new(server);
        let storage = Arc::new(storage);
        let mut threads: Vec<JoinHandle<()>> = (0..options.workers.max(1))
            .map(|i| {
                let (server, shared) = (server.clone(), shared.clone());
                std::thread::Builder::new()
                    .name(format!("fake-bitbucket-{i}"))
                    .spawn(move || worker(&server, &shared, false))
                    .expect("spawn a worker thread")
            })
            .collect();
        threads.extend((0..2).map(|i| {
            let (server, shared) = (storage.clone(), shared.clone());
            std::thread::Builder::new()
                .name(format!("fake-log-storage-{i}"))
                .spawn(move || worker(&server, &shared, true))
                .expect("spawn a worker thread")
        }));
        FakeBitbucket {
            shared,
            server,
            storage,
            threads,
            port,
        }
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT` of the step-log storage host (another origin than the API).
    pub fn storage_origin(&self) -> &str {
        &self.shared.storage_origin
    }

    /// Makes the storage host refuse requests that carry an `Authorization` header (400), as
    /// a presigned-URL store refuses a second auth mechanism.
    pub fn set_storage_strict(&self, strict: bool) {
        self.shared.storage_strict.store(strict, Ordering::SeqCst);
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> &str {
        &self.shared.origin
    }

    /// The API base URL, `http://127.0.0.1:PORT/2.0`.
    pub fn base_url(&self) -> String {
        format!("{}/2.0", self.shared.origin)
    }

    /// The OAuth token endpoint, `http://127.0.0.1:PORT/site/oauth2/access_token`.
    pub fn token_url(&self) -> String {
        format!("{}/site/oauth2/access_token", self.shared.origin)
    }

    /// The workspace being served.
    pub fn workspace(&self) -> Arc<Workspace> {
        self.shared
            .workspace
            .read()
            .expect("workspace lock")
            .clone()
    }

    /// Changes the workspace being served (the change applies to later requests).
    pub fn update_workspace(&self, change: impl FnOnce(&mut Workspace)) {
        let mut guard = self.shared.workspace.write().expect("workspace lock");
        let mut ws = (**guard).clone();
        change(&mut ws);
        *guard = Arc::new(ws);
    }

    /// Every request received so far (since the last [`clear_requests`](Self::clear_requests)).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log.all()
    }

    /// The requests received so far, once each has been answered (or after `within`): a
    /// client can read an answer, and its process exit, before the fake has logged sending it.
    pub fn settled_requests(&self, within: Duration) -> Vec<RecordedRequest> {
        let until = std::time::Instant::now() + within;
        loop {
            let log = self.requests();
            if log.iter().all(|r| r.completed.is_some()) || std::time::Instant::now() > until {
                return log;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.shared.log.clear()
    }

    /// Delays every answer by `latency` (zero to stop).
    pub fn set_latency(&self, latency: Duration) {
        if !latency.is_zero() {
            let storage_port = self
                .shared
                .storage_origin
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok());
            warm_connection_pool(self.port, WARM_CONNECTIONS);
            if let Some(port) = storage_port {
                warm_connection_pool(port, WARM_CONNECTIONS);
            }
        }
        self.shared
            .latency_ms
            .store(latency.as_millis() as u64, Ordering::SeqCst);
    }

    /// Adds a fault rule: requests whose raw URL contains `path_contains` get `fault`,
    /// `times` times (`None` = always). The first matching rule wins; faults are applied
    /// before authentication.
    pub fn add_fault(&self, path_contains: &str, fault: Fault, times: Option<u32>) {
        self.shared
            .faults
            .lock()
            .expect("faults lock")
            .add(FaultRule {
                path_contains: path_contains.into(),
                fault,
                remaining: times,
            });
    }

    /// Fails the next `n` requests matching `path_contains` with `fault`.
    pub fn fail_next(&self, path_contains: &str, fault: Fault, n: u32) {
        self.add_fault(path_contains, fault, Some(n));
    }

    /// Fails every request matching `path_contains` with `fault`.
    pub fn fail_always(&self, path_contains: &str, fault: Fault) {
        self.add_fault(path_contains, fault, None);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.shared.faults.lock().expect("faults lock").clear();
    }

    /// Turns code search on, off (404) or forbidden (403).
    pub fn set_search(&self, mode: SearchMode) {
        *self.shared.search.lock().expect("search lock") = mode;
    }

    /// Moves the position in the `next` links of directory and branch listings from `page`
    /// to `name` (see [`crate::paging::opaque_page`]: not observed, a robustness check).
    pub fn set_position_param(&self, name: &str) {
        *self.shared.position_param.lock().expect("position lock") = name.into();
    }

    /// Makes `GET …/pipelines` of `slug` answer 404 (Pipelines not enabled).
    pub fn disable_pipelines(&self, slug: &str) {
        self.shared
            .pipelines_disabled
            .lock()
            .expect("pipelines lock")
            .insert(slug.into());
    }

    /// Undoes [`disable_pipelines`](Self::disable_pipelines).
    pub fn enable_pipelines(&self, slug: &str) {
        self.shared
            .pipelines_disabled
            .lock()
            .expect("pipelines lock")
            .remove(slug);
    }

    /// Changes the authentication settings (tokens, basic pairs, hidden repositories,
    /// OAuth clients and refresh tokens, anonymous access).
    pub fn with_auth<T>(&self, change: impl FnOnce(&mut AuthConfig) -> T) -> T {
        change(&mut self.shared.auth.lock().expect("auth lock"))
    }

    /// Accepts another bearer token.
    pub fn add_token(&self, token: &str) {
        self.with_auth(|a| a.bearer_tokens.push(token.into()));
    }

    /// Marks a credential (a bearer token, or a basic username) as expired: it gets 401.
    pub fn expire_token(&self, credential: &str) {
        self.with_auth(|a| a.expired.insert(credential.into()));
    }

    /// The access tokens the OAuth endpoint has issued so far.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.with_auth(|a| a.issued.clone())
    }

    /// Stops the server (also done on drop).
    pub fn stop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.server.unblock();
        self.storage.unblock();
    }
}

impl Drop for FakeBitbucket {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The path of the requests that [`warm_connection_pool`] sends: answered 204, not logged.
const WARM_UP_PATH: &str = "/__warm-up";
/// Connections held at once while warming: more than any tool sends together.
const WARM_CONNECTIONS: usize = 12;

/// tiny_http reads each connection on a task pool that starts with 4 threads and grows only
/// when no thread is idle at the moment a connection arrives; connections arriving in a
/// burst all see the 4 idle threads, so the fifth waits until one of the first four closes,
/// a serialisation real Bitbucket does not have. Measured waves would then blame the client.
/// Holding connections one at a time (each answered before the next opens) grows the pool;
/// threads above 4 leave after 5 s idle, so this runs when latency is switched on.
fn warm_connection_pool(port: u16, connections: usize) {
    use std::io::Write;
    let mut held = Vec::new();
    for _ in 0..connections {
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            break;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let request = format!("GET {WARM_UP_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        let _ = stream.write_all(request.as_bytes());
        // The answer shows that a pool thread holds this connection.
        let mut answer = [0u8; 512];
        let _ = stream.read(&mut answer);
        held.push(stream);
    }
}

fn worker(server: &tiny_http::Server, shared: &Shared, storage: bool) {
    while !shared.shutdown.load(Ordering::SeqCst) {
        match server.recv_timeout(Duration::from_millis(50)) {
            Ok(Some(request)) => handle(shared, request, storage),
            Ok(None) => {}
            Err(_) => break,
        }
    }
}

/// Sleeps `d` in small steps, returning early when the server stops.
fn sleep_unless_stopped(shared: &Shared, d: Duration) {
    let until = Instant::now() + d;
    while !shared.shutdown.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= until {
            break;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(20)));
    }
}

fn handle(shared: &Shared, mut request: tiny_http::Request, storage: bool) {
    let method = request.method().as_str().to_string();
    let url = request.url().to_string();
    if url == WARM_UP_PATH {
        let _ = request.respond(tiny_http::Response::empty(204));
        return;
    }
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_string(),
                h.value.as_str().to_string(),
            )
        })
        .collect();
    let mut body = Vec::new();
    let _ = request.as_reader().take(1 << 20).read_to_end(&mut body);
    let id = shared
        .log
        .arrive(&method, &url, headers.clone(), body.clone(), storage);
    let latency = shared.latency_ms.load(Ordering::SeqCst);
    if latency > 0 {
        sleep_unless_stopped(shared, Duration::from_millis(latency));
    }
    let req = ApiRequest::new(&method, &url, headers, body);
    let reply = if storage {
        let ws = shared.workspace.read().expect("workspace lock").clone();
        crate::storage::answer(&ws, &req, shared.storage_strict.load(Ordering::SeqCst))
    } else {
        answer(shared, &req, &url)
    };
    let status = reply.status;
    let mut out_headers: Vec<tiny_http::Header> = reply
        .headers
        .iter()
        .filter_map(|(k, v)| tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).ok())
        .collect();
    out_headers.push(
        tiny_http::Header::from_bytes(&b"X-Request-Count"[..], id.to_string().as_bytes())
            .expect("valid header"),
    );
    if !matches!(reply.body, Body::Stall(_)) {
        shared.log.answering(id);
    }
    let sent = match reply.body {
        Body::Stall(d) => {
            sleep_unless_stopped(shared, d);
            // Close without an answer.
            drop(request.into_writer());
            false
        }
        Body::Bytes(b) => {
            let len = b.len();
            let response = tiny_http::Response::new(
                tiny_http::StatusCode(status),
                out_headers,
                std::io::Cursor::new(b),
                Some(len),
                None,
            )
            .with_chunked_threshold(usize::MAX);
            request.respond(response).is_ok()
        }
        Body::Generated(n) => {
            let response = tiny_http::Response::new(
                tiny_http::StatusCode(status),
                out_headers,
                HugeBody::new(n),
                Some(n as usize),
                None,
            )
            .with_chunked_threshold(usize::MAX);
            request.respond(response).is_ok()
        }
    };
    shared.log.complete(id, sent.then_some(status));
}

fn answer(shared: &Shared, req: &ApiRequest, raw_url: &str) -> Reply {
    if let Some(fault) = shared.faults.lock().expect("faults lock").take(raw_url) {
        return fault.reply();
    }
    if req.path == "/site/oauth2/access_token" {
        return shared.auth.lock().expect("auth lock").token_endpoint(req);
    }
    let rest = match req.path.strip_prefix("/2.0") {
        Some(r) if r.starts_with('/') => r,
        _ => return api::no_api(),
    };
    let viewer = shared
        .auth
        .lock()
        .expect("auth lock")
        .check(req.header("authorization"));
    let Some(viewer) = viewer else {
        return Reply::error(401, json::TOKEN_INVALID);
    };
    let ws = shared.workspace.read().expect("workspace lock").clone();
    let disabled = shared
        .pipelines_disabled
        .lock()
        .expect("pipelines lock")
        .clone();
    let position_param = shared.position_param.lock().expect("position lock").clone();
    let ctx = Ctx {
        ws: &ws,
        links: &shared.links,
        origin: &shared.origin,
        req,
        viewer: &viewer,
        search: *shared.search.lock().expect("search lock"),
        pipelines_disabled: &disabled,
        storage_origin: &shared.storage_origin,
        position_param: &position_param,
    };
    api::route(&ctx, rest)
}

/// A body of `len` bytes that starts like a JSON page and never ends properly.
struct HugeBody {
    remaining: u64,
    started: bool,
}

impl HugeBody {
    fn new(len: u64) -> HugeBody {
        HugeBody {
            remaining: len,
            started: false,
        }
    }
}

impl Read for HugeBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let chunk: &[u8] = if self.started {
            b"{\"type\": \"repository\", \"slug\": \"padding\"}, "
        } else {
            self.started = true;
            b"{\"pagelen\": 100, \"values\": ["
        };
        let n = chunk.len().min(buf.len()).min(self.remaining as usize);
        buf[..n].copy_from_slice(&chunk[..n]);
        self.remaining -= n as u64;
        Ok(n)
    }
}
