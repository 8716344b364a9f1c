//! Authentication (REFERENCE §6): accepted bearer tokens and basic `user:password` pairs,
//! per-credential invisible repositories, expiry at run time, and the OAuth 2.0 token
//! endpoint's refresh grant.

use crate::http::{ApiRequest, Query, Reply};
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// Decodes standard base64 (with or without padding).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = s.trim().bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        let produced = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        for i in 0..produced {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// Encodes standard base64 with padding.
pub fn base64_encode(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Who is asking, once authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    /// No credential was sent (only with `allow_anonymous`): sees public repositories only.
    pub anonymous: bool,
    /// Repository slugs this credential cannot see (they answer 404 and are left out of
    /// listings).
    pub hidden: Vec<String>,
}

impl Viewer {
    /// Whether this viewer may see `repo`.
    pub fn can_see(&self, repo: &crate::model::Repository) -> bool {
        !(self.hidden.contains(&repo.slug) || self.anonymous && repo.is_private)
    }
}

/// The accepted credentials and the OAuth settings.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// Accepted bearer tokens.
    pub bearer_tokens: Vec<String>,
    /// Accepted basic credentials (username or e-mail, password or API token).
    pub basic: Vec<(String, String)>,
    /// Per credential (the bearer token, or the basic username): slugs it cannot see.
    pub hidden_repos: HashMap<String, Vec<String>>,
    /// Credentials (bearer token, or basic username) that are expired: they get 401.
    pub expired: HashSet<String>,
    /// OAuth consumers (client id, client secret) the token endpoint accepts.
    pub oauth_clients: Vec<(String, String)>,
    /// Refresh tokens the token endpoint accepts.
    pub refresh_tokens: Vec<String>,
    /// Whether requests without `Authorization` are served (public repositories only);
    /// otherwise they get 401.
    pub allow_anonymous: bool,
    /// Access tokens issued by the token endpoint so far.
    pub issued: Vec<String>,
}

/// The default bearer token.
pub const DEFAULT_TOKEN: &str = "test-token-valid";
/// A bearer token that cannot see `secret-infra`.
pub const LIMITED_TOKEN: &str = "test-token-limited";
/// The default basic username (an Atlassian account e-mail).
pub const DEFAULT_USERNAME: &str = "dev@example.com";
/// The default basic password (an API token).
pub const DEFAULT_API_TOKEN: &str = "test-api-token-valid";
/// The default OAuth client id.
pub const DEFAULT_CLIENT_ID: &str = "test-client-id";
/// The default OAuth client secret.
pub const DEFAULT_CLIENT_SECRET: &str = "test-client-secret";
/// The default refresh token.
pub const DEFAULT_REFRESH_TOKEN: &str = "test-refresh-token";

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            bearer_tokens: vec![DEFAULT_TOKEN.into(), LIMITED_TOKEN.into()],
            basic: vec![(DEFAULT_USERNAME.into(), DEFAULT_API_TOKEN.into())],
            hidden_repos: HashMap::from([(
                LIMITED_TOKEN.to_string(),
                vec![crate::sample::SECRET_INFRA.to_string()],
            )]),
            expired: HashSet::new(),
            oauth_clients: vec![(DEFAULT_CLIENT_ID.into(), DEFAULT_CLIENT_SECRET.into())],
            refresh_tokens: vec![DEFAULT_REFRESH_TOKEN.into()],
            allow_anonymous: false,
            issued: Vec::new(),
        }
    }
}

