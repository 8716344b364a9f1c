//! The HTTP endpoint, transport-free: who may talk to it ([`AccessPolicy`]) and what its routes
//! answer ([`route`]). `host-demo serve` (hyper) and the Spin component (wasi:http) both put
//! every request through [`AccessPolicy::admit`] before they read its body, then through
//! [`route`], so they follow the same rules and answer with the same statuses.
//!
//! Routes: `POST /mcp` (MCP Streamable HTTP, JSON responses, stateless: no session, no
//! server-sent events), `GET /tools` (the tools with their JSON Schemas) and
//! `POST /tools/{name}` (one tool, the contract's JSON result or error object).
//!
//! The rules, on every route:
//! - the `Host` must be a loopback name (`localhost`, `127.0.0.0/8`, `[::1]`) or one of the
//!   configured allowed hosts, else 403 (a DNS-rebinding page sends its own name as `Host`);
//! - an `Origin`, when present, must name such a host too, else 403 (a browser page from
//!   another site);
//! - the server token must come as `Authorization: Bearer TOKEN`, compared in constant
//!   time, else 401 and nothing runs. Without a configured token nothing is served (500,
//!   `config`), unless the operator allowed unauthenticated use, which is honoured only for a
//!   loopback `Host` from a loopback peer;
//! - a body larger than [`MAX_BODY_BYTES`] is refused with 413.

use serde_json::{Map, Value, json};

use crate::{CallOutcome, SUPPORTED_PROTOCOL_VERSIONS, ToolBackend, code, error_response};

/// The largest request body the endpoint reads (one JSON-RPC message,
/// [`crate::limits::MAX_MESSAGE_BYTES`]): larger requests get 413.
pub const MAX_BODY_BYTES: usize = crate::limits::MAX_MESSAGE_BYTES;

/// An HTTP answer, before it is turned into the host's response type.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    /// Response headers (lower-case names), `content-type` included when there is a body.
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// A JSON answer.
    pub fn json(status: u16, value: &Value) -> Answer {
        Answer {
            status,
            headers: vec![("content-type", "application/json".to_string())],
            body: value.to_string().into_bytes(),
        }
    }

    /// The contract's `{"error": {kind, message}}` with a status.
    pub fn error(status: u16, kind: &str, message: &str) -> Answer {
        Answer::json(
            status,
            &json!({"error": {"kind": kind, "message": message}}),
        )
    }

    /// An answer without a body (202 Accepted for a notification).
    pub fn empty(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The value of a response header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Answer {
        self.headers.push((name, value.into()));
        self
    }

    fn method_not_allowed(allow: &'static str) -> Answer {
        Answer::error(
            405,
            "invalid_input",
            &format!("method not allowed here; use {allow}"),
        )
        .with_header("allow", allow)
    }

    /// 413: the body is larger than [`MAX_BODY_BYTES`].
    pub fn too_large() -> Answer {
        Answer::error(
            413,
            "invalid_input",
            &format!(
                "the request body is larger than {} MiB; send smaller requests",
                MAX_BODY_BYTES >> 20
            ),
        )
    }
}

/// What the endpoint needs to know about a request before reading its body.
pub struct RequestHead<'a> {
    pub method: &'a str,
    /// The path, without the query.
    pub path: &'a str,
    /// A request header by lower-case name (the first value).
    pub header: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// Whether the peer's address is a loopback address; `None` when the host does not say.
    pub peer_is_loopback: Option<bool>,
}

/// Who may use the endpoint.
#[derive(Clone, PartialEq)]
pub struct AccessPolicy {
    token: Option<String>,
    allowed_hosts: Vec<String>,
    allow_unauthenticated: bool,
}

impl std::fmt::Debug for AccessPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessPolicy")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("allowed_hosts", &self.allowed_hosts)
            .field("allow_unauthenticated", &self.allow_unauthenticated)
            .finish()
    }
}

impl AccessPolicy {
    /// `token`: the server token (`None`: none configured); `allowed_hosts`: names (or
    /// `name:port`) that may appear in `Host` and `Origin` besides the loopback names;
    /// `allow_unauthenticated`: serve without a token (only to loopback, and only when no
    /// token is configured).
    pub fn new(
        token: Option<String>,
        allowed_hosts: impl IntoIterator<Item = String>,
        allow_unauthenticated: bool,
    ) -> AccessPolicy {
        AccessPolicy {
            token,
            allowed_hosts: allowed_hosts
                .into_iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
            allow_unauthenticated,
        }
    }

