//! Outbound HTTP policy: the component may only read the configured API (GET or HEAD below
//! its base path) and POST to the exact OAuth token URL; everything else is refused before a
//! connection is opened. Optionally the host adds the credentials to the API GETs itself.
//!
//! One narrow allowance on top: a completed pipeline step's log answers 307 to a
//! self-authorising URL on a storage host (REFERENCE-REVIEW §6c). When the API origin itself
//! names a URL in the `Location` of a 3xx answer to a step-log GET, the component may fetch
//! exactly that URL once, with GET and without an `Authorization` header (the host adds none
//! there). Any other foreign URL stays refused.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

use http::Method;
use http::header::{AUTHORIZATION, HeaderName, HeaderValue};
use http::uri::{Scheme, Uri};
use http_body_util::BodyExt;
use wasmtime_wasi_http::{
    DEFAULT_FORBIDDEN_HEADERS, Error as HttpError, ForbiddenHeaderFilter, RequestOptions, WasiBody,
    WasiHttpHooks,
};

use crate::config::Settings;

/// scheme + host + port, the unit the allowlist compares.
#[derive(Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    }
}

/// Normalises a host name for comparison: lower case, no trailing dot.
fn normal_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

impl Origin {
    /// Parses an `http(s)://host[:port][/path]` URL into its origin and path (no trailing `/`).
    pub fn parse(url: &str) -> Result<(Origin, String), String> {
        let uri: Uri = url.trim().parse().map_err(|e| format!("not a URL ({e})"))?;
        let scheme = uri
            .scheme_str()
            .ok_or("it has no scheme (expected http:// or https://)")?
            .to_ascii_lowercase();
        let port_default = default_port(&scheme).ok_or("the scheme must be http or https")?;
        let authority = uri.authority().ok_or("it has no host")?;
        if authority.as_str().contains('@') {
            return Err("it must not contain user information".into());
        }
        let host = normal_host(authority.host());
        if host.is_empty() {
            return Err("it has no host".into());
        }
        let port_text = authority
            .as_str()
            .rsplit_once(':')
            .map(|(_, p)| p)
            .filter(|p| !p.contains(']'));
        if port_text.is_some_and(|p| p.parse::<u16>().is_err()) {
            return Err("its port is not a number from 0 to 65535".into());
        }
        if uri.query().is_some() {
            return Err("it must not have a query".into());
        }
        let port = authority.port_u16().unwrap_or(port_default);
        let path = uri.path().trim_end_matches('/').to_string();
        Ok((Origin { scheme, host, port }, path))
    }

    /// The origin a request goes to, if it is a well-formed http(s) request URI.
    pub fn of_request(uri: &Uri) -> Option<Origin> {
        let scheme = uri.scheme()?;
        let scheme = if *scheme == Scheme::HTTPS {
            "https"
        } else if *scheme == Scheme::HTTP {
            "http"
        } else {
            return None;
        };
        let authority = uri.authority()?;
        if authority.as_str().contains('@') {
            return None;
        }
        Some(Origin {
            scheme: scheme.to_string(),
            host: normal_host(authority.host()),
            port: authority.port_u16().or(default_port(scheme))?,
        })
    }
}

/// A URL fit to print: user information and the query (and fragment) replaced by `…`, since
/// either can carry a secret (`https://user:password@host/`, `?access_token=`).
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        None => ("", url),
    };
    let (before_query, had_query) = match rest.find(['?', '#']) {
        Some(i) => (&rest[..i], true),
        None => (rest, false),
    };
    let authority_end = before_query.find('/').unwrap_or(before_query.len());
    let (authority, path) = before_query.split_at(authority_end);
    // Without a scheme the text's shape is unknown: any `@` may end user information.
    let (authority, path) = if scheme.is_empty() {
        (before_query, "")
    } else {
        (authority, path)
    };
    let authority = match authority.rfind('@') {
        Some(i) => format!("…@{}", &authority[i + 1..]),
        None => authority.to_string(),
    };
    format!(
        "{scheme}{authority}{path}{}",
        if had_query { "?…" } else { "" }
    )
}