fn parse_basic(value: &str) -> Option<(String, String)> {
    let rest = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(base64_decode(rest)?).ok()?;
    let (u, p) = decoded.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

impl AuthConfig {
    /// Checks an `Authorization` header; `None` means 401.
    pub fn check(&self, authorization: Option<&str>) -> Option<Viewer> {
        let Some(value) = authorization else {
            return self.allow_anonymous.then(|| Viewer {
                anonymous: true,
                hidden: Vec::new(),
            });
        };
        let id = if let Some(token) = value.strip_prefix("Bearer ") {
            self.bearer_tokens
                .iter()
                .find(|t| *t == token.trim())?
                .clone()
        } else {
            let (user, password) = parse_basic(value)?;
            self.basic
                .iter()
                .find(|(u, p)| *u == user && *p == password)?;
            user
        };
        if self.expired.contains(&id) {
            return None;
        }
        Some(Viewer {
            anonymous: false,
            hidden: self.hidden_repos.get(&id).cloned().unwrap_or_default(),
        })
    }

    /// `POST /site/oauth2/access_token`: the refresh grant (Basic `client_id:secret`, form
    /// `grant_type=refresh_token&refresh_token=…`). A valid refresh token gets a new access
    /// token, which is then accepted.
    pub fn token_endpoint(&mut self, req: &ApiRequest) -> Reply {
        let oauth_error = |status: u16, error: &str, description: &str| {
            Reply::json(
                status,
                &json!({"error": error, "error_description": description}),
            )
        };
        if req.method != "POST" {
            return Reply::error(405, "Method not allowed");
        }
        let client = req.header("authorization").and_then(parse_basic);
        if !client.is_some_and(|c| self.oauth_clients.contains(&c)) {
            return oauth_error(401, "invalid_client", "Invalid OAuth client credentials");
        }
        let form = Query::parse(&String::from_utf8_lossy(&req.body));
        match form.get("grant_type") {
            Some("refresh_token") => {}
            Some(other) => {
                return oauth_error(
                    400,
                    "unsupported_grant_type",
                    &format!("Unsupported grant type: {other}"),
                );
            }
            None => return oauth_error(400, "invalid_request", "grant_type is required"),
        }
        let refresh = form.get("refresh_token").unwrap_or("");
        if !self.refresh_tokens.iter().any(|t| t == refresh) {
            return oauth_error(400, "invalid_grant", "Invalid refresh_token");
        }
        let token = format!("fake-access-token-{}", self.issued.len() + 1);
        self.issued.push(token.clone());
        self.bearer_tokens.push(token.clone());
        Reply::json(
            200,
            &json!({
                "scopes": "account repository pullrequest pipeline",
                "access_token": token,
                "expires_in": 7200,
                "token_type": "bearer",
                "state": "refresh_token",
                "refresh_token": refresh,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        for s in ["", "a", "ab", "abc", "dev@example.com:test-api-token-valid"] {
            assert_eq!(
                base64_decode(&base64_encode(s.as_bytes())).unwrap(),
                s.as_bytes()
            );
        }
        assert_eq!(base64_encode(b"user:pass"), "dXNlcjpwYXNz");
    }

    #[test]
    fn checks_credentials() {
        let mut a = AuthConfig::default();
        assert!(a.check(Some("Bearer test-token-valid")).is_some());
        assert!(a.check(Some("Bearer nope")).is_none());
        assert!(a.check(None).is_none());
        let basic = format!(
            "Basic {}",
            base64_encode(b"dev@example.com:test-api-token-valid")
        );
        assert!(a.check(Some(&basic)).is_some());
        let bad = format!("Basic {}", base64_encode(b"dev@example.com:wrong"));
        assert!(a.check(Some(&bad)).is_none());
        assert_eq!(
            a.check(Some("Bearer test-token-limited")).unwrap().hidden,
            vec!["secret-infra".to_string()]
        );
        a.expired.insert("test-token-valid".into());
        assert!(a.check(Some("Bearer test-token-valid")).is_none());
    }

    #[test]
    fn refresh_grant_issues_an_accepted_token() {
        let mut a = AuthConfig::default();
        let client = format!(
            "Basic {}",
            base64_encode(b"test-client-id:test-client-secret")
        );
        let req = ApiRequest::new(
            "POST",
            "/site/oauth2/access_token",
            vec![("Authorization".into(), client.clone())],
            b"grant_type=refresh_token&refresh_token=test-refresh-token".to_vec(),
        );
        let r = a.token_endpoint(&req);
        assert_eq!(r.status, 200);
        let token = a.issued[0].clone();
        assert!(a.check(Some(&format!("Bearer {token}"))).is_some());
        let bad = ApiRequest::new(
            "POST",
            "/site/oauth2/access_token",
            vec![("Authorization".into(), client)],
            b"grant_type=refresh_token&refresh_token=nope".to_vec(),
        );
        assert_eq!(a.token_endpoint(&bad).status, 400);
    }
}
