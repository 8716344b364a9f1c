//! Following Bitbucket's `next` links. They are opaque (REFERENCE §2: follow them as given):
//! the position may be a page number, a token of any characters (`+`, `/`, `=` included) or a
//! parameter other than `page`. A cursor carries the position parameters of `next`, after
//! checking that the rest of the link is exactly the request the tool sent (same origin, same
//! endpoint path, the same parameters with the same values), so that following a cursor can
//! only ever continue that listing. A link that fails the check is an error, never a
//! silently shortened listing.

use crate::bindings::ToolError;
use crate::client::ApiGet;
use crate::config::BaseUrl;
use crate::encoding::query_pairs;
use crate::error::ToolResult;

/// Query parameters that only say where a page starts. Any other parameter of a `next` link
/// must be one the tool sent, with the value it sent.
pub const POSITION_PARAMS: [&str; 9] = [
    "page",
    "after",
    "before",
    "cursor",
    "ctx",
    "start",
    "offset",
    "page_token",
    "next_page_token",
];

/// At most this many position parameters, each at most this long, are carried.
const MAX_POSITION_PARAMS: usize = 4;
const MAX_POSITION_LEN: usize = 1024;

/// Whether `name` only positions a page.
pub fn is_position(name: &str) -> bool {
    POSITION_PARAMS.contains(&name)
}

/// The position parameters of `next`, checked to continue the listing `sent` asked for on
/// the API at `api`.
pub fn position_of(next: &str, sent: &ApiGet, api: &BaseUrl) -> ToolResult<Vec<(String, String)>> {
    let refuse = |why: &str| {
        ToolError::upstream(format!(
            "Bitbucket's link to the next page does not continue this listing ({why}), so the \
             connector does not follow it. The items above are complete; to see more, narrow \
             the request (a `path`, a `query`) or ask for a larger `limit`."
        ))
    };
    let scheme = if api.https { "https://" } else { "http://" };
    let rest = next
        .strip_prefix(scheme)
        .ok_or_else(|| refuse("another scheme"))?;
    let (authority, path_and_query) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if !authority.eq_ignore_ascii_case(&api.authority) {
        return Err(refuse("another host"));
    }
    let path = path_and_query.split(['?', '#']).next().unwrap_or("");
    if endpoint(path) != endpoint(&format!("{}{}", api.path, sent.path)) {
        return Err(refuse("another endpoint"));
    }
    let mut position = Vec::new();
    let mut expected: Vec<(String, String)> = sent
        .query
        .iter()
        .filter(|(name, _)| !is_position(name))
        .cloned()
        .collect();
    for (name, value) in query_pairs(path_and_query) {
        if is_position(&name) {
            if value.len() > MAX_POSITION_LEN || position.len() == MAX_POSITION_PARAMS {
                return Err(refuse("an oversized position"));
            }
            position.push((name, value));
        } else if let Some(at) = expected.iter().position(|p| p.0 == name && p.1 == value) {
            expected.swap_remove(at);
        } else {
            return Err(refuse(&format!(
                "parameter `{}` was not asked for",
                shorten(&name)
            )));
        }
    }
    if let Some((name, _)) = expected.first() {
        return Err(refuse(&format!("parameter `{name}` is missing")));
    }
    if position.is_empty() {
        return Err(refuse("no position"));
    }
    Ok(position)
}

/// The position parameters of a `next` link that the connector follows itself (several
/// pages read by one call, never handed out as a cursor): only those parameters are taken
/// from the link and sent with the connector's own request, so the link's origin and path
/// do not matter. An error when the link has no position the connector can carry.
pub fn positions_in(next: &str) -> ToolResult<Vec<(String, String)>> {
    let position: Vec<(String, String)> = query_pairs(next)
        .into_iter()
        .filter(|(name, _)| is_position(name))
        .collect();
    if check_position(&position) {
        Ok(position)
    } else {
        Err(ToolError::upstream(
            "Bitbucket's link to the next page carries no position the connector can follow; \
             narrow the request (a `path`) to see fewer items.",
        ))
    }
}

/// Checks position parameters that came back from an agent inside a cursor.
pub fn check_position(position: &[(String, String)]) -> bool {
    !position.is_empty()
        && position.len() <= MAX_POSITION_PARAMS
        && position
            .iter()
            .all(|(name, value)| is_position(name) && value.len() <= MAX_POSITION_LEN)
}