/// Why a request may go out: the rule that allowed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A read of the Bitbucket API: GET or HEAD below the API base path.
    ApiRead,
    /// The OAuth refresh: POST to exactly the token URL.
    TokenExchange,
    /// A credential-free GET of a URL the API named in a 3xx for a step log, once.
    NamedByApi,
}

/// What the policy does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Forward it; `credentials`: the host adds its `Authorization` header.
    Allow { rule: Rule, credentials: bool },
    /// Refuse it before any connection is opened; the reason is for the operator's log.
    Refuse(&'static str),
}

/// The outbound rules, shared by all calls. Read-only at the host: only the requests the
/// connector needs to read pass, whatever the component asks for.
pub struct PolicyConfig {
    api: Origin,
    api_path: String,
    token: Origin,
    token_path: String,
    authorization: Option<HeaderValue>,
}

/// Whether `path` is `base` or below it (`base` has no trailing `/`; empty is the root).
fn is_below(path: &str, base: &str) -> bool {
    path == base
        || path
            .strip_prefix(base)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Whether a path has a `.` or `..` segment, raw or percent-encoded (`%2e`, or hidden in a
/// segment with an encoded `/`), which a server may resolve to somewhere above the base.
fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|segment| {
        percent_encoding::percent_decode_str(segment)
            .decode_utf8_lossy()
            .split(['/', '\\'])
            .any(|part| part == "." || part == "..")
    })
}

impl PolicyConfig {
    pub fn new(settings: &Settings) -> PolicyConfig {
        let authorization = settings.host_credentials.as_ref().and_then(|c| {
            let mut v = HeaderValue::from_str(&c.header_value()).ok()?;
            v.set_sensitive(true);
            Some(v)
        });
        PolicyConfig {
            api: settings.api_base.clone(),
            api_path: settings.api_path.clone(),
            token: settings.token_url.clone(),
            token_path: settings.token_path.clone(),
            authorization,
        }
    }

    /// Decides one request. The rules, in order (anything they do not allow is refused):
    /// 1. GET or HEAD to the API origin below the API base path ([`Rule::ApiRead`]); the
    ///    host's credentials, if it holds them, go only on these GETs;
    /// 2. POST to exactly the token URL, without a query ([`Rule::TokenExchange`]).
    pub fn decide(&self, method: &Method, uri: &Uri) -> Decision {
        let Some(origin) = Origin::of_request(uri) else {
            return Decision::Refuse("it is not an absolute http(s) URL without user information");
        };
        let path = uri.path();
        if has_dot_segment(path) {
            return Decision::Refuse("its path has a `.` or `..` segment");
        }
        if origin == self.api && is_below(path, &self.api_path) {
            if *method == Method::GET {
                return Decision::Allow {
                    rule: Rule::ApiRead,
                    credentials: self.authorization.is_some(),
                };
            }
            if *method == Method::HEAD {
                return Decision::Allow {
                    rule: Rule::ApiRead,
                    credentials: false,
                };
            }
        }
        let token_path = if self.token_path.is_empty() {
            "/"
        } else {
            self.token_path.as_str()
        };
        if origin == self.token
            && path == token_path
            && uri.query().is_none()
            && *method == Method::POST
        {
            return Decision::Allow {
                rule: Rule::TokenExchange,
                credentials: false,
            };
        }
        if origin == self.api || origin == self.token {
            Decision::Refuse(
                "only GET and HEAD below the API base path and POST to the OAuth token URL are allowed",
            )
        } else {
            Decision::Refuse("its host is neither the API nor the OAuth token endpoint")
        }
    }

    /// Whether the host adds the `Authorization` header (then the guest may not set one).
    pub fn injects_credentials(&self) -> bool {
        self.authorization.is_some()
    }
}

/// The per-store hooks object handed to wasmtime-wasi-http.
pub struct OutboundPolicy {
    config: Arc<PolicyConfig>,
    /// URLs the API named in a 3xx `Location` for a step-log request during this call, each
    /// allowed once (credential-free GET).
    named_by_api: Arc<Mutex<Vec<Uri>>>,
}

