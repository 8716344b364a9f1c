//! The Bitbucket REST client: builds requests from paths and parameters, authenticates,
//! retries what is worth retrying, refreshes an expired OAuth token once, and turns every
//! failure into a typed tool error.

use crate::bindings::{ErrorKind, ToolError};
use crate::config::{BaseUrl, Config};
use crate::encoding::{AbsoluteUrl, percent_encode};
use crate::error::{DIFF_TIMEOUT, Endpoint, ToolResult, from_status};
use crate::transport::{HttpRequest, HttpResponse, Method, ReadLimit, Transport, TransportError};
use serde::de::DeserializeOwned;
use std::cell::RefCell;

/// The largest JSON answer read; Bitbucket pages are far smaller.
pub const MAX_JSON_BYTES: usize = 8 << 20;
/// How many times one request is sent at most while Bitbucket answers 429.
pub const RATE_LIMIT_ATTEMPTS: u32 = 4;
/// How many times one request is sent at most after a 5xx answer or a failed connection.
pub const FAILURE_ATTEMPTS: u32 = 3;
/// The waits between retries of one call add up to at most this many base delays.
pub const MAX_WAIT_FACTOR: u64 = 10;

/// At most this many redirects are followed for one request.
pub const MAX_REDIRECTS: u32 = 3;

/// What a request does with a 3xx answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redirects {
    /// A redirect is an `upstream` error (most endpoints never redirect).
    Refuse,
    /// Follow a redirect to the API origin, inside the workspace, with the same
    /// credentials (a pull request's diff and diffstat, REFERENCE-REVIEW §2a); any other
    /// target is an `upstream` error.
    SameOrigin,
    /// Hand the 3xx answer back to the tool (a step log's 307 to its storage host).
    Return,
}

/// One GET against the API.
#[derive(Clone, Debug)]
pub struct ApiGet {
    /// The path below the API base, already percent-encoded per segment, starting with `/`.
    pub path: String,
    /// Query parameters, not yet encoded.
    pub query: Vec<(String, String)>,
    /// What is being read, to explain failures.
    pub endpoint: Endpoint,
    /// When to stop reading the body.
    pub read: ReadLimit,
    /// The `Accept` header.
    pub accept: &'static str,
    /// A `Range` header, if any.
    pub range: Option<String>,
    /// What to do with a redirect.
    pub redirects: Redirects,
}

impl ApiGet {
    /// A GET of `path` (encoded) that expects a JSON answer.
    pub fn new(path: impl Into<String>, endpoint: Endpoint) -> Self {
        ApiGet {
            path: path.into(),
            query: Vec::new(),
            endpoint,
            read: ReadLimit::bytes(MAX_JSON_BYTES),
            accept: "application/json",
            range: None,
            redirects: Redirects::Refuse,
        }
    }

    /// Sets the `Accept` header.
    pub fn accept(mut self, accept: &'static str) -> Self {
        self.accept = accept;
        self
    }

    /// Sets a `Range` header.
    pub fn range(mut self, range: impl Into<String>) -> Self {
        self.range = Some(range.into());
        self
    }

    /// Sets what to do with a redirect.
    pub fn redirects(mut self, redirects: Redirects) -> Self {
        self.redirects = redirects;
        self
    }

    /// Adds a query parameter.
    pub fn param(mut self, name: &str, value: impl ToString) -> Self {
        self.query.push((name.to_owned(), value.to_string()));
        self
    }

    /// Adds a query parameter when `value` is present.
    pub fn param_opt(self, name: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.param(name, v),
            None => self,
        }
    }

    /// Sets the read limit.
    pub fn read(mut self, read: ReadLimit) -> Self {
        self.read = read;
        self
    }

    fn path_and_query(&self, base: &BaseUrl) -> String {
        let mut out = format!("{}{}", base.path, self.path);
        for (i, (name, value)) in self.query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(&percent_encode(name));
            out.push('=');
            out.push_str(&percent_encode(value));
        }
        out
    }
}

/// A client for one tool call.
pub struct Client<'a> {
    config: &'a Config,
    transport: &'a dyn Transport,
    /// The `Authorization` value; replaced after an OAuth refresh.
    authorization: RefCell<Option<String>>,
    refreshed: RefCell<bool>,
}

impl<'a> Client<'a> {
    /// A client for `config` sending through `transport`.
    pub fn new(config: &'a Config, transport: &'a dyn Transport) -> Self {
        Client {
            config,
            transport,
            authorization: RefCell::new(config.auth.header()),
            refreshed: RefCell::new(false),
        }
    }

