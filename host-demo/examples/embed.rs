//! The smallest Rust host for the connector: wasmtime 48 with WASI 0.2 and WASI HTTP, typed
//! bindings generated from `wit/connector.wit`, outbound HTTP limited to one host, and the
//! connection passed as `BITBUCKET_*` environment variables.
//!
//! ```sh
//! BITBUCKET_WORKSPACE=my-workspace BITBUCKET_TOKEN=... \
//!   cargo run --release -p host-demo --example embed -- target/wasm32-wasip2/component/bitbucket_connector.wasm
//! ```
//!
//! `host-demo` itself adds what a real host needs on top: a compiled-component cache,
//! `InstancePre` with a fresh store per call, time and memory limits, and JSON conversion.

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

wasmtime::component::bindgen!({
    path: "../wit",
    world: "connector",
    exports: { default: async },
});

/// Lets the component reach one host (the Bitbucket API's) and nothing else. (Allow
/// `bitbucket.org` too if you configure OAuth refresh: the token endpoint lives there.)
struct OnlyHost(String);

impl WasiHttpHooks for OnlyHost {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<wasmtime_wasi_http::WasiBody>,
                        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        drop(fut);
        if request.uri().host() != Some(self.0.as_str()) {
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        Box::new(async move {
            use http_body_util::BodyExt;
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
    hooks: OnlyHost,
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

#[tokio::main]
async fn main() -> wasmtime::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/wasm32-wasip2/component/bitbucket_connector.wasm".into());
    let engine = Engine::default();
    let component = Component::from_file(&engine, &path)?;
    let mut linker = Linker::<State>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;

    // The component reads its configuration from its environment: pass on BITBUCKET_* only.
    let env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("BITBUCKET_"))
        .collect();
    let base = env
        .iter()
        .find(|(k, _)| k == "BITBUCKET_API_BASE_URL")
        .map_or("https://api.bitbucket.org/2.0", |(_, v)| v.as_str());
    let api_host = base
        .parse::<http::Uri>()?
        .host()
        .unwrap_or_default()
        .to_string();
    let state = State {
        wasi: WasiCtx::builder().envs(&env).inherit_stderr().build(),
        http: WasiHttpCtx::new(),
        table: ResourceTable::new(),
        hooks: OnlyHost(api_host),
    };

    // One store per call: nothing survives between tool calls.
    let mut store = Store::new(&engine, state);
    let connector = Connector::instantiate_async(&mut store, &component, &linker).await?;
    let tools = connector.bitbucket_connector_tools();
    match tools
        .call_list_repositories(&mut store, None, Some(5), None)
        .await?
    {
        Ok(page) => {
            for repo in page.repositories {
                println!("{}\t{}", repo.full_name, repo.description);
            }
        }
        Err(e) => eprintln!("{:?}: {}", e.kind, e.message),
    }
    Ok(())
}