impl OutboundPolicy {
    pub fn new(config: Arc<PolicyConfig>) -> OutboundPolicy {
        OutboundPolicy {
            config,
            named_by_api: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Takes the one-time allowance for `uri`, if the API named it and the request is a GET
    /// without credentials.
    fn take_named(&self, method: &Method, uri: &Uri, has_authorization: bool) -> bool {
        if *method != Method::GET || has_authorization {
            return false;
        }
        let mut named = self.named_by_api.lock().expect("allowance lock");
        match named.iter().position(|n| same_url(n, uri)) {
            Some(at) => {
                named.remove(at);
                true
            }
            None => false,
        }
    }
}

/// Whether `path` is a pipeline step's log below the API base path:
/// `…/repositories/{ws}/{repo}/pipelines/{id}/steps/{step}/log`.
pub fn is_step_log(path: &str, api_path: &str) -> bool {
    let Some(rest) = path.strip_prefix(api_path) else {
        return false;
    };
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    matches!(
        segments.as_slice(),
        ["repositories", _, _, "pipelines", _, "steps", _, "log"]
    )
}

/// The absolute http(s) URL a `Location` names, when it is one (a relative `Location`
/// stays on the API origin, where the ordinary rules apply).
fn absolute_location(value: &HeaderValue) -> Option<Uri> {
    let uri: Uri = value.to_str().ok()?.trim().parse().ok()?;
    Origin::of_request(&uri)?;
    Some(uri)
}

fn same_url(a: &Uri, b: &Uri) -> bool {
    Origin::of_request(a) == Origin::of_request(b)
        && a.path_and_query().map(|p| p.as_str()) == b.path_and_query().map(|p| p.as_str())
}

fn forbidden(name: &HeaderName, inject: bool) -> bool {
    DEFAULT_FORBIDDEN_HEADERS.contains(name) || (inject && *name == AUTHORIZATION)
}

type ResponseFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for OutboundPolicy {
    fn is_forbidden_header(&mut self, name: &HeaderName) -> bool {
        forbidden(name, self.config.injects_credentials())
    }

    fn forbidden_header_filter(&mut self) -> ForbiddenHeaderFilter {
        let inject = self.config.injects_credentials();
        Arc::new(move |name| forbidden(name, inject))
    }

    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> ResponseFuture {
        drop(fut);
        let decision = match self.config.decide(request.method(), request.uri()) {
            Decision::Refuse(_)
                if self.take_named(
                    request.method(),
                    request.uri(),
                    request.headers().contains_key(AUTHORIZATION),
                ) =>
            {
                Decision::Allow {
                    rule: Rule::NamedByApi,
                    credentials: false,
                }
            }
            other => other,
        };
        let step_log = is_step_log(request.uri().path(), &self.config.api_path);
        let named_by_api = self.named_by_api.clone();
        match decision {
            Decision::Refuse(reason) => {
                // The origin only: the path and query come from the component and could
                // carry anything.
                let origin = Origin::of_request(request.uri())
                    .map_or_else(|| "an invalid URL".to_string(), |o| o.to_string());
                eprintln!(
                    "host-demo: refused an outbound {} request to {origin}: {reason}",
                    request.method()
                );
                Box::new(async { Err(HttpError::HttpRequestDenied) })
            }
            Decision::Allow { credentials, .. } => {
                if credentials && let Some(auth) = &self.config.authorization {
                    request.headers_mut().insert(AUTHORIZATION, auth.clone());
                }
                let from_api = matches!(
                    decision,
                    Decision::Allow {
                        rule: Rule::ApiRead,
                        ..
                    }
                );
                Box::new(async move {
                    let (res, io) =
                        wasmtime_wasi_http::default_send_request(request, options).await?;
                    if from_api && step_log && res.status().is_redirection() {
                        let named = res
                            .headers()
                            .get(http::header::LOCATION)
                            .and_then(absolute_location);
                        if let Some(uri) = named {
                            named_by_api.lock().expect("allowance lock").push(uri);
                        }
                    }
                    Ok((
                        res.map(BodyExt::boxed_unsync),
                        Box::new(io) as Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                    ))
                })
            }
        }
    }
}

#[cfg(test)]
#[path = "outbound_tests.rs"]
mod tests;
