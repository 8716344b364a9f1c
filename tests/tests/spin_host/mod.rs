//! A test host for the Spin HTTP component: what `spin up` provides, reduced to what the
//! component uses. It serves `wasi:http/incoming-handler@0.2` with wasmtime 48 (a fresh store
//! per request, as Spin does), implements `fermyon:spin/variables@2.0.0` from a map (Spin's
//! `[variables]`), and lets outbound HTTP reach only one origin (Spin's
//! `allowed_outbound_hosts`). The Spin CLI itself cannot be installed here.

#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

wasmtime::component::bindgen!({
    path: "tests/spin_host/wit",
    world: "test-host",
});

use fermyon::spin::variables;

/// The built Spin component (`make build` builds it into its own target directory).
pub fn spin_component() -> PathBuf {
    let p = super::common::target_dir()
        .join("spin")
        .join("wasm32-wasip2")
        .join("component")
        .join("bitbucket_spin.wasm");
    assert!(
        p.exists(),
        "{} is missing: run `make build` (it builds the Spin component) before the end-to-end tests",
        p.display()
    );
    p
}

/// One compiled component for the whole test binary.
fn prepared() -> &'static (Engine, Component, ProxyPre<State>) {
    static PREPARED: OnceLock<(Engine, Component, ProxyPre<State>)> = OnceLock::new();
    PREPARED.get_or_init(|| {
        let engine = Engine::default();
        let component = Component::from_file(&engine, spin_component()).expect("compile");
        let mut linker: Linker<State> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).unwrap();
        variables::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s).unwrap();
        let pre = ProxyPre::new(
            linker
                .instantiate_pre(&component)
                .expect("the test host provides every import of the Spin component"),
        )
        .expect("the Spin component exports wasi:http/incoming-handler");
        (engine, component, pre)
    })
}

/// The compiled component (for inspecting its imports and exports).
pub fn component() -> (&'static Engine, &'static Component) {
    let (engine, component, _) = prepared();
    (engine, component)
}

/// Outbound HTTP allowed to one origin only; what was refused is recorded.
struct OneOrigin {
    authority: String,
    denied: Arc<Mutex<Vec<String>>>,
}

type SendResult = Result<
    (
        http::Response<wasmtime_wasi_http::WasiBody>,
        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ),
    wasmtime_wasi_http::Error,
>;