    /// The configuration of this call.
    pub fn config(&self) -> &Config {
        self.config
    }

    /// Sends one GET; a non-2xx status becomes a tool error.
    pub fn get(&self, get: ApiGet) -> ToolResult<HttpResponse> {
        self.get_all(std::slice::from_ref(&get))
            .pop()
            .expect("one outcome per request")
    }

    /// Sends one GET and decodes its JSON answer.
    pub fn get_json<T: DeserializeOwned>(&self, get: ApiGet) -> ToolResult<T> {
        decode_json(&self.get(get)?)
    }

    /// Sends GETs concurrently (and their retries); outcomes in request order.
    ///
    /// 429 answers are retried up to [`RATE_LIMIT_ATTEMPTS`] times in all, 5xx answers (but
    /// 555, a diff too large to compute) and failed connections up to [`FAILURE_ATTEMPTS`] times, after an exponential backoff with
    /// jitter whose total stays under [`MAX_WAIT_FACTOR`] × the base delay. A 401 triggers one
    /// OAuth refresh (when configured) and a retry.
    pub fn get_all(&self, gets: &[ApiGet]) -> Vec<ToolResult<HttpResponse>> {
        let mut outcomes: Vec<Option<ToolResult<HttpResponse>>> = vec![None; gets.len()];
        let mut attempts = vec![0u32; gets.len()];
        let mut redirected: Vec<Option<String>> = vec![None; gets.len()];
        let mut hops = vec![0u32; gets.len()];
        let mut todo: Vec<usize> = (0..gets.len()).collect();
        let base_ms = self.config.retry_base_ms;
        let mut waited_ms = 0u64;
        for round in 0u32.. {
            let requests: Vec<HttpRequest> = todo
                .iter()
                .map(|&i| self.request(&gets[i], redirected[i].as_ref()))
                .collect();
            let answers = self.transport.send_all(&requests);
            let mut again = Vec::new();
            let mut unauthorized = Vec::new();
            let mut rate_limited = false;
            let mut backoff = false;
            for (&index, answer) in todo.iter().zip(answers) {
                attempts[index] += 1;
                let endpoint = &gets[index].endpoint;
                if let Ok(response) = &answer
                    && (300..400).contains(&response.status)
                {
                    match gets[index].redirects {
                        Redirects::Return => {
                            outcomes[index] = Some(Ok(answer.expect("checked")));
                            continue;
                        }
                        Redirects::SameOrigin if hops[index] < MAX_REDIRECTS => {
                            let target = response
                                .header("location")
                                .and_then(|l| self.same_origin_target(&gets[index], l));
                            if let Some(target) = target {
                                hops[index] += 1;
                                attempts[index] = 0;
                                redirected[index] = Some(target);
                                again.push(index);
                                continue;
                            }
                        }
                        _ => {}
                    }
                }
                let limit = match &answer {
                    Ok(response) if response.status == 429 => RATE_LIMIT_ATTEMPTS,
                    Ok(response) if response.status == DIFF_TIMEOUT => 0,
                    Ok(response) if response.status >= 500 => FAILURE_ATTEMPTS,
                    Err(TransportError::Failed(_)) => FAILURE_ATTEMPTS,
                    _ => 0,
                };
                if attempts[index] < limit {
                    again.push(index);
                    backoff = true;
                    rate_limited |= matches!(&answer, Ok(r) if r.status == 429);
                }
                outcomes[index] = Some(match answer {
                    Ok(response) if (200..300).contains(&response.status) => Ok(response),
                    Ok(response) => {
                        if response.status == 401 && self.can_refresh() {
                            unauthorized.push(index);
                        }
                        Err(self.status_error(&response, endpoint, attempts[index], waited_ms))
                    }
                    Err(error) => Err(self.transport_error(error)),
                });
            }
            if !unauthorized.is_empty() {
                match self.refresh_token() {
                    Ok(()) => again.extend(unauthorized),
                    Err(error) => {
                        for index in unauthorized {
                            outcomes[index] = Some(Err(error.clone()));
                        }
                    }
                }
            }
            if again.is_empty() {
                break;
            }
            if backoff {
                // Rate limits back off from the full base delay, failures from half of it.
                let nominal = if rate_limited { base_ms } else { base_ms / 2 } << round.min(10);
                let delay = self.jittered(nominal, round);
                if waited_ms + delay > base_ms * MAX_WAIT_FACTOR {
                    break;
                }
                self.transport.pause(delay);
                waited_ms += delay;
            }
            again.sort_unstable();
            todo = again;
        }
        outcomes
            .into_iter()
            .map(|o| o.expect("every request has an outcome"))
            .collect()
    }

