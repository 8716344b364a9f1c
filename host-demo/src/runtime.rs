//! The wasmtime side: engine, component (with an on-disk precompiled cache), linker,
//! `InstancePre`, and one fresh `Store` per call.
//!
//! A [`Runtime`] is built once and serves any number of calls, concurrently if wanted, so a
//! long-running front end (MCP, HTTP) can reuse it.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;
use sha2::{Digest, Sha256};
use wasmtime::component::{
    Component, ComponentExportIndex, InstancePre, Linker, ResourceTable, Val,
};
use wasmtime::{Config, Engine, Store, StoreLimitsBuilder, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::budget::{BUDGET_EXHAUSTED, CallLimits, MemoryBudget};
use crate::cache::{self, Lookup};
use crate::config::Settings;
use crate::outbound::{OutboundPolicy, PolicyConfig};
use crate::schema::Catalog;
use crate::values;

/// The component's file name as `make build` produces it.
pub const COMPONENT_FILE: &str = "bitbucket_connector.wasm";
/// The most linear memory one call may use.
pub const MEMORY_LIMIT_BYTES: usize = 256 << 20;
/// How much longer than the configured Bitbucket timeout a call may run before it is stopped.
pub const DEADLINE_GRACE: Duration = Duration::from_secs(30);
/// The epoch ticker's period.
const TICK: Duration = Duration::from_millis(100);
/// Part of the cache key: precompiled code is only valid for the exact wasmtime build.
const WASMTIME_VERSION: &str = "wasmtime-48.0.8";

pub use mcp_protocol::CallOutcome;

/// Turns the component's return value into an outcome.
fn outcome_from_result(val: &Val) -> CallOutcome {
    match val {
        Val::Result(Err(err)) => {
            let err = err.as_deref().map_or(Value::Null, values::val_to_json);
            let kind = err
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("upstream")
                .to_string();
            let message = err
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| err.to_string());
            CallOutcome::ToolError { kind, message }
        }
        other => CallOutcome::Success(values::val_to_json(other)),
    }
}

/// What the store of one call holds.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: OutboundPolicy,
    limits: CallLimits,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// Increments the engine's epoch until dropped.
struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    fn start(engine: Engine) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })
            .expect("starting the epoch ticker thread");
        Ticker { stop }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A loaded component, ready to serve calls.
pub struct Runtime {
    engine: Engine,
    pre: InstancePre<HostState>,
    catalog: Arc<Catalog>,
    funcs: HashMap<String, ComponentExportIndex>,
    settings: Arc<Settings>,
    policy: Arc<PolicyConfig>,
    deadline: Duration,
    memory_budget: Option<Arc<MemoryBudget>>,
    _ticker: Ticker,
}

/// The engine configuration every component is compiled for.
pub fn new_engine() -> Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    Engine::new(&config).map_err(|e| anyhow!("creating the wasmtime engine: {e}"))
}

