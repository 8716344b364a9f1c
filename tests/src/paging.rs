//! Pagination (REFERENCE §2): list-style pages (`page`, `size`, `pagelen`, `values`,
//! absolute `next`/`previous` links repeating every original query parameter) and the
//! iterator style of commits (opaque `page` token, only `pagelen`, `values`, `next`).

use crate::http::{ApiRequest, Reply};
use crate::json;
use serde_json::{Map, Value, json};

/// Pagination limits of one endpoint.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The page length when none is asked.
    pub default: usize,
    /// The largest accepted page length (more → 400 `Invalid pagelen`).
    pub max: usize,
    /// The smallest accepted page length (`0` is accepted by the core API and means the
    /// default; the Pipelines service wants at least 1).
    pub min: usize,
}

impl Limits {
    /// Limits with the core API's lower bound.
    pub const fn new(default: usize, max: usize) -> Limits {
        Limits {
            default,
            max,
            min: 0,
        }
    }
}

/// Reads `pagelen`: absent → default; not a number, negative, below `min` or above `max`
/// → 400 `Invalid pagelen`; `0` → default.
pub fn pagelen(req: &ApiRequest, limits: Limits) -> Result<usize, Reply> {
    match req.query.get("pagelen") {
        None => Ok(limits.default),
        Some(s) => match s.trim().parse::<i64>() {
            Ok(n) if n >= limits.min as i64 && n <= limits.max as i64 => {
                Ok(if n == 0 { limits.default } else { n as usize })
            }
            _ => Err(Reply::json(400, &json::error("Invalid pagelen"))),
        },
    }
}

/// Reads a numeric `page` (1-based): absent → 1; anything else invalid → 400 `Invalid page`.
pub fn page_number(req: &ApiRequest) -> Result<usize, Reply> {
    match req.query.get("page") {
        None => Ok(1),
        Some(s) => match s.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(Reply::json(400, &json::error("Invalid page"))),
        },
    }
}

/// The absolute URL of this request with `page` set to `page`.
pub fn link_with_page(origin: &str, req: &ApiRequest, page: &str) -> String {
    format!("{origin}{}?{}", req.raw_path, req.query.with_page(page))
}

/// A list-style page of `items`: `{size, page, pagelen, values, next?, previous?}`.
pub fn list_page(
    origin: &str,
    req: &ApiRequest,
    items: Vec<Value>,
    limits: Limits,
) -> Result<Value, Reply> {
    let len = pagelen(req, limits)?;
    let page = page_number(req)?;
    let size = items.len();
    let start = (page - 1).saturating_mul(len).min(size);
    let end = (start + len).min(size);
    let values: Vec<Value> = items.into_iter().skip(start).take(end - start).collect();
    let mut out = Map::new();
    out.insert("size".into(), json!(size));
    out.insert("page".into(), json!(page));
    out.insert("pagelen".into(), json!(len));
    out.insert("values".into(), Value::Array(values));
    if end < size {
        out.insert(
            "next".into(),
            json!(link_with_page(origin, req, &(page + 1).to_string())),
        );
    }
    if page > 1 {
        out.insert(
            "previous".into(),
            json!(link_with_page(origin, req, &(page - 1).to_string())),
        );
    }
    Ok(Value::Object(out))
}

const TOKEN_SALT: u64 = 0x5eed_cafe;

/// The opaque page token of the commit iterator for an offset.
pub fn commit_token(seed: &str, offset: usize) -> String {
    let check = crate::ids::mix64(seed, TOKEN_SALT ^ offset as u64);
    format!("{:010x}{:x}", check & 0xff_ffff_ffff, offset + 0x1000)
}

fn decode_commit_token(seed: &str, token: &str) -> Option<usize> {
    if token.len() < 11 || !token.is_ascii() {
        return None;
    }
    let offset = usize::from_str_radix(&token[10..], 16)
        .ok()?
        .checked_sub(0x1000)?;
    (commit_token(seed, offset) == token).then_some(offset)
}