    /// `nominal` scaled by a factor in [0.5, 1.5), so that clients do not retry in step.
    fn jittered(&self, nominal: u64, round: u32) -> u64 {
        // splitmix64 over the transport's entropy (a clock reading in the component).
        let mut x = self.transport.entropy() ^ (u64::from(round) << 32) ^ 0x9E37_79B9_7F4A_7C15;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        nominal / 2 + nominal * (x % 1000) / 1000
    }

    fn request(&self, get: &ApiGet, redirected_to: Option<&String>) -> HttpRequest {
        let api = &self.config.api;
        let mut headers = vec![("accept".to_owned(), get.accept.to_owned())];
        if let Some(range) = &get.range {
            headers.push(("range".to_owned(), range.clone()));
        }
        if let Some(value) = self.authorization.borrow().as_ref() {
            headers.push(("authorization".to_owned(), value.clone()));
        }
        HttpRequest {
            method: Method::Get,
            https: api.https,
            authority: api.authority.clone(),
            path_and_query: redirected_to
                .cloned()
                .unwrap_or_else(|| get.path_and_query(api)),
            headers,
            body: None,
            read: get.read,
        }
    }

    /// Where a same-origin redirect of `get` goes (path and query), when the API origin
    /// named a place inside this workspace: the `Location`'s own query, plus the request's
    /// parameters it does not set. `None` for any other target.
    fn same_origin_target(&self, get: &ApiGet, location: &str) -> Option<String> {
        let api = &self.config.api;
        let target = AbsoluteUrl::resolve(location, api)?;
        let inside = format!(
            "{}/repositories/{}/",
            api.path,
            percent_encode(&self.config.workspace)
        );
        if target.https != api.https
            || !target.authority.eq_ignore_ascii_case(&api.authority)
            || !target.path().starts_with(&inside)
            || target.path().split('/').any(|s| s == ".." || s == ".")
        {
            return None;
        }
        let mut out = target.path_and_query.clone();
        let (_, query) = out.split_once('?').unwrap_or(("", ""));
        let present: Vec<String> = query
            .split('&')
            .map(|kv| kv.split('=').next().unwrap_or("").to_owned())
            .collect();
        let mut separator = if out.contains('?') { '&' } else { '?' };
        for (name, value) in &get.query {
            let name = percent_encode(name);
            if !present.contains(&name) {
                out.push(separator);
                out.push_str(&name);
                out.push('=');
                out.push_str(&percent_encode(value));
                separator = '&';
            }
        }
        Some(out)
    }

