//! The Model Context Protocol front end over stdio: [`serve`] reads newline-delimited
//! JSON-RPC 2.0 from stdin and writes responses to stdout, and [`RuntimeBackend`] runs the
//! tools in the wasmtime [`Runtime`].
//!
//! The protocol itself (dispatch, `initialize`, `tools/list`, `tools/call` result shaping,
//! error mapping) is the shared `mcp-protocol` crate, re-exported here; the Spin component
//! serves the same protocol over HTTP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::{AbortHandle, JoinSet};

pub use mcp_protocol::limits::{self, Frame, MessageSplitter};
pub use mcp_protocol::{
    BoxFuture, CallOutcome, PROTOCOL_VERSION, RpcError, SERVER_NAME, SUPPORTED_PROTOCOL_VERSIONS,
    Session, ToolBackend, ToolSpec, code, error_response, handle_message, handle_message_in,
    handle_text, list_tools, render, render_file, tool_result,
};

use crate::runtime::Runtime;
use crate::schema::Catalog;

/// How many tool calls one connection runs at the same time; more wait their turn, in
/// arrival order.
pub const MAX_CONCURRENT_CALLS: usize = 8;

/// The real backend: the WIT-derived catalogue and the wasmtime [`Runtime`] (a fresh store
/// per call).
pub struct RuntimeBackend {
    tools: Vec<ToolSpec>,
    runtime: Runtime,
}

impl RuntimeBackend {
    /// `catalog` must be the one `runtime` was built with.
    pub fn new(catalog: Arc<Catalog>, runtime: Runtime) -> RuntimeBackend {
        RuntimeBackend {
            tools: catalog.specs(),
            runtime,
        }
    }
}

impl ToolBackend for RuntimeBackend {
    fn tools(&self) -> &[ToolSpec] {
        &self.tools
    }

    fn call_tool<'a>(
        &'a self,
        name: &'a str,
        args: &'a Value,
    ) -> BoxFuture<'a, Result<CallOutcome, String>> {
        Box::pin(async move {
            self.runtime
                .call(name, args)
                .await
                .map_err(|e| format!("{e:#}"))
        })
    }
}

/// The key under which an in-flight request is known, for cancellation.
fn request_key(id: &Value) -> String {
    id.to_string()
}

/// A request that has arrived and not been answered: a tool call waiting for a slot, or
/// one running (which cancellation aborts).
enum Pending {
    Queued,
    Running(AbortHandle),
}

type Registry = Arc<Mutex<HashMap<String, Pending>>>;

/// Serves MCP over a newline-delimited JSON stream until `input` ends; see [`serve_with`].
pub async fn serve<R, W>(input: R, output: W, backend: Arc<dyn ToolBackend>) -> std::io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    serve_with(input, output, backend, MAX_CONCURRENT_CALLS).await
}

