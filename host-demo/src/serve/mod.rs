//! `host-demo serve`: the tools over MCP Streamable HTTP (and the JSON API) on hyper.
//!
//! The routes and the endpoint's rules (token, `Host`/`Origin`, body cap) are
//! `mcp_protocol::http`, the code the Spin component runs too; this module is the transport:
//! accepting connections (at most [`options::MAX_CONNECTIONS`]), reading each request within
//! [`options::READ_TIMEOUT`], a deadline per request, at most N tool calls at once across
//! all connections ([`slots::Slots`]) within a shared memory budget, and a graceful
//! shutdown on SIGTERM or SIGINT: stop accepting, let requests in flight finish within
//! [`options::SHUTDOWN_GRACE`], then cut what is left.
//!
//! It is stateless: no session ids, nothing kept between requests, so any replica behind a
//! load balancer can answer any request.

pub mod options;
pub mod slots;
mod timer;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use mcp_protocol::http::{AccessPolicy, Answer, MAX_BODY_BYTES, RequestHead};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use wasmtime_wasi_http::io::TokioIo;

use crate::mcp::ToolBackend;
use options::{MAX_CONNECTIONS, READ_TIMEOUT, SHUTDOWN_GRACE};

/// What every request handler shares.
struct Shared {
    policy: AccessPolicy,
    backend: Arc<dyn ToolBackend>,
    /// The longest one request may take, queueing and the call included.
    request_deadline: Duration,
}

/// A bound, not yet serving, endpoint.
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
}

impl Server {
    /// Binds `listen`. `request_deadline` bounds each request (queue wait and call).
    pub async fn bind(
        listen: SocketAddr,
        policy: AccessPolicy,
        backend: Arc<dyn ToolBackend>,
        request_deadline: Duration,
    ) -> std::io::Result<Server> {
        let listener = TcpListener::bind(listen).await?;
        Ok(Server {
            listener,
            shared: Arc::new(Shared {
                policy,
                backend,
                request_deadline,
            }),
        })
    }

    /// The address actually bound (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `stop` resolves, then shuts down gracefully.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        let (closing_tx, closing_rx) = watch::channel(false);
        let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let mut tasks = JoinSet::new();
        let mut stop = std::pin::pin!(stop);
        loop {
            let permit = tokio::select! {
                _ = &mut stop => break,
                permit = connections.clone().acquire_owned() => permit.expect("never closed"),
            };
            let accepted = tokio::select! {
                _ = &mut stop => break,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
                accepted = self.listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait a moment, keep serving.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let shared = self.shared.clone();
            let mut closing = closing_rx.clone();
            tasks.spawn(async move {
                let _permit = permit;
                let service = hyper::service::service_fn(move |req| {
                    let shared = shared.clone();
                    async move { Ok::<_, Infallible>(handle(&shared, peer, req).await) }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(timer::TokioTimer)
                    .header_read_timeout(READ_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), service);
                let mut connection = std::pin::pin!(connection);
                let closing = async move {
                    let _ = closing.wait_for(|closing| *closing).await;
                };
                tokio::select! {
                    _ = connection.as_mut() => return,
                    _ = closing => {}
                }
                // Finish the request in flight (if any), then close.
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            });
        }
        // Stop accepting, let what is in flight finish, then cut the rest.
        drop(self.listener);
        let _ = closing_tx.send(true);
        let finished = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            eprintln!(
                "host-demo: {} connection(s) still busy after {} s; closing them",
                tasks.len(),
                SHUTDOWN_GRACE.as_secs()
            );
            tasks.abort_all();
        }
    }
}

fn to_response(answer: Answer) -> Response<Full<Bytes>> {
    let mut response = Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        response = response.header(*name, value.as_str());
    }
    response
        .body(Full::new(Bytes::from(answer.body)))
        .expect("the status and headers are valid")
}

/// Reads a body of at most [`MAX_BODY_BYTES`] (a chunked body has no `Content-Length` for
/// the policy to check up front).
async fn read_body(mut body: Incoming) -> Result<Vec<u8>, Answer> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| {
            Answer::error(400, "invalid_input", "the request body could not be read")
        })?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > MAX_BODY_BYTES {
                return Err(Answer::too_large());
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

async fn handle(
    shared: &Shared,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let header = |name: &str| -> Option<String> {
        let value = parts.headers.get(name)?.to_str().ok()?;
        Some(value.to_string())
    };
    let head = RequestHead {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        header: &header,
        peer_is_loopback: Some(peer.ip().is_loopback()),
    };
    if let Err(refused) = shared.policy.admit(&head) {
        return to_response(refused);
    }
    let body = match tokio::time::timeout(READ_TIMEOUT, read_body(body)).await {
        Ok(Ok(body)) => body,
        Ok(Err(refused)) => return to_response(refused),
        Err(_) => {
            return to_response(Answer::error(
                408,
                "invalid_input",
                "the request body did not arrive in time",
            ));
        }
    };
    let routed = mcp_protocol::http::route(&head, &body, &*shared.backend);
    match tokio::time::timeout(shared.request_deadline, routed).await {
        Ok(answer) => to_response(answer),
        Err(_) => to_response(Answer::error(
            504,
            "timeout",
            &format!(
                "the request did not finish within {} s and was stopped; try again",
                shared.request_deadline.as_secs()
            ),
        )),
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