    /// Sends GETs to URLs outside the API (a step log's storage host), concurrently and
    /// once each, **without credentials**: such URLs authorise themselves, and Bitbucket's
    /// credentials must never reach another origin. Only `accept` and `range` are sent.
    pub fn get_foreign(
        &self,
        requests: &[(AbsoluteUrl, &'static str, Option<String>, ReadLimit)],
    ) -> Vec<Result<HttpResponse, TransportError>> {
        let outgoing: Vec<HttpRequest> = requests
            .iter()
            .map(|(url, accept, range, read)| {
                let mut headers = vec![("accept".to_owned(), (*accept).to_owned())];
                if let Some(range) = range {
                    headers.push(("range".to_owned(), range.clone()));
                }
                HttpRequest {
                    method: Method::Get,
                    https: url.https,
                    authority: url.authority.clone(),
                    path_and_query: url.path_and_query.clone(),
                    headers,
                    body: None,
                    read: *read,
                }
            })
            .collect();
        self.transport.send_all(&outgoing)
    }

    fn status_error(
        &self,
        response: &HttpResponse,
        endpoint: &Endpoint,
        attempts: u32,
        waited_ms: u64,
    ) -> ToolError {
        if response.status == 429 {
            return ToolError::new(
                ErrorKind::RateLimited,
                format!(
                    "Bitbucket's rate limit was exceeded (429), and {attempts} attempts over {:.1} s \
                     did not get through. Bitbucket counts requests per hour for each user or \
                     token: wait a few minutes before trying again, and prefer fewer, more \
                     specific requests (a smaller `limit`, a narrower `path`).",
                    waited_ms as f64 / 1000.0
                ),
            );
        }
        if (300..400).contains(&response.status) {
            return ToolError::upstream(format!(
                "Bitbucket answered with a redirect (HTTP {}) that the connector does not follow \
                 (for a file this usually means it is stored in Git LFS).",
                response.status
            ));
        }
        from_status(response.status, &response.body, endpoint)
    }

    fn transport_error(&self, error: TransportError) -> ToolError {
        let origin = self.config.api.origin();
        match error {
            TransportError::Denied => ToolError::upstream(format!(
                "The host refused the outbound request to {origin}: it is not on the host's \
                 list of allowed hosts. The operator must allow this API host (or fix \
                 BITBUCKET_API_BASE_URL)."
            )),
            TransportError::Timeout => ToolError::new(
                ErrorKind::Timeout,
                format!(
                    "Bitbucket did not answer within {} seconds. Try again, or ask for less \
                     (a smaller `limit`, a narrower path); the operator can raise \
                     BITBUCKET_TIMEOUT_SECONDS.",
                    self.config.timeout_seconds
                ),
            ),
            TransportError::Failed(why) => ToolError::upstream(format!(
                "Could not reach Bitbucket at {origin}{}. Check the network and \
                 BITBUCKET_API_BASE_URL, then try again.",
                if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({why})")
                }
            )),
        }
    }

    fn can_refresh(&self) -> bool {
        self.config.refresh.is_some() && !*self.refreshed.borrow()
    }

    /// One `grant_type=refresh_token` exchange; the new access token replaces the old one.
    fn refresh_token(&self) -> ToolResult<()> {
        *self.refreshed.borrow_mut() = true;
        let refresh = self
            .config
            .refresh
            .as_ref()
            .expect("checked by can_refresh");
        let body = format!(
            "grant_type=refresh_token&refresh_token={}",
            percent_encode(&refresh.refresh_token)
        );
        let request = HttpRequest {
            method: Method::Post,
            https: refresh.token_url.https,
            authority: refresh.token_url.authority.clone(),
            path_and_query: if refresh.token_url.path.is_empty() {
                "/".into()
            } else {
                refresh.token_url.path.clone()
            },
            headers: vec![
                ("accept".into(), "application/json".into()),
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                (
                    "authorization".into(),
                    format!("Basic {}", refresh.client_basic),
                ),
            ],
            body: Some(body.into_bytes()),
            read: ReadLimit::bytes(64 * 1024),
        };
        let failed = |why: &str| {
            ToolError::new(
                ErrorKind::Unauthorized,
                format!(
                    "The OAuth access token expired and refreshing it failed ({why}). Reconnect: \
                     authorize the OAuth consumer again and configure the new refresh token."
                ),
            )
        };
        let response = match self
            .transport
            .send_all(std::slice::from_ref(&request))
            .pop()
        {
            Some(Ok(response)) => response,
            Some(Err(error)) => return Err(self.transport_error(error)),
            None => return Err(failed("no answer")),
        };
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            access_token: Option<String>,
            error: Option<String>,
        }
        let answer: TokenAnswer = serde_json::from_slice(&response.body)
            .map_err(|_| failed(&format!("HTTP {} without a JSON body", response.status)))?;
        match (response.status, answer.access_token) {
            (200, Some(token)) if !token.is_empty() => {
                *self.authorization.borrow_mut() = Some(format!("Bearer {token}"));
                Ok(())
            }
            (status, _) => {
                let code: String = answer
                    .error
                    .unwrap_or_default()
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .take(40)
                    .collect();
                Err(failed(&format!("HTTP {status} {code}")))
            }
        }
    }
}

/// Decodes a JSON answer; a wrong content type, a cut-off body or bad JSON is `upstream`.
pub fn decode_json<T: DeserializeOwned>(response: &HttpResponse) -> ToolResult<T> {
    if !response.complete {
        return Err(ToolError::upstream(format!(
            "Bitbucket's answer was larger than {} MB and was not read; ask for less.",
            MAX_JSON_BYTES >> 20
        )));
    }
    if !response.is_json() {
        return Err(ToolError::upstream(format!(
            "Bitbucket answered with `{}` instead of JSON; the API base URL may point at the \
             wrong server.",
            response
                .header("content-type")
                .unwrap_or("no content type")
                .chars()
                .take(60)
                .collect::<String>()
        )));
    }
    serde_json::from_slice(&response.body).map_err(|e| {
        ToolError::upstream(format!(
            "Bitbucket's answer could not be understood ({}). Try again; if it persists, the API \
             may have changed.",
            e.to_string().chars().take(120).collect::<String>()
        ))
    })
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