impl Runtime {
    /// Loads the component at `path` and prepares it for calls. Errors here mean the host
    /// cannot run (exit 2).
    pub fn new(catalog: Arc<Catalog>, settings: Settings, path: &Path) -> Result<Runtime> {
        let engine = new_engine()?;
        let component = load_component(&engine, path)?;

        let mut linker: Linker<HostState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| anyhow!("linking WASI: {e}"))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| anyhow!("linking WASI HTTP: {e}"))?;
        let pre = linker.instantiate_pre(&component).map_err(|e| {
            anyhow!(
                "the component {} needs imports this host does not provide: {e:#}",
                path.display()
            )
        })?;

        let iface = component
            .get_export_index(None, catalog.interface_name.as_str())
            .ok_or_else(|| {
                anyhow!(
                    "the component {} does not export `{}`",
                    path.display(),
                    catalog.interface_name
                )
            })?;
        let mut funcs = HashMap::new();
        for tool in &catalog.tools {
            let idx = component
                .get_export_index(Some(&iface), tool.wit_name.as_str())
                .ok_or_else(|| {
                    anyhow!(
                        "the component {} does not export the function `{}` of `{}`",
                        path.display(),
                        tool.wit_name,
                        catalog.interface_name
                    )
                })?;
            funcs.insert(tool.name.clone(), idx);
        }

        let deadline = Duration::from_secs(settings.timeout_seconds) + DEADLINE_GRACE;
        let policy = Arc::new(PolicyConfig::new(&settings));
        let ticker = Ticker::start(engine.clone());
        Ok(Runtime {
            engine,
            pre,
            catalog,
            funcs,
            settings: Arc::new(settings),
            policy,
            deadline,
            memory_budget: None,
            _ticker: ticker,
        })
    }

    /// Makes every later call also draw its linear memory from `budget`, shared with the
    /// other calls in flight (a call that would exceed it fails with `upstream`).
    pub fn set_memory_budget(&mut self, budget: Arc<MemoryBudget>) {
        self.memory_budget = Some(budget);
    }

    /// How long one call may run before it is stopped.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    fn new_store(&self) -> Store<HostState> {
        let mut wasi = WasiCtx::builder();
        wasi.envs(&self.settings.component_env)
            .inherit_stderr()
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        let state = HostState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: OutboundPolicy::new(self.policy.clone()),
            limits: CallLimits::new(
                StoreLimitsBuilder::new()
                    .memory_size(MEMORY_LIMIT_BYTES)
                    .trap_on_grow_failure(true)
                    .build(),
                self.memory_budget.clone(),
            ),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        let ticks = (self.deadline.as_millis() / TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        store
    }

    /// Runs one tool with JSON arguments.
    ///
    /// `Err` only for an unknown tool name; everything else (bad arguments, tool errors, a
    /// failing component) is a [`CallOutcome::ToolError`].
    pub async fn call(&self, tool: &str, args: &Value) -> Result<CallOutcome> {
        let Some(tool) = self.catalog.tool(tool) else {
            bail!("unknown tool `{tool}`");
        };
        let params = match values::args_to_vals(&self.catalog.resolve, tool, args) {
            Ok(p) => p,
            Err(message) => return Ok(CallOutcome::tool_error("invalid_input", message)),
        };
        let index = self.funcs[&tool.name];

        let mut store = self.new_store();
        let run = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            let func = instance.get_func(&mut store, index).ok_or_else(|| {
                wasmtime::format_err!("the export `{}` is not a function", tool.wit_name)
            })?;
            let mut results = vec![Val::Bool(false); func.ty(&store).results().len()];
            func.call_async(&mut store, &params, &mut results).await?;
            wasmtime::Result::Ok(results)
        };
        let outcome = match tokio::time::timeout(self.deadline, run).await {
            Err(_) => CallOutcome::tool_error(
                "upstream",
                format!(
                    "the connector component did not finish within {} s and was stopped; try again, and check that Bitbucket is reachable",
                    self.deadline.as_secs()
                ),
            ),
            Ok(Err(err)) => component_failure(&err, self.deadline),
            Ok(Ok(results)) => match results.first() {
                Some(v) => outcome_from_result(v),
                None => CallOutcome::Success(Value::Null),
            },
        };
        Ok(outcome)
    }
}

/// A trap or host error while the component ran, as an `upstream` tool error.
fn component_failure(err: &wasmtime::Error, deadline: Duration) -> CallOutcome {
    if std::env::var_os("HOST_DEMO_DEBUG").is_some() {
        eprintln!("host-demo: component failure: {err:?}");
    }
    let reason = if let Some(trap) = err.downcast_ref::<Trap>() {
        match trap {
            Trap::Interrupt => format!(
                "it ran longer than {} s and was stopped",
                deadline.as_secs()
            ),
            other => format!("it trapped ({other})"),
        }
    } else if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
        format!("it exited with status {}", exit.0)
    } else {
        let root = err.root_cause().to_string();
        let first = root.lines().next().unwrap_or("").to_string();
        if root.contains(BUDGET_EXHAUSTED) {
            format!("{BUDGET_EXHAUSTED}; try again when fewer calls are running")
        } else if root.contains("forcing trap when growing memory") {
            format!(
                "it exceeded the memory limit of {} MiB",
                MEMORY_LIMIT_BYTES >> 20
            )
        } else {
            format!("it failed: {first}")
        }
    };
    CallOutcome::tool_error(
        "upstream",
        format!(
            "the connector component failed: {reason}; the call was abandoned (set HOST_DEMO_DEBUG=1 for details)"
        ),
    )
}

/// The install layout's directory for the component, below the prefix whose `bin/` holds
/// `host-demo`: `PREFIX/lib/bitbucket-connector/bitbucket_connector.wasm`.
pub const INSTALL_DIR: &str = "lib/bitbucket-connector";