impl WasiHttpHooks for OneOrigin {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        drop(fut);
        let uri = request.uri();
        let allowed = uri.scheme_str() == Some("http")
            && uri.authority().map(|a| a.as_str()) == Some(self.authority.as_str());
        if !allowed {
            self.denied.lock().unwrap().push(uri.to_string());
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        Box::new(async move {
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: OneOrigin,
    variables: Arc<HashMap<String, String>>,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl variables::Host for State {
    /// As Spin: only variables the manifest declares exist.
    fn get(&mut self, name: String) -> Result<String, variables::Error> {
        self.variables
            .get(&name)
            .cloned()
            .ok_or(variables::Error::Undefined(name))
    }
}

/// What the component answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn content_type(&self) -> Option<&str> {
        self.headers.get("content-type")?.to_str().ok()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The server token [`SpinHost::new`] configures (as the `server_token` variable) and
/// [`SpinHost::send`] presents.
pub const SERVER_TOKEN: &str = "spin-test-server-token-41c7";

/// The Spin component as an HTTP server (requests go in directly, without a socket).
pub struct SpinHost {
    variables: Arc<HashMap<String, String>>,
    /// `host:port` that outbound requests may go to (over http).
    authority: String,
    denied: Arc<Mutex<Vec<String>>>,
    runtime: tokio::runtime::Runtime,
}

impl SpinHost {
    /// A host whose component may reach `origin` (`http://host:port`) only, with
    /// `server_token` = [`SERVER_TOKEN`] unless `variables` set it.
    pub fn new(origin: &str, variables: &[(&str, &str)]) -> SpinHost {
        let mut all = vec![("server_token", SERVER_TOKEN)];
        all.retain(|(k, _)| !variables.iter().any(|(name, _)| name == k));
        all.extend_from_slice(variables);
        SpinHost::new_exact(origin, &all)
    }

    /// A host with exactly these variables.
    pub fn new_exact(origin: &str, variables: &[(&str, &str)]) -> SpinHost {
        let authority = origin
            .strip_prefix("http://")
            .expect("an http origin")
            .trim_end_matches('/')
            .to_string();
        SpinHost {
            variables: Arc::new(
                variables
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            authority,
            denied: Arc::default(),
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
        }
    }

    /// Outbound requests the host refused.
    pub fn denied(&self) -> Vec<String> {
        self.denied.lock().unwrap().clone()
    }

    /// Sends one request with `headers`, plus `host: localhost:3000` and the server token
    /// unless `headers` name a `host` or an `authorization`.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let bearer = format!("Bearer {SERVER_TOKEN}");
        let mut all = headers.to_vec();
        for (name, value) in [
            ("host", "localhost:3000"),
            ("authorization", bearer.as_str()),
        ] {
            if !headers.iter().any(|(n, _)| *n == name) {
                all.push((name, value));
            }
        }
        self.send_raw(method, path, &all, body)
    }

    /// Sends one request with exactly `headers`.
    pub fn send_raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Answer {
        // wasi:http hands the guest the request's authority (from the URI, else `Host`) and
        // drops the `Host` header itself, as Spin's and jco's servers do.
        let authority = headers
            .iter()
            .find(|(n, _)| *n == "host")
            .map_or("localhost:3000", |(_, v)| *v);
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("http://{authority}{path}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(
                Full::new(Bytes::from(body.to_string()))
                    .map_err(|never| -> wasmtime_wasi_http::Error { match never {} }),
            )
            .unwrap();
        let (_, _, pre) = prepared();
        let state = State {
            wasi: WasiCtx::builder().inherit_stderr().build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: OneOrigin {
                authority: self.authority.clone(),
                denied: self.denied.clone(),
            },
            variables: self.variables.clone(),
        };
        let pre = pre.clone();
        self.runtime.block_on(async move {
            let mut store = Store::new(pre.engine(), state);
            let (sender, receiver) = tokio::sync::oneshot::channel();
            let req = store
                .data_mut()
                .http()
                .new_incoming_request(Scheme::Http, request)
                .unwrap();
            let out = store
                .data_mut()
                .http()
                .new_response_outparam(sender)
                .unwrap();
            let task = tokio::spawn(async move {
                let proxy = pre.instantiate_async(&mut store).await?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, req, out)
                    .await
            });
            let response = tokio::time::timeout(Duration::from_secs(60), receiver)
                .await
                .expect("the component answers within 60 s");
            let response = match response {
                Ok(Ok(response)) => response,
                Ok(Err(code)) => panic!("the component answered with an error code: {code:?}"),
                Err(_) => panic!(
                    "the component set no response: {:?}",
                    task.await.map(|r| r.map_err(|e| format!("{e:?}")))
                ),
            };
            let (parts, body) = response.into_parts();
            let body = body.collect().await.expect("the body").to_bytes().to_vec();
            task.await
                .expect("the handler task")
                .expect("the handler returns");
            Answer {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            }
        })
    }

    /// `POST /mcp` with a JSON-RPC message (and the headers an MCP client sends).
    pub fn mcp(&self, message: &serde_json::Value) -> Answer {
        self.send(
            "POST",
            "/mcp",
            &[
                ("content-type", "application/json"),
                ("accept", "application/json, text/event-stream"),
            ],
            &message.to_string(),
        )
    }

    /// `POST /tools/{tool}` with a JSON body.
    pub fn call(&self, tool: &str, args: &serde_json::Value) -> Answer {
        self.send(
            "POST",
            &format!("/tools/{tool}"),
            &[("content-type", "application/json")],
            &args.to_string(),
        )
    }
}
