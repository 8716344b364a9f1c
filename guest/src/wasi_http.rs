//! `Transport` over WASI 0.2 `wasi:http/outgoing-handler`: every request of a batch is started
//! before any is awaited, and bodies are streamed up to their read limit.

use crate::transport::{
    HttpRequest, HttpResponse, LineWindowTracker, Method, Transport, TransportError,
};
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, FutureIncomingResponse, Headers, IncomingResponse, Method as WasiMethod,
    OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::streams::StreamError;

/// Sends requests with the host's wasi:http implementation.
pub struct WasiHttp {
    /// Connect, first-byte and between-bytes timeout, in nanoseconds.
    pub timeout_ns: u64,
}

impl Transport for WasiHttp {
    fn send_all(&self, requests: &[HttpRequest]) -> Vec<Result<HttpResponse, TransportError>> {
        let mut outcomes: Vec<Option<Result<HttpResponse, TransportError>>> =
            vec![None; requests.len()];
        let mut pending: Vec<(usize, FutureIncomingResponse)> = Vec::new();
        for (index, request) in requests.iter().enumerate() {
            match self.start(request) {
                Ok(future) => pending.push((index, future)),
                Err(error) => outcomes[index] = Some(Err(error)),
            }
        }
        // Wait on all pending responses together; read each body as soon as its headers arrive.
        while !pending.is_empty() {
            let pollables: Vec<_> = pending.iter().map(|(_, f)| f.subscribe()).collect();
            let refs: Vec<_> = pollables.iter().collect();
            let ready = wasi::io::poll::poll(&refs);
            drop(pollables);
            let mut still_pending = Vec::new();
            for (position, (index, future)) in pending.into_iter().enumerate() {
                if !ready.contains(&(position as u32)) {
                    still_pending.push((index, future));
                    continue;
                }
                let outcome = match future.get() {
                    Some(Ok(Ok(response))) => read_response(response, &requests[index]),
                    Some(Ok(Err(code))) => Err(map_error(&code)),
                    Some(Err(())) | None => {
                        Err(TransportError::Failed("the response was lost".into()))
                    }
                };
                outcomes[index] = Some(outcome);
            }
            pending = still_pending;
        }
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(TransportError::Failed("no outcome".into()))))
            .collect()
    }

    fn pause(&self, millis: u64) {
        Self::sleep(millis);
    }

    fn entropy(&self) -> u64 {
        wasi::clocks::monotonic_clock::now()
    }
}

impl WasiHttp {
    /// Waits `millis` on the host's monotonic clock.
    fn sleep(millis: u64) {
        wasi::clocks::monotonic_clock::subscribe_duration(millis.saturating_mul(1_000_000)).block();
    }

    fn start(&self, request: &HttpRequest) -> Result<FutureIncomingResponse, TransportError> {
        let invalid = |what: &str| TransportError::Failed(format!("invalid request {what}"));
        let mut entries: Vec<(String, Vec<u8>)> = request
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), value.as_bytes().to_vec()))
            .collect();
        // A body of known size goes with `Content-Length`: without it the host sends it
        // chunked, which some token endpoints and proxies refuse.
        if let Some(bytes) = &request.body
            && !request.headers.iter().any(|(n, _)| n == "content-length")
        {
            entries.push((
                "content-length".into(),
                bytes.len().to_string().into_bytes(),
            ));
        }
        let headers = Headers::from_list(&entries).map_err(|_| invalid("headers"))?;
        let outgoing = OutgoingRequest::new(headers);
        outgoing
            .set_method(match request.method {
                Method::Get => &WasiMethod::Get,
                Method::Post => &WasiMethod::Post,
            })
            .map_err(|_| invalid("method"))?;
        outgoing
            .set_scheme(Some(if request.https {
                &Scheme::Https
            } else {
                &Scheme::Http
            }))
            .map_err(|_| invalid("scheme"))?;
        outgoing
            .set_authority(Some(&request.authority))
            .map_err(|_| invalid("authority"))?;
        outgoing
            .set_path_with_query(Some(&request.path_and_query))
            .map_err(|_| invalid("path"))?;
        let body = outgoing.body().map_err(|_| invalid("body"))?;

        let options = RequestOptions::new();
        // A host may not support a timeout; then its own defaults apply.
        let _ = options.set_connect_timeout(Some(self.timeout_ns));
        let _ = options.set_first_byte_timeout(Some(self.timeout_ns));
        let _ = options.set_between_bytes_timeout(Some(self.timeout_ns));

        let future =
            outgoing_handler::handle(outgoing, Some(options)).map_err(|c| map_error(&c))?;
        if let Some(bytes) = &request.body {
            let stream = body.write().map_err(|_| invalid("body stream"))?;
            for chunk in bytes.chunks(4096) {
                stream.blocking_write_and_flush(chunk).map_err(|_| {
                    TransportError::Failed("could not send the request body".into())
                })?;
            }
            drop(stream);
        }
        OutgoingBody::finish(body, None).map_err(|c| map_error(&c))?;
        Ok(future)
    }
}

fn read_response(
    response: IncomingResponse,
    request: &HttpRequest,
) -> Result<HttpResponse, TransportError> {
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| {
            (
                name.to_ascii_lowercase(),
                String::from_utf8_lossy(&value).into_owned(),
            )
        })
        .collect();
    let mut out = HttpResponse {
        status: response.status(),
        headers,
        body: Vec::new(),
        complete: true,
    };
    let incoming = response
        .consume()
        .map_err(|_| TransportError::Failed("no response body".into()))?;
    let stream = incoming
        .stream()
        .map_err(|_| TransportError::Failed("no response body".into()))?;
    let mut tracker = request.read.lines.map(LineWindowTracker::new);
    loop {
        let room = request.read.max_bytes.saturating_sub(out.body.len());
        if room == 0 {
            out.complete = false;
            break;
        }
        match stream.blocking_read(room.min(64 * 1024) as u64) {
            Ok(chunk) => {
                let done = tracker.as_mut().is_some_and(|t| t.feed(&chunk));
                out.body.extend_from_slice(&chunk);
                if done {
                    out.complete = false;
                    break;
                }
            }
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(error)) => {
                let text = error.to_debug_string();
                return Err(if text.to_ascii_lowercase().contains("timeout") {
                    TransportError::Timeout
                } else {
                    TransportError::Failed("the response body was cut off".into())
                });
            }
        }
    }
    // Dropping the stream and body without finishing abandons the rest of a partly read body.
    drop(stream);
    drop(incoming);
    Ok(out)
}

fn map_error(code: &ErrorCode) -> TransportError {
    match code {
        ErrorCode::HttpRequestDenied => TransportError::Denied,
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout
        | ErrorCode::DnsTimeout => TransportError::Timeout,
        ErrorCode::DnsError(_) | ErrorCode::DestinationNotFound => {
            TransportError::Failed("the API host name could not be resolved".into())
        }
        ErrorCode::ConnectionRefused | ErrorCode::DestinationUnavailable => {
            TransportError::Failed("the connection was refused".into())
        }
        ErrorCode::TlsProtocolError
        | ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_) => {
            TransportError::Failed("the TLS handshake failed".into())
        }
        other => {
            TransportError::Failed(format!("HTTP error {other:?}").chars().take(200).collect())
        }
    }
}