/// Serves MCP over a newline-delimited JSON stream until `input` ends. Each message is at
/// most [`limits::MAX_MESSAGE_BYTES`] (a larger one is answered with an error and skipped
/// without being kept in memory). Tool calls run at most `max_calls` at once, and those
/// waiting for a free slot start in the order they arrived; other requests are answered
/// at once. Responses are written one per line as they complete. `notifications/cancelled`
/// stops the named request (queued or running), which then gets no response. After
/// `initialize` negotiated 2025-06-18 or later, a batch is an error.
pub async fn serve_with<R, W>(
    input: R,
    output: W,
    backend: Arc<dyn ToolBackend>,
    max_calls: usize,
) -> std::io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
    let writer = tokio::spawn(async move {
        let mut output = output;
        while let Some(msg) = rx.recv().await {
            let mut line = msg.to_string();
            line.push('\n');
            output.write_all(line.as_bytes()).await?;
            output.flush().await?;
        }
        std::io::Result::Ok(())
    });

    let session = Arc::new(Session::default());
    let registry: Registry = Arc::default();
    // Tool calls go through one queue, in arrival order, to the task that hands out slots.
    let (queue_tx, queue_rx) = mpsc::unbounded_channel::<(Value, Option<String>)>();
    let dispatcher = tokio::spawn(dispatch_calls(
        queue_rx,
        Arc::new(Semaphore::new(max_calls.max(1))),
        backend.clone(),
        session.clone(),
        registry.clone(),
        tx.clone(),
    ));
    let mut others = JoinSet::new();
    let mut splitter = MessageSplitter::default();
    let mut input = input;
    loop {
        let chunk = input.fill_buf().await?;
        let ended = chunk.is_empty();
        let frames: Vec<Frame> = if ended {
            splitter.finish().into_iter().collect()
        } else {
            let used = chunk.len();
            let frames = splitter.push(chunk);
            input.consume(used);
            frames
        };
        for frame in frames {
            let bytes = match frame {
                Frame::Message(bytes) => bytes,
                Frame::TooLarge => {
                    let _ = tx.send(limits::too_large_response());
                    continue;
                }
            };
            while others.try_join_next().is_some() {}
            let text = String::from_utf8_lossy(&bytes);
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let msg = match serde_json::from_str::<Value>(text) {
                Ok(msg) => msg,
                Err(e) => {
                    let _ = tx.send(error_response(
                        Value::Null,
                        code::PARSE_ERROR,
                        &format!("the message is not valid JSON: {e}"),
                    ));
                    continue;
                }
            };
            let method = msg.get("method").and_then(Value::as_str);
            if method == Some("notifications/cancelled") {
                if let Some(id) = msg.pointer("/params/requestId") {
                    let cancelled = registry.lock().unwrap().remove(&request_key(id));
                    if let Some(Pending::Running(handle)) = cancelled {
                        handle.abort();
                    }
                }
                continue;
            }
            let key = msg.get("id").filter(|_| method.is_some()).map(request_key);
            if method == Some("tools/call") {
                if let Some(k) = &key {
                    registry.lock().unwrap().insert(k.clone(), Pending::Queued);
                }
                let _ = queue_tx.send((msg, key));
                continue;
            }
            let (backend, tx, session) = (backend.clone(), tx.clone(), session.clone());
            others.spawn(async move {
                if let Some(response) = handle_message_in(&msg, &*backend, &session).await {
                    let _ = tx.send(response);
                }
            });
        }
        if ended {
            break;
        }
    }
    drop(queue_tx);
    let _ = dispatcher.await;
    while others.join_next().await.is_some() {}
    drop(tx);
    match writer.await {
        Ok(result) => result,
        Err(e) => Err(std::io::Error::other(e)),
    }
}

/// Starts queued tool calls in arrival order, each once a slot is free; a call cancelled
/// while it waited is dropped.
async fn dispatch_calls(
    mut queue: mpsc::UnboundedReceiver<(Value, Option<String>)>,
    permits: Arc<Semaphore>,
    backend: Arc<dyn ToolBackend>,
    session: Arc<Session>,
    registry: Registry,
    tx: mpsc::UnboundedSender<Value>,
) {
    let mut running = JoinSet::new();
    while let Some((msg, key)) = queue.recv().await {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        while running.try_join_next().is_some() {}
        // Holding the registry lock while spawning means the task cannot finish (and remove
        // its entry) before the entry says it runs.
        let mut entries = registry.lock().unwrap();
        if let Some(k) = &key
            && !entries.contains_key(k)
        {
            continue; // cancelled while it waited
        }
        let (backend, session, registry, tx, task_key) = (
            backend.clone(),
            session.clone(),
            registry.clone(),
            tx.clone(),
            key.clone(),
        );
        let handle = running.spawn(async move {
            let _permit = permit;
            let response = handle_message_in(&msg, &*backend, &session).await;
            if let Some(k) = &task_key {
                registry.lock().unwrap().remove(k);
            }
            if let Some(response) = response {
                let _ = tx.send(response);
            }
        });
        if let Some(k) = key {
            entries.insert(k, Pending::Running(handle));
        }
    }
    while running.join_next().await.is_some() {}
}

#[cfg(test)]
#[path = "mcp_tests.rs"]
mod tests;