/// An iterator-style page (commits): `{pagelen, values, next?}`; `seed` makes tokens
/// specific to the listing.
pub fn iterator_page(
    origin: &str,
    req: &ApiRequest,
    seed: &str,
    items: Vec<Value>,
    limits: Limits,
) -> Result<Value, Reply> {
    let len = pagelen(req, limits)?;
    let offset = match req.query.get("page") {
        None => 0,
        Some(t) => decode_commit_token(seed, t)
            .ok_or_else(|| Reply::json(400, &json::error("Invalid page")))?,
    };
    let total = items.len();
    let start = offset.min(total);
    let end = (start + len).min(total);
    let values: Vec<Value> = items.into_iter().skip(start).take(end - start).collect();
    let mut out = Map::new();
    out.insert("pagelen".into(), json!(len));
    out.insert("values".into(), Value::Array(values));
    if end < total {
        out.insert(
            "next".into(),
            json!(link_with_page(origin, req, &commit_token(seed, end))),
        );
    }
    Ok(Value::Object(out))
}

/// Whether an opaque listing also takes a numeric `page`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageNumbers {
    /// `page=N` is read as the N-th page (directory listings).
    Accepted,
    /// Only tokens: `page=N` is 400 `Invalid page`.
    Refused,
}

/// The opaque page token of a directory or branch listing for an offset. Bitbucket's are
/// unpredictable (REFERENCE §2); these hold `+`, `/` and `=`, which a client must
/// percent-encode and decode like any other character.
pub fn opaque_token(seed: &str, offset: usize) -> String {
    let check = crate::ids::mix64(seed, TOKEN_SALT ^ 0x0bad ^ offset as u64);
    format!("{:06x}+{offset:x}/Q=", check & 0xff_ffff)
}

fn decode_opaque_token(seed: &str, token: &str) -> Option<usize> {
    let (_, rest) = token.split_once('+')?;
    let (offset, _) = rest.split_once('/')?;
    let offset = usize::from_str_radix(offset, 16).ok()?;
    (opaque_token(seed, offset) == token).then_some(offset)
}

