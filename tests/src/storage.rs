//! The long-term storage host of completed step logs (REFERENCE-REVIEW §6c, §7.14): another
//! origin, reached through the API's 307, whose URLs authorise themselves with a signature in
//! the query. It answers `application/octet-stream` with `Accept-Ranges: bytes`, 206 with
//! `Content-Range` for `Range: bytes=a-b`, `bytes=a-` and `bytes=-N`, and 416 for a range it
//! cannot satisfy. An `Authorization` header is ignored, or in strict mode refused with 400
//! (as S3 refuses a second auth mechanism), to catch clients that forward credentials.

use crate::http::{ApiRequest, Reply};
use crate::model::Workspace;

/// The path prefix of stored logs.
pub const PREFIX: &str = "/pipeline-logs/";

fn signature(path: &str) -> String {
    format!("{:016x}", crate::ids::mix64(path, 0x51_6e_ed))
}

/// The signed URL of a step's stored log.
pub fn signed_url(origin: &str, ws: &str, slug: &str, build: u64, step_uuid: &str) -> String {
    let path = format!(
        "{PREFIX}{ws}/{slug}/{build}/{}",
        crate::http::encode_component(step_uuid)
    );
    format!(
        "{origin}{path}?X-Amz-Expires=300&X-Amz-Signature={}",
        signature(&path)
    )
}

/// Answers `log` (whole, or the part `range` asks for).
pub fn ranged(range: Option<&str>, log: &[u8]) -> Reply {
    let len = log.len();
    let octets = "application/octet-stream";
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Reply::bytes(200, octets, log.to_vec()).with_header("Accept-Ranges", "bytes");
    };
    let unsatisfiable = || {
        Reply::bytes(
            416,
            "text/plain",
            b"Requested Range Not Satisfiable".to_vec(),
        )
        .with_header("Content-Range", &format!("bytes */{len}"))
    };
    let (first, last) = match spec.split_once('-') {
        Some(("", n)) => match n.parse::<usize>() {
            Ok(n) if n > 0 && len > 0 => (len.saturating_sub(n), len - 1),
            _ => return unsatisfiable(),
        },
        Some((a, b)) => match (a.parse::<usize>(), b) {
            (Ok(a), "") if a < len => (a, len - 1),
            (Ok(a), b) => match b.parse::<usize>() {
                Ok(b) if a < len && a <= b => (a, b.min(len - 1)),
                _ => return unsatisfiable(),
            },
            _ => return unsatisfiable(),
        },
        None => return unsatisfiable(),
    };
    Reply::bytes(206, octets, log[first..=last].to_vec())
        .with_header("Accept-Ranges", "bytes")
        .with_header("Content-Range", &format!("bytes {first}-{last}/{len}"))
}

/// Answers a request to the storage host.
pub fn answer(ws: &Workspace, req: &ApiRequest, strict: bool) -> Reply {
    let denied = |status: u16, code: &str, message: &str| {
        Reply::bytes(
            status,
            "application/xml",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>").into_bytes(),
        )
    };
    if req.method != "GET" && req.method != "HEAD" {
        return denied(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed.",
        );
    }
    if strict && req.header("authorization").is_some() {
        return denied(
            400,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
        );
    }
    if req.query.get("X-Amz-Signature") != Some(signature(&req.raw_path).as_str()) {
        return denied(
            403,
            "AccessDenied",
            "Request has expired or the signature does not match.",
        );
    }
    let Some(rest) = req.path.strip_prefix(PREFIX) else {
        return denied(404, "NoSuchKey", "The specified key does not exist.");
    };
    let parts: Vec<&str> = rest.splitn(4, '/').collect();
    let log = match parts.as_slice() {
        [w, slug, build, step] if ws.is(w) => ws
            .repository(slug)
            .and_then(|r| {
                r.pipelines
                    .iter()
                    .find(|p| p.build_number.to_string() == *build)
            })
            .and_then(|p| p.steps.iter().find(|s| s.uuid == *step))
            .and_then(|s| s.log.clone()),
        _ => None,
    };
    match log {
        Some(log) => ranged(req.header("range"), &log),
        None => denied(404, "NoSuchKey", "The specified key does not exist."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_and_body(r: Reply) -> (u16, Vec<u8>, Option<String>) {
        let range = r
            .headers
            .iter()
            .find(|(k, _)| k == "Content-Range")
            .map(|(_, v)| v.clone());
        match r.body {
            crate::http::Body::Bytes(b) => (r.status, b, range),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ranges_are_answered_as_rfc_7233_says() {
        let log = b"0123456789";
        assert_eq!(status_and_body(ranged(None, log)).0, 200);
        assert_eq!(
            status_and_body(ranged(Some("bytes=-4"), log)),
            (206, b"6789".to_vec(), Some("bytes 6-9/10".into()))
        );
        assert_eq!(
            status_and_body(ranged(Some("bytes=-40"), log)).1,
            log.to_vec()
        );
        assert_eq!(
            status_and_body(ranged(Some("bytes=2-4"), log)).1,
            b"234".to_vec()
        );
        assert_eq!(
            status_and_body(ranged(Some("bytes=8-"), log)).1,
            b"89".to_vec()
        );
        for bad in ["bytes=10-", "bytes=5-2", "bytes=-0", "bytes=x-"] {
            assert_eq!(status_and_body(ranged(Some(bad), log)).0, 416, "{bad}");
        }
        assert_eq!(status_and_body(ranged(Some("bytes=-5"), b"")).0, 416);
    }
}
