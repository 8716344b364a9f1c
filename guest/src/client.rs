//! The Bitbucket REST client: builds requests from paths and parameters, authenticates,
//! retries what is worth retrying, refreshes an expired OAuth token once, and turns every
//! failure into a typed tool error.

use crate::bindings::{ErrorKind, ToolError};
use crate::config::{BaseUrl, Config};
use crate::encoding::percent_encode;
use crate::error::{Endpoint, ToolResult, from_status};
use crate::transport::{HttpRequest, HttpResponse, Method, ReadLimit, Transport, TransportError};
use serde::de::DeserializeOwned;
use std::cell::RefCell;

/// The largest JSON answer read; Bitbucket pages are far smaller.
pub const MAX_JSON_BYTES: usize = 8 << 20;
/// How many times one request is sent at most when Bitbucket answers 429 or 5xx.
pub const MAX_ATTEMPTS: usize = 3;

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
}

impl ApiGet {
    /// A GET of `path` (encoded) that expects a JSON answer.
    pub fn new(path: impl Into<String>, endpoint: Endpoint) -> Self {
        ApiGet {
            path: path.into(),
            query: Vec::new(),
            endpoint,
            read: ReadLimit::bytes(MAX_JSON_BYTES),
        }
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
    pub fn get_all(&self, gets: &[ApiGet]) -> Vec<ToolResult<HttpResponse>> {
        let mut outcomes: Vec<Option<ToolResult<HttpResponse>>> = vec![None; gets.len()];
        let mut todo: Vec<usize> = (0..gets.len()).collect();
        for attempt in 1..=MAX_ATTEMPTS {
            let requests: Vec<HttpRequest> = todo.iter().map(|&i| self.request(&gets[i])).collect();
            let answers = self.transport.send_all(&requests);
            let mut again = Vec::new();
            let mut unauthorized = Vec::new();
            for (&index, answer) in todo.iter().zip(answers) {
                let endpoint = &gets[index].endpoint;
                outcomes[index] = Some(match answer {
                    Ok(response) if (200..300).contains(&response.status) => Ok(response),
                    Ok(response) => {
                        let retryable = response.status == 429 || response.status >= 500;
                        if retryable && attempt < MAX_ATTEMPTS {
                            again.push(index);
                        } else if response.status == 401 && self.can_refresh() {
                            unauthorized.push(index);
                        }
                        Err(self.status_error(&response, endpoint))
                    }
                    Err(TransportError::Failed(_)) if attempt < MAX_ATTEMPTS => {
                        again.push(index);
                        Err(self.transport_error(TransportError::Failed(String::new())))
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
            again.sort_unstable();
            todo = again;
        }
        outcomes
            .into_iter()
            .map(|o| o.expect("every request has an outcome"))
            .collect()
    }

    fn request(&self, get: &ApiGet) -> HttpRequest {
        let api = &self.config.api;
        let mut headers = vec![("accept".to_owned(), "application/json".to_owned())];
        if let Some(value) = self.authorization.borrow().as_ref() {
            headers.push(("authorization".to_owned(), value.clone()));
        }
        HttpRequest {
            method: Method::Get,
            https: api.https,
            authority: api.authority.clone(),
            path_and_query: get.path_and_query(api),
            headers,
            body: None,
            read: get.read,
        }
    }

    fn status_error(&self, response: &HttpResponse, endpoint: &Endpoint) -> ToolError {
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