/// A page of a listing whose `next` links carry an opaque position (directories and branches,
/// REFERENCE §2): `{pagelen, size, values, next?}`. The position travels in `param`: `page`, as
/// Bitbucket does; whether Bitbucket ever uses another parameter is not established (the
/// reference only says to follow `next` as given), so tests can switch it to check that a
/// client follows whatever `next` carries. `numbers` says whether a numeric `page` is still
/// accepted (directories) or answered 400 `Invalid page` (branches, comments: REFERENCE-REVIEW
/// §5a, §3a).
pub fn opaque_page(
    origin: &str,
    req: &ApiRequest,
    seed: &str,
    items: Vec<Value>,
    limits: Limits,
    param: &str,
    numbers: PageNumbers,
) -> Result<Value, Reply> {
    let len = pagelen(req, limits)?;
    let offset = match req.query.get(param) {
        None => 0,
        Some(t) => match decode_opaque_token(seed, t) {
            Some(offset) => offset,
            None if numbers == PageNumbers::Accepted && param == "page" => {
                (page_number(req)? - 1).saturating_mul(len)
            }
            None => return Err(Reply::json(400, &json::error("Invalid page"))),
        },
    };
    let total = items.len();
    let start = offset.min(total);
    let end = (start + len).min(total);
    let values: Vec<Value> = items.into_iter().skip(start).take(end - start).collect();
    let mut out = Map::new();
    out.insert("pagelen".into(), json!(len));
    out.insert("size".into(), json!(total));
    out.insert("values".into(), Value::Array(values));
    if end < total {
        let query = req.query.with_position(param, &opaque_token(seed, end));
        out.insert(
            "next".into(),
            json!(format!("{origin}{}?{query}", req.raw_path)),
        );
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(url: &str) -> ApiRequest {
        ApiRequest::new("GET", url, vec![], vec![])
    }

    fn items(n: usize) -> Vec<Value> {
        (0..n).map(|i| json!({"i": i})).collect()
    }

    const L: Limits = Limits::new(10, 50);

    #[test]
    fn first_page_links_next_with_all_params() {
        let r = req(
            "/2.0/repositories/acme/widgets/pullrequests?state=OPEN&fields=%2Bvalues.reviewers&pagelen=20",
        );
        let p = list_page("http://h", &r, items(45), L).unwrap();
        assert_eq!(p["size"], 45);
        assert_eq!(p["page"], 1);
        assert_eq!(p["pagelen"], 20);
        assert_eq!(p["values"].as_array().unwrap().len(), 20);
        assert_eq!(
            p["next"],
            "http://h/2.0/repositories/acme/widgets/pullrequests?state=OPEN&fields=%2Bvalues.reviewers&pagelen=20&page=2"
        );
        assert!(p.get("previous").is_none());
    }

    #[test]
    fn last_page_has_no_next() {
        let r = req("/x?pagelen=20&page=3");
        let p = list_page("http://h", &r, items(45), L).unwrap();
        assert_eq!(p["values"].as_array().unwrap().len(), 5);
        assert_eq!(p["values"][0]["i"], 40);
        assert!(p.get("next").is_none());
        assert_eq!(p["previous"], "http://h/x?pagelen=20&page=2");
    }

    #[test]
    fn pagelen_limits() {
        assert!(list_page("", &req("/x?pagelen=51"), items(1), L).is_err());
        assert!(list_page("", &req("/x?pagelen=-1"), items(1), L).is_err());
        assert!(list_page("", &req("/x?pagelen=abc"), items(1), L).is_err());
        assert!(list_page("", &req("/x?pagelen=50"), items(1), L).is_ok());
        let p = list_page("", &req("/x?pagelen=0"), items(30), L).unwrap();
        assert_eq!(p["pagelen"], 10);
        assert!(list_page("", &req("/x?page=0"), items(1), L).is_err());
        let e = list_page("", &req("/x?pagelen=100"), items(1), L).unwrap_err();
        assert_eq!(e.status, 400);
    }

    #[test]
    fn opaque_tokens_hold_url_characters_and_any_position_parameter() {
        let l = Limits::new(10, 100);
        for param in ["page", "after"] {
            let r = req("/src/main/docs/?pagelen=10&fields=next%2Cvalues.path");
            let p = opaque_page(
                "http://h",
                &r,
                "seed",
                items(25),
                l,
                param,
                PageNumbers::Accepted,
            )
            .unwrap();
            let next = p["next"].as_str().unwrap();
            assert!(
                next.starts_with("http://h/src/main/docs/?pagelen=10&fields=next%2Cvalues.path&"),
                "{next}"
            );
            assert!(
                next.contains(&format!("&{param}="))
                    && next.contains("%2B")
                    && next.contains("%2F")
                    && next.contains("%3D"),
                "{next}"
            );
            let p2 = opaque_page(
                "http://h",
                &req(&next["http://h".len()..]),
                "seed",
                items(25),
                l,
                param,
                PageNumbers::Accepted,
            )
            .unwrap();
            assert_eq!(p2["values"][0]["i"], 10);
            let last = p2["next"].as_str().unwrap();
            let p3 = opaque_page(
                "http://h",
                &req(&last["http://h".len()..]),
                "seed",
                items(25),
                l,
                param,
                PageNumbers::Accepted,
            )
            .unwrap();
            assert_eq!(p3["values"].as_array().unwrap().len(), 5);
            assert!(p3.get("next").is_none());
        }
        // A token with its `+` decoded as a space (sent unencoded) is not a token.
        let r = req("/x?page=000000 1/Q%3D");
        assert!(
            opaque_page(
                "http://h",
                &r,
                "seed",
                items(25),
                l,
                "page",
                PageNumbers::Accepted
            )
            .is_err()
        );
    }

    #[test]
    fn a_numeric_page_is_a_page_only_where_numbers_are_accepted() {
        let l = Limits::new(10, 100);
        let r = req("/b?page=2");
        let p = opaque_page(
            "http://h",
            &r,
            "seed",
            items(25),
            l,
            "page",
            PageNumbers::Accepted,
        )
        .unwrap();
        assert_eq!(p["values"][0]["i"], 10);
        let refused = opaque_page(
            "http://h",
            &r,
            "seed",
            items(25),
            l,
            "page",
            PageNumbers::Refused,
        )
        .unwrap_err();
        assert_eq!(refused.status, 400);
    }

    #[test]
    fn iterator_tokens_are_opaque_and_checked() {
        let l = Limits::new(30, 100);
        let r = req("/c?include=feature%2Flogin");
        let p = iterator_page("http://h", &r, "seed", items(70), l).unwrap();
        assert!(p.get("size").is_none() && p.get("page").is_none());
        let next = p["next"].as_str().unwrap();
        assert!(next.starts_with("http://h/c?include=feature%2Flogin&page="));
        let token = next.rsplit("page=").next().unwrap();
        assert!(token.parse::<u64>().is_err() || token.len() > 5);
        let r2 = req(&next["http://h".len()..]);
        let p2 = iterator_page("http://h", &r2, "seed", items(70), l).unwrap();
        assert_eq!(p2["values"][0]["i"], 30);
        assert!(iterator_page("http://h", &req("/c?page=2"), "seed", items(70), l).is_err());
        assert!(iterator_page("http://h", &r2, "other-seed", items(70), l).is_err());
    }
}