    /// Whether a server token is configured.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Checks a request against the rules (module docs); `Err` is the answer to send
    /// instead, before any of the body is read.
    pub fn admit(&self, head: &RequestHead<'_>) -> Result<(), Answer> {
        let reject = |status: u16, kind: &str, message: &str| {
            Err(rejection(head.path, status, kind, message))
        };
        let host = (head.header)("host").unwrap_or_default();
        let Some(host_is_loopback) = self.host_allowed(&host) else {
            return reject(
                403,
                "forbidden",
                "this Host is not served here: use a loopback address, or add the name to the server's allowed hosts",
            );
        };
        if let Some(origin) = (head.header)("origin")
            && self.origin_allowed(&origin).is_none()
        {
            return reject(
                403,
                "forbidden",
                "requests from this Origin are not accepted: only pages on a loopback address or an allowed host may call this endpoint",
            );
        }
        match &self.token {
            Some(token) => {
                let presented = (head.header)("authorization").and_then(|v| bearer(&v));
                let matches = presented.is_some_and(|p| constant_time_eq(token.as_bytes(), &p));
                if !matches {
                    return Err(rejection(
                        head.path,
                        401,
                        "unauthorized",
                        "this endpoint needs `Authorization: Bearer <server token>`; ask the operator for the token",
                    )
                    .with_header("www-authenticate", "Bearer realm=\"bitbucket-connector\""));
                }
            }
            None if self.allow_unauthenticated => {
                if !host_is_loopback || head.peer_is_loopback == Some(false) {
                    return reject(
                        403,
                        "forbidden",
                        "without a server token only loopback requests are served",
                    );
                }
            }
            None => {
                return reject(
                    500,
                    "config",
                    "the server has no token configured, so it serves nothing: the operator sets the server token (or explicitly allows unauthenticated loopback use)",
                );
            }
        }
        if let Some(length) = (head.header)("content-length")
            && length
                .trim()
                .parse::<u64>()
                .map_or(true, |n| n > MAX_BODY_BYTES as u64)
        {
            return Err(Answer::too_large());
        }
        Ok(())
    }

    /// `Some(is_loopback)` when `authority` (`host[:port]`) is served, `None` when not.
    fn host_allowed(&self, authority: &str) -> Option<bool> {
        let authority = authority.trim().to_ascii_lowercase();
        let (name, _) = split_port(&authority)?;
        if is_loopback_name(name) {
            return Some(true);
        }
        self.allowed_hosts
            .iter()
            .any(|allowed| match split_port(allowed) {
                Some((allowed_name, None)) => allowed_name == name,
                _ => *allowed == authority,
            })
            .then_some(false)
    }

    /// An `Origin` (`scheme://host[:port]`) is allowed when its host is.
    fn origin_allowed(&self, origin: &str) -> Option<bool> {
        let origin = origin.trim();
        let (scheme, authority) = origin.split_once("://")?;
        if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")
            || authority.is_empty()
            || authority.contains(['/', '@', '?', '#'])
        {
            return None;
        }
        self.host_allowed(authority)
    }
}

/// A refused request: a JSON-RPC error on `/mcp`, the contract's error object elsewhere.
fn rejection(path: &str, status: u16, kind: &str, message: &str) -> Answer {
    if path == "/mcp" {
        Answer::json(
            status,
            &error_response(Value::Null, code::INVALID_REQUEST, message),
        )
    } else {
        Answer::error(status, kind, message)
    }
}

/// `host` / `host:port` / `[v6]` / `[v6]:port` → (host, port). `None` for an empty or
/// malformed authority.
fn split_port(authority: &str) -> Option<(&str, Option<&str>)> {
    let (name, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (&authority[..inside.len() + 2], port)
    } else {
        match authority.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (authority, None),
        }
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (!name.is_empty() && port_ok && !name.contains(['/', '@', ' '])).then_some((name, port))
}

/// `localhost`, `127.0.0.0/8` and `[::1]`.
pub fn is_loopback_name(name: &str) -> bool {
    if name == "localhost" || name == "[::1]" {
        return true;
    }
    let octets: Vec<&str> = name.split('.').collect();
    octets.len() == 4
        && octets[0] == "127"
        && octets
            .iter()
            .all(|o| !o.is_empty() && o.len() <= 3 && o.parse::<u8>().is_ok())
}

/// The token of `Bearer TOKEN` (the scheme is case-insensitive).
fn bearer(value: &str) -> Option<Vec<u8>> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().as_bytes().to_vec())
}