impl ApiGet {
    /// This request at `position`: its own position parameters replaced by those.
    pub fn at_position(mut self, position: &[(String, String)]) -> Self {
        self.query.retain(|(name, _)| !is_position(name));
        self.query.extend(position.iter().cloned());
        self
    }
}

/// A path, decoded, with the revision of `/src/{revision}/…` left out: Bitbucket may answer
/// a listing at `HEAD` or at a branch with `next` links at the resolved hash (its entries'
/// links are at the hash, REFERENCE §9). The cursor never carries the path, only positions.
fn endpoint(path: &str) -> Vec<String> {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let mut segments: Vec<String> = decoded.split('/').map(str::to_owned).collect();
    if let Some(at) = segments.iter().position(|s| s == "src")
        && at + 1 < segments.len()
    {
        segments[at + 1] = "{revision}".into();
    }
    segments
}

fn shorten(text: &str) -> String {
    crate::validate::shorten(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Endpoint;

    fn api() -> BaseUrl {
        BaseUrl::parse("https://api.bitbucket.org/2.0", "x").unwrap()
    }

    fn sent() -> ApiGet {
        ApiGet::new(
            "/repositories/acme/widgets/src/main/docs/",
            Endpoint::Repository("x".into()),
        )
        .param("pagelen", 10)
        .param("fields", "next,values.path")
    }

    const BASE: &str = "https://api.bitbucket.org/2.0/repositories/acme/widgets/src/main/docs/";

    #[test]
    fn tokens_of_any_charset_and_other_position_parameters_are_carried() {
        let next = format!("{BASE}?pagelen=10&fields=next%2Cvalues.path&page=a%2Bb%2Fc%3D%3D");
        assert_eq!(
            position_of(&next, &sent(), &api()).unwrap(),
            [("page".to_owned(), "a+b/c==".to_owned())]
        );
        let next = format!("{BASE}?fields=next%2Cvalues.path&after=Zm9v%2F%2B&pagelen=10");
        let position = position_of(&next, &sent(), &api()).unwrap();
        assert_eq!(position, [("after".to_owned(), "Zm9v/+".to_owned())]);
        let resumed = sent().param("page", "stale").at_position(&position);
        assert_eq!(
            resumed
                .query
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>(),
            ["pagelen", "fields", "after"]
        );
    }

    #[test]
    fn a_link_elsewhere_or_with_other_parameters_is_refused() {
        let fields = "pagelen=10&fields=next%2Cvalues.path";
        let at_hash = format!(
            "https://api.bitbucket.org/2.0/repositories/acme/widgets/src/0123abcd/docs/?{fields}&page=2"
        );
        assert!(position_of(&at_hash, &sent(), &api()).is_ok());
        for next in [
            format!(
                "https://evil.example/2.0/repositories/acme/widgets/src/main/docs/?{fields}&page=2"
            ),
            format!(
                "http://api.bitbucket.org/2.0/repositories/acme/widgets/src/main/docs/?{fields}&page=2"
            ),
            format!(
                "https://api.bitbucket.org/2.0/repositories/acme/other/src/main/docs/?{fields}&page=2"
            ),
            format!(
                "https://api.bitbucket.org/2.0/repositories/acme/widgets/src/main/other/?{fields}&page=2"
            ),
            format!("{BASE}?{fields}&page=2&path=secret"),
            format!("{BASE}?{fields}&page=2&include=other-branch"),
            format!("{BASE}?pagelen=10&page=2"),
            format!("{BASE}?pagelen=100&fields=next%2Cvalues.path&page=2"),
            format!("{BASE}?{fields}"),
        ] {
            let e = position_of(&next, &sent(), &api()).unwrap_err();
            assert!(
                e.message.contains("does not follow it"),
                "{next}: {}",
                e.message
            );
        }
    }

    #[test]
    fn cursors_may_carry_only_position_parameters() {
        assert!(check_position(&[("page".into(), "x+/=".into())]));
        assert!(!check_position(&[]));
        assert!(!check_position(&[("path".into(), "x".into())]));
        assert!(!check_position(&[("page".into(), "x".repeat(2000))]));
    }
}
