//! Failure switches: rules that replace the answer to requests whose raw URL contains a
//! substring, for the next N matching requests or for all of them.

use crate::http::{Body, Reply};
use crate::json;
use std::time::Duration;

/// A way to fail a request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// 401 `Token is invalid, expired, or not supported for this endpoint.`
    Unauthorized,
    /// 403 `{"type": "error", "error": {"message": "Forbidden"}}`.
    Forbidden,
    /// 403 missing scopes, with an object `detail` `{required, granted}`.
    ForbiddenScope {
        /// The scopes the endpoint needs.
        required: Vec<String>,
        /// The scopes the credential has.
        granted: Vec<String>,
    },
    /// 404 `Resource not found` (no API hosted at this URL).
    NotFound,
    /// 429 text/plain `Rate limit for this resource has been exceeded`, no `Retry-After`.
    RateLimited,
    /// 500 `{"type": "error", "error": {"message": "Internal Server Error"}}`.
    ServerError,
    /// 502 with an HTML body, as a proxy answers.
    BadGateway,
    /// 200 with a JSON content type and a body that is not JSON.
    GarbageJson,
    /// 200 with an HTML page instead of JSON.
    Html,
    /// Accept the request and never answer (hold it for this long, or until the server
    /// stops).
    Stall(Duration),
    /// 200 with a JSON content type and a body of this many bytes, generated while sent.
    Huge(u64),
    /// 302 to this absolute URL (e.g. on another host).
    Redirect(String),
    /// Any status with this content type and body.
    Custom {
        /// The status.
        status: u16,
        /// The content type.
        content_type: String,
        /// The body.
        body: String,
    },
}

impl Fault {
    /// The 403 scope error for one missing scope, granted the usual others.
    pub fn missing_scope(scope: &str) -> Fault {
        Fault::ForbiddenScope {
            required: vec![scope.into()],
            granted: ["account", "repository"]
                .iter()
                .filter(|s| **s != scope)
                .map(|s| s.to_string())
                .collect(),
        }
    }

    /// The response this fault gives.
    pub fn reply(&self) -> Reply {
        match self {
            Fault::Unauthorized => Reply::error(401, json::TOKEN_INVALID),
            Fault::Forbidden => Reply::error(403, "Forbidden"),
            Fault::ForbiddenScope { required, granted } => {
                Reply::json(403, &json::scope_error(required, granted))
            }
            Fault::NotFound => Reply::json(404, &json::no_api()),
            Fault::RateLimited => Reply::bytes(429, "text/plain", json::RATE_LIMITED.as_bytes().to_vec()),
            Fault::ServerError => Reply::error(500, "Internal Server Error"),
            Fault::BadGateway => Reply::bytes(
                502,
                "text/html",
                b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n".to_vec(),
            ),
            Fault::GarbageJson => Reply::bytes(
                200,
                crate::http::JSON_TYPE,
                b"{\"values\": [{\"type\": \"repository\", \"slug\": ".to_vec(),
            ),
            Fault::Html => Reply::bytes(
                200,
                "text/html; charset=utf-8",
                b"<!DOCTYPE html><html><head><title>Log in - Bitbucket</title></head><body><p>Please log in.</p></body></html>\n".to_vec(),
            ),
            Fault::Stall(d) => Reply {
                status: 200,
                headers: vec![],
                body: Body::Stall(*d),
            },
            Fault::Huge(n) => Reply {
                status: 200,
                headers: vec![("Content-Type".into(), crate::http::JSON_TYPE.into())],
                body: Body::Generated(*n),
            },
            Fault::Redirect(url) => Reply::redirect(302, url),
            Fault::Custom { status, content_type, body } => {
                Reply::bytes(*status, content_type, body.as_bytes().to_vec())
            }
        }
    }
}

/// A fault rule.
#[derive(Clone, Debug)]
pub struct FaultRule {
    /// The rule matches requests whose raw URL (path and query) contains this.
    pub path_contains: String,
    /// What to do.
    pub fault: Fault,
    /// How many more requests it applies to; `None` = always.
    pub remaining: Option<u32>,
}

/// The set of active rules; the first matching rule wins.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<FaultRule>,
}

impl Faults {
    /// Adds a rule.
    pub fn add(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    /// Removes every rule.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The fault for `url`, if a rule matches (consuming one use of a counted rule).
    pub fn take(&mut self, url: &str) -> Option<Fault> {
        let i = self
            .rules
            .iter()
            .position(|r| url.contains(&r.path_contains))?;
        let rule = &mut self.rules[i];
        let fault = rule.fault.clone();
        if let Some(n) = rule.remaining.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.rules.remove(i);
            }
        }
        Some(fault)
    }
}

/// Whether code search works for the workspace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SearchMode {
    /// Search answers.
    #[default]
    Enabled,
    /// 404 `Search is not enabled for the requested workspace, …`.
    Disabled,
    /// 403 `Forbidden` (plan or token type not accepted).
    Forbidden,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_rules_expire() {
        let mut f = Faults::default();
        f.add(FaultRule {
            path_contains: "/pullrequests".into(),
            fault: Fault::ServerError,
            remaining: Some(2),
        });
        assert!(f.take("/2.0/repositories/acme/widgets/commits").is_none());
        assert!(
            f.take("/2.0/repositories/acme/widgets/pullrequests")
                .is_some()
        );
        assert!(
            f.take("/2.0/repositories/acme/widgets/pullrequests?x")
                .is_some()
        );
        assert!(
            f.take("/2.0/repositories/acme/widgets/pullrequests")
                .is_none()
        );
    }

    #[test]
    fn rate_limit_is_plain_text_without_retry_after() {
        let r = Fault::RateLimited.reply();
        assert_eq!(r.status, 429);
        assert!(
            r.headers
                .iter()
                .any(|(k, v)| k == "Content-Type" && v == "text/plain")
        );
        assert!(
            !r.headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
        );
        match r.body {
            Body::Bytes(b) => assert_eq!(b.len(), 46),
            _ => panic!(),
        }
    }
}
