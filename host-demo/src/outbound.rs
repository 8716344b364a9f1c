//! Outbound HTTP policy: the component may talk only to the configured API origin and the
//! OAuth token origin. Optionally the host adds the credentials to API requests itself.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

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

/// Where a request is going, as far as the policy is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// The Bitbucket API (credentials may be added).
    Api,
    /// The OAuth token endpoint.
    TokenEndpoint,
    /// Anywhere else: refused.
    Denied,
}

/// The outbound rules, shared by all calls.
pub struct PolicyConfig {
    api: Origin,
    token: Origin,
    token_path: String,
    authorization: Option<HeaderValue>,
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
            token: settings.token_url.clone(),
            token_path: settings.token_path.clone(),
            authorization,
        }
    }

    /// Classifies a request URI.
    pub fn destination(&self, uri: &Uri) -> Destination {
        let Some(origin) = Origin::of_request(uri) else {
            return Destination::Denied;
        };
        let is_token_path = || uri.path().trim_end_matches('/') == self.token_path;
        if origin == self.token && (origin != self.api || is_token_path()) {
            Destination::TokenEndpoint
        } else if origin == self.api {
            Destination::Api
        } else {
            Destination::Denied
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
}

impl OutboundPolicy {
    pub fn new(config: Arc<PolicyConfig>) -> OutboundPolicy {
        OutboundPolicy { config }
    }
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
        match self.config.destination(request.uri()) {
            Destination::Denied => Box::new(async { Err(HttpError::HttpRequestDenied) }),
            dest => {
                if dest == Destination::Api
                    && let Some(auth) = &self.config.authorization
                {
                    request.headers_mut().insert(AUTHORIZATION, auth.clone());
                }
                Box::new(async move {
                    let (res, io) =
                        wasmtime_wasi_http::default_send_request(request, options).await?;
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
mod tests {
    use super::*;

    fn settings(file: &str, env: &[(&str, &str)]) -> Settings {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::build(None, Some(file), |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
        .unwrap()
    }

    fn dest(p: &PolicyConfig, url: &str) -> Destination {
        p.destination(&url.parse().unwrap())
    }

    #[test]
    fn default_allowlist() {
        let p = PolicyConfig::new(&settings("", &[]));
        use Destination::*;
        assert_eq!(
            dest(&p, "https://api.bitbucket.org/2.0/repositories/x"),
            Api
        );
        assert_eq!(dest(&p, "https://API.bitbucket.org:443/2.0/user"), Api);
        assert_eq!(dest(&p, "https://api.bitbucket.org./2.0/user"), Api);
        assert_eq!(
            dest(&p, "https://bitbucket.org/site/oauth2/access_token"),
            TokenEndpoint
        );
        assert_eq!(dest(&p, "http://api.bitbucket.org/2.0/user"), Denied);
        assert_eq!(dest(&p, "https://api.bitbucket.org:8443/2.0/user"), Denied);
        assert_eq!(dest(&p, "https://evil.example/2.0"), Denied);
        assert_eq!(dest(&p, "https://api.bitbucket.org.evil.example/"), Denied);
        assert_eq!(dest(&p, "https://user@api.bitbucket.org/2.0"), Denied);
        assert_eq!(dest(&p, "/relative"), Denied);
    }

    #[test]
    fn configured_origins() {
        let p = PolicyConfig::new(&settings(
            "api_base_url = \"http://127.0.0.1:8089/2.0\"\n[credentials]\ntoken_url = \"http://127.0.0.1:8089/oauth/token\"\n",
            &[],
        ));
        use Destination::*;
        assert_eq!(dest(&p, "http://127.0.0.1:8089/2.0/repositories"), Api);
        assert_eq!(dest(&p, "http://127.0.0.1:8089/oauth/token"), TokenEndpoint);
        assert_eq!(dest(&p, "http://127.0.0.1:8090/2.0/repositories"), Denied);
        assert_eq!(dest(&p, "https://api.bitbucket.org/2.0/user"), Denied);
        assert_eq!(dest(&p, "http://localhost:8089/2.0/user"), Denied);
    }

    #[test]
    fn authorization_forbidden_only_when_injecting() {
        let mut plain = OutboundPolicy::new(Arc::new(PolicyConfig::new(&settings("", &[]))));
        assert!(!plain.is_forbidden_header(&AUTHORIZATION));
        assert!(plain.is_forbidden_header(&http::header::HOST));
        let mut inject = OutboundPolicy::new(Arc::new(PolicyConfig::new(&settings(
            "[credentials]\ninject = \"host\"\ntoken = \"t\"\n",
            &[],
        ))));
        assert!(inject.is_forbidden_header(&AUTHORIZATION));
        assert!((inject.forbidden_header_filter())(&AUTHORIZATION));
        assert!(!(plain.forbidden_header_filter())(&AUTHORIZATION));
    }

    #[test]
    fn origin_parsing() {
        let (o, path) = Origin::parse("https://api.bitbucket.org/2.0/").unwrap();
        assert_eq!(o.to_string(), "https://api.bitbucket.org:443");
        assert_eq!(path, "/2.0");
        assert!(Origin::parse("api.bitbucket.org/2.0").is_err());
        assert!(Origin::parse("ftp://x/").is_err());
        assert!(Origin::parse("https://u:p@x/").is_err());
    }
}