/// Compares in time that depends only on the lengths, not on where the presented value
/// first differs (`subtle`); a presented value of another length is compared, padded, all
/// the same, so its length is not told apart by an early exit either.
pub fn constant_time_eq(expected: &[u8], presented: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    let same_length = (expected.len() as u64).ct_eq(&(presented.len() as u64));
    let padded: Vec<u8> = (0..expected.len())
        .map(|i| presented.get(i).copied().unwrap_or(0))
        .collect();
    (expected.ct_eq(&padded) & same_length).into()
}

/// The HTTP status for a failed call of this kind (`POST /tools/{name}`).
pub fn status_for_kind(kind: &str) -> u16 {
    match kind {
        "invalid_input" => 400,
        "unauthorized" => 401,
        "out_of_scope" | "forbidden" | "search_unavailable" => 403,
        "not_found" | "pipelines_unavailable" => 404,
        "rate_limited" => 429,
        "upstream" => 502,
        "timeout" => 504,
        // `config` and anything unforeseen: the server is not usable as configured.
        _ => 500,
    }
}

/// Answers one admitted request whose body has been read (at most [`MAX_BODY_BYTES`]).
pub async fn route(head: &RequestHead<'_>, body: &[u8], backend: &dyn ToolBackend) -> Answer {
    match head.path {
        "/mcp" => match head.method {
            "POST" => mcp(head, body, backend).await,
            // Stateless: no server-sent event stream to open, no session to delete.
            _ => Answer::method_not_allowed("POST"),
        },
        "/tools" => match head.method {
            "GET" => Answer::json(200, &crate::tools_json(backend.tools())),
            _ => Answer::method_not_allowed("GET"),
        },
        path => match path.strip_prefix("/tools/") {
            Some(name) => match head.method {
                "POST" => call(name, body, backend).await,
                _ => Answer::method_not_allowed("POST"),
            },
            None => Answer::error(
                404,
                "not_found",
                "no such route: the routes are POST /mcp, GET /tools and POST /tools/{name}",
            ),
        },
    }
}

/// `POST /tools/{name}`: the contract's JSON result or error object.
async fn call(name: &str, body: &[u8], backend: &dyn ToolBackend) -> Answer {
    let Some(tool) = backend.tools().iter().find(|t| t.name == name) else {
        let names: Vec<&str> = backend.tools().iter().map(|t| t.name.as_str()).collect();
        let shown: String = name.chars().take(64).collect();
        return Answer::error(
            404,
            "not_found",
            &format!("unknown tool `{shown}`; the tools are {}", names.join(", ")),
        );
    };
    let args = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(args @ Value::Object(_)) => args,
            Ok(_) => {
                return Answer::error(
                    400,
                    "invalid_input",
                    "the request body must be a JSON object of arguments",
                );
            }
            Err(e) => {
                return Answer::error(
                    400,
                    "invalid_input",
                    &format!("the request body is not valid JSON: {e}"),
                );
            }
        }
    };
    match backend.call_tool(&tool.name, &args).await {
        Ok(CallOutcome::Success(value)) => Answer::json(200, &value),
        Ok(outcome @ CallOutcome::ToolError { .. }) => {
            let status = match &outcome {
                CallOutcome::ToolError { kind, .. } => status_for_kind(kind),
                CallOutcome::Success(_) => 200,
            };
            Answer::json(status, &outcome.to_json())
        }
        Err(message) => Answer::error(500, "upstream", &message),
    }
}

/// `POST /mcp`: one JSON-RPC message.
async fn mcp(head: &RequestHead<'_>, body: &[u8], backend: &dyn ToolBackend) -> Answer {
    if let Some(version) = (head.header)("mcp-protocol-version")
        && !SUPPORTED_PROTOCOL_VERSIONS.contains(&version.trim())
    {
        return Answer::json(
            400,
            &error_response(
                Value::Null,
                code::INVALID_REQUEST,
                &format!(
                    "unsupported MCP-Protocol-Version; this server supports {}",
                    SUPPORTED_PROTOCOL_VERSIONS.join(", ")
                ),
            ),
        );
    }
    let text = String::from_utf8_lossy(body);
    // The client's `MCP-Protocol-Version` is the session's version: from 2025-06-18 on, a
    // batch is an error. Without the header the client is taken to speak 2025-03-26.
    let session = crate::Session::with_version(
        (head.header)("mcp-protocol-version")
            .as_deref()
            .map(str::trim),
    );
    match crate::handle_text_in(&text, backend, &session).await {
        // Notifications and responses: accepted, nothing to say.
        None => Answer::empty(202),
        // A message that could not be read at all (no id to answer): 400.
        Some(response) if response.get("error").is_some() && response["id"].is_null() => {
            Answer::json(400, &response)
        }
        Some(response) => Answer::json(200, &response),
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
