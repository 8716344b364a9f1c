//! Talking to an MCP-over-HTTP endpoint from tests and the benchmark: [`Served`] runs
//! `host-demo serve` as a child process and finds its port; [`Connection`] is a minimal
//! blocking HTTP/1.1 client with keep-alive that sends exactly the headers it is given (the
//! endpoint tests forge `Host` and `Origin`), and [`McpSession`] is an MCP client over it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}, not JSON ({e}): {:.300}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A keep-alive HTTP/1.1 connection.
pub struct Connection {
    reader: BufReader<TcpStream>,
    addr: SocketAddr,
}

impl Connection {
    /// Connects to `addr`.
    pub fn open(addr: SocketAddr) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            reader: BufReader::new(stream),
            addr,
        })
    }

    /// The address connected to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends one request with exactly `headers` (plus `Content-Length` when there is a
    /// body) and reads the answer.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Reply> {
        let mut head = format!("{method} {path} HTTP/1.1\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let has_length = headers.iter().any(|(n, _)| {
            n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("transfer-encoding")
        });
        if !has_length && (!body.is_empty() || method == "POST") {
            head.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        self.read_reply()
    }

    fn read_reply(&mut self) -> std::io::Result<Reply> {
        let bad =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status line"))?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            if let Some((k, v)) = trimmed.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let chunked = headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
        let body = if chunked {
            self.read_chunked()?
        } else {
            let length: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map(|(_, v)| v.parse().map_err(|_| bad("bad content-length")))
                .transpose()?
                .unwrap_or(0);
            let mut body = vec![0; length];
            self.reader.read_exact(&mut body)?;
            body
        };
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

impl Connection {
    /// A `Transfer-Encoding: chunked` body (Node's servers send one).
    fn read_chunked(&mut self) -> std::io::Result<Vec<u8>> {
        let mut body = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let size = line.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size, 16).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, "bad chunk size")
            })?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    line.clear();
                    if self.reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        return Ok(body);
                    }
                }
            }
            let start = body.len();
            body.resize(start + size, 0);
            self.reader.read_exact(&mut body[start..])?;
            line.clear();
            self.reader.read_line(&mut line)?;
        }
    }
}

/// An MCP client over one keep-alive connection: the headers an MCP client sends, a bearer
/// token when given, `Host` as the address connected to.
pub struct McpSession {
    connection: Connection,
    token: Option<String>,
    next_id: i64,
}

impl McpSession {
    /// Connects and sends `initialize` and `notifications/initialized`.
    pub fn start(addr: SocketAddr, token: Option<&str>) -> std::io::Result<McpSession> {
        let mut session = McpSession {
            connection: Connection::open(addr)?,
            token: token.map(str::to_string),
            next_id: 0,
        };
        let init = session.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "fake-bitbucket-tests", "version": "0"}}),
        )?;
        if init.get("result").is_none() {
            return Err(std::io::Error::other(format!("initialize failed: {init}")));
        }
        session.post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
        Ok(session)
    }

    /// POSTs one message to `/mcp`.
    pub fn post(&mut self, message: &Value) -> std::io::Result<Reply> {
        let host = self.connection.addr().to_string();
        let authorization = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = vec![
            ("host", host.as_str()),
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("mcp-protocol-version", "2025-06-18"),
        ];
        if let Some(a) = &authorization {
            headers.push(("authorization", a.as_str()));
        }
        self.connection
            .send("POST", "/mcp", &headers, message.to_string().as_bytes())
    }

    /// Sends a request and returns the JSON-RPC response.
    pub fn request(&mut self, method: &str, params: Value) -> std::io::Result<Value> {
        self.next_id += 1;
        let reply = self.post(&json!({"jsonrpc": "2.0", "id": self.next_id,
                                      "method": method, "params": params}))?;
        if reply.status != 200 {
            return Err(std::io::Error::other(format!(
                "{method}: HTTP {}: {}",
                reply.status,
                reply.text()
            )));
        }
        serde_json::from_slice(&reply.body).map_err(std::io::Error::other)
    }

    /// `tools/call`; the `result` object.
    pub fn call(&mut self, tool: &str, arguments: Value) -> std::io::Result<Value> {
        let response = self.request("tools/call", json!({"name": tool, "arguments": arguments}))?;
        response
            .get("result")
            .cloned()
            .ok_or_else(|| std::io::Error::other(format!("{tool}: {response}")))
    }
}

/// `host-demo serve` running as a child process; killed when dropped.
pub struct Served {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Served {
    /// Starts `host-demo [pre…] serve --listen 127.0.0.1:0 [args…]` with exactly `env` and
    /// waits until it listens. `Err` carries the exit code and standard error when it stops
    /// instead.
    pub fn start(
        host_demo: &Path,
        pre: &[&str],
        args: &[&str],
        env: &[(String, String)],
    ) -> Result<Served, (i32, String)> {
        let mut child = Command::new(host_demo)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .args(pre)
            .arg("serve")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start host-demo serve");
        let stderr = child.stderr.take().expect("piped");
        let collected = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        spawn_reader(stderr, collected.clone(), tx);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(addr) = rx.recv_timeout(Duration::from_millis(50)) {
                return Ok(Served {
                    child,
                    addr,
                    stderr: collected,
                });
            }
            if let Some(status) = child.try_wait().expect("wait") {
                // Let the reader take the rest of standard error.
                std::thread::sleep(Duration::from_millis(100));
                let text = collected.lock().unwrap().clone();
                return Err((status.code().unwrap_or(-1), text));
            }
            assert!(
                Instant::now() < deadline,
                "host-demo serve did not start within 60 s: {}",
                collected.lock().unwrap()
            );
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it printed on standard error so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits up to `within` for the exit; the exit code, or `None` when
    /// it was still running (it is killed then).
    pub fn terminate(&mut self, within: Duration) -> Option<i32> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }

    /// The peak resident set size so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Collects standard error; sends the address from `... at http://ADDR/mcp ...`.
fn spawn_reader(
    stderr: ChildStderr,
    collected: Arc<Mutex<String>>,
    tx: std::sync::mpsc::Sender<SocketAddr>,
) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            // Keep the line before announcing the address, so that `stderr()` holds it as
            // soon as `start` returns.
            collected.lock().unwrap().push_str(&line);
            if let Some(rest) = line.split("at http://").nth(1)
                && let Some(addr) = rest.split("/mcp").next()
                && let Ok(addr) = addr.parse()
            {
                let _ = tx.send(addr);
            }
            line.clear();
        }
    });
}