/// Where the component is looked for when neither `--component` nor the config file's
/// `component` names one: relative to the `host-demo` executable only, never to the working
/// directory (an MCP client starts the server in a project folder that may be an untrusted
/// checkout, and a component planted there would receive the credentials).
///
/// 1. the build tree: `target/release/host-demo` → `target/wasm32-wasip2/component/`;
/// 2. the install layout: `PREFIX/bin/host-demo` → `PREFIX/lib/bitbucket-connector/`.
pub fn default_component_paths() -> Vec<PathBuf> {
    let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    else {
        return Vec::new();
    };
    vec![
        dir.join("..")
            .join("wasm32-wasip2")
            .join("component")
            .join(COMPONENT_FILE),
        dir.join("..").join(INSTALL_DIR).join(COMPONENT_FILE),
    ]
}

pub use crate::cache::cache_dir;

/// Feeds `Hash` output into SHA-256.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// sha256(component bytes, wasmtime version, engine configuration) as hex.
pub fn cache_key(engine: &Engine, component: &[u8]) -> String {
    let mut h = Sha256Hasher(Sha256::new());
    h.0.update(component);
    h.0.update(WASMTIME_VERSION.as_bytes());
    h.0.update(env!("CARGO_PKG_VERSION").as_bytes());
    engine.precompile_compatibility_hash().hash(&mut h);
    h.0.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads, and compiles or loads from the cache ([`crate::cache`]), the component at `path`.
pub fn load_component(engine: &Engine, path: &Path) -> Result<Component> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the component {}", path.display()))?;
    let compile_error = |e: wasmtime::Error| {
        anyhow!(
            "{} is not a loadable WebAssembly component: {e}",
            path.display()
        )
    };
    let Some(dir) = cache_dir() else {
        return Component::new(engine, &bytes).map_err(compile_error);
    };
    let file = dir.join(format!("{}.cwasm", cache_key(engine, &bytes)));
    match cache::lookup(&dir, &file) {
        Lookup::Hit(serialized) => {
            // SAFETY: the file's name is the hash of the component, this wasmtime version and
            // engine configuration, and it was read from a directory and file that belong to
            // the user and that nobody else can write (checked by `lookup`), so it was written
            // by `precompile_component` below. wasmtime also checks the header.
            if let Ok(component) = unsafe { Component::deserialize(engine, &serialized) } {
                return Ok(component);
            }
        }
        Lookup::Miss => {}
        Lookup::UntrustedFile(why) => cache::warn_ignored("file", &file, &why),
        Lookup::UntrustedDir(why) => {
            cache::warn_ignored("directory", &dir, &why);
            return Component::new(engine, &bytes).map_err(compile_error);
        }
    }
    let serialized = engine.precompile_component(&bytes).map_err(compile_error)?;
    let _ = cache::store(&dir, &file, &serialized);
    // SAFETY: these bytes were produced by `precompile_component` just above.
    match unsafe { Component::deserialize(engine, &serialized) } {
        Ok(component) => Ok(component),
        Err(_) => Component::new(engine, &bytes).map_err(compile_error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cache_key_depends_on_bytes() {
        let engine = new_engine().unwrap();
        let a = cache_key(&engine, b"one");
        assert_eq!(a, cache_key(&engine, b"one"));
        assert_ne!(a, cache_key(&engine, b"two"));
        assert_eq!(a.len(), 64);
        let other = Engine::new(&Config::new()).unwrap();
        assert_ne!(
            a,
            cache_key(&other, b"one"),
            "engine config is part of the key"
        );
    }

    #[test]
    fn outcome_from_component_result() {
        let err = Val::Result(Err(Some(Box::new(Val::Record(vec![
            ("kind".into(), Val::Enum("rate-limited".into())),
            ("message".into(), Val::String("slow down".into())),
        ])))));
        let o = outcome_from_result(&err);
        assert_eq!(o, CallOutcome::tool_error("rate_limited", "slow down"));
        assert_eq!(
            o.to_json(),
            json!({"error": {"kind": "rate_limited", "message": "slow down"}})
        );
        let ok = Val::Result(Ok(Some(Box::new(Val::String("x".into())))));
        assert_eq!(outcome_from_result(&ok), CallOutcome::Success(json!("x")));
    }
}
