//! `make bench`: how fast the connector is, measured as ratios against what the network
//! forces. See BENCHMARKS.md for the method and the recorded figures.
//!
//! 1. Every tool against the fake Bitbucket with an injected latency `L` per request: the
//!    requests made, the sequential round trips ("waves") they formed, the wall time of
//!    `host-demo call` (a process per call, warm precompiled cache) and of an in-process call
//!    on a warm [`Runtime`], and each wall time ÷ (minimal round trips × `L`).
//! 2. The host's cost per call without network (instantiate + call + JSON on a warm
//!    `Runtime`) next to the same tool logic called natively.
//! 3. Cold start of `host-demo call`: an empty precompiled-component cache, then a warm one.
//! 4. The component's size.
//! 5. The bytes an agent reads: JSON and MCP text per tool, the six tasks of issue 11 next
//!    to the peer figures, and `tools/list` ([`bytes`]).
//!
//! Usage: `bench` (built in release by `make bench`). Takes well under two minutes.

#[path = "../bench/bytes.rs"]
mod bytes;
#[path = "../bench/peer_plan.rs"]
mod peer_plan;

use bitbucket_connector::config::Config;
use bitbucket_connector::tools::{Ctx, read_file};
use bitbucket_connector::transport::{HttpRequest, HttpResponse, Transport, TransportError};
use fake_bitbucket::log::waves;
use fake_bitbucket::sample::{BIG_FILE, MIXED_COMMIT_SUBJECT, NESTED_FILE, SEARCH_WORD, WIDGETS};
use fake_bitbucket::{FakeBitbucket, RecordedRequest};
use host_demo::config::Settings;
use host_demo::runtime::Runtime;
use host_demo::schema::Catalog;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The latency injected per request in part 1.
const LATENCY: Duration = Duration::from_millis(50);
/// Repetitions per tool and way of calling (medians are reported).
const TOOL_REPS: usize = 7;
/// Calls measured one by one for the host's overhead (after `WARM_UP` unmeasured ones).
const OVERHEAD_CALLS: usize = 300;
const WARM_UP: usize = 20;
/// Native calls: batches of this many, timed as a batch.
const NATIVE_BATCH: usize = 1000;
const NATIVE_BATCHES: usize = 30;
/// Cold starts (each with a new empty cache) and warm starts.
const COLD_REPS: usize = 5;
const WARM_REPS: usize = 11;
/// The ratio the issue asks for.
const TARGET_RATIO: f64 = 1.2;

/// A call whose answer needs no network: the component refuses the path before any request.
fn offline_args() -> Value {
    json!({"repo": WIDGETS, "path": "../etc/passwd"})
}

struct Case {
    tool: &'static str,
    args: Value,
    /// The fewest sequential round trips the answer can take.
    min_round_trips: u32,
    why: &'static str,
}

fn cases(fake: &FakeBitbucket) -> Vec<Case> {
    let ws = fake.workspace();
    let widgets = ws.repository(WIDGETS).expect("the sample has widgets");
    let mixed = widgets
        .commits
        .iter()
        .find(|c| c.subject() == MIXED_COMMIT_SUBJECT)
        .expect("the sample has the mixed commit");
    let all_states = ["OPEN", "MERGED", "DECLINED", "SUPERSEDED"];
    vec![
        Case {
            tool: "list_repositories",
            args: json!({}),
            min_round_trips: 1,
            why: "one page of ≤ 100 repositories answers a limit ≤ 100",
        },
        Case {
            tool: "browse_repository",
            args: json!({"repo": WIDGETS}),
            min_round_trips: 1,
            why: "no branch: the listing at HEAD and the main-branch name (for `ref`) are independent",
        },
        Case {
            tool: "read_file",
            args: json!({"repo": WIDGETS, "path": BIG_FILE, "branch": "main"}),
            min_round_trips: 1,
            why: "a plain branch goes straight into the URL; metadata and raw text are independent",
        },
        Case {
            tool: "read_file",
            args: json!({"repo": WIDGETS, "path": NESTED_FILE}),
            min_round_trips: 1,
            why: "no branch: metadata and text at HEAD, and the main-branch name, are independent",
        },
        Case {
            tool: "search_code",
            args: json!({"query": SEARCH_WORD}),
            min_round_trips: 1,
            why: "one search page of ≤ 100 hits answers a limit ≤ 100",
        },
        Case {
            tool: "list_commits",
            args: json!({"repo": WIDGETS}),
            min_round_trips: 2,
            why: "no branch: `/commits/{branch}` needs the main branch's name first",
        },
        Case {
            tool: "list_commits",
            args: json!({"repo": WIDGETS, "branch": "main"}),
            min_round_trips: 1,
            why: "a plain branch goes straight into the URL",
        },
        Case {
            tool: "get_commit",
            args: json!({"repo": WIDGETS, "commit": mixed.hash}),
            min_round_trips: 1,
            why: "the commit and its diffstat (one page of ≤ 1000 files) are independent",
        },
        Case {
            tool: "list_pull_requests",
            args: json!({"repo": WIDGETS}),
            min_round_trips: 1,
            why: "one page (pagelen ≤ 50) answers the default limit 30",
        },
        Case {
            tool: "list_pull_requests",
            args: json!({"repo": WIDGETS, "state": all_states, "limit": 80}),
            min_round_trips: 1,
            why: "pages 1 and 2 (pagelen 50) are independent: fetched together",
        },
        Case {
            tool: "list_pipelines",
            args: json!({"repo": WIDGETS}),
            min_round_trips: 1,
            why: "one page (pagelen ≤ 100) answers a limit ≤ 100",
        },
        Case {
            tool: "get_commit",
            args: json!({"repo": WIDGETS, "commit": mixed.hash, "diff": true}),
            min_round_trips: 1,
            why: "the commit, its diffstat and its diff are independent",
        },
        Case {
            tool: "list_branches",
            args: json!({"repo": WIDGETS}),
            min_round_trips: 1,
            why: "one page of branches and the main-branch name (for `is_default`) are independent",
        },
        Case {
            tool: "get_pull_request",
            args: json!({"repo": WIDGETS, "id": 60}),
            min_round_trips: 2,
            why: "the pull request, statuses, comments and diffstat together; the diffstat's 302 to `/diffstat/{spec}` is a second hop",
        },
        Case {
            tool: "get_pull_request",
            args: json!({"repo": WIDGETS, "id": 79, "diff": true}),
            min_round_trips: 2,
            why: "as above, with the diff's 302 followed in the same second round trip",
        },
        Case {
            tool: "get_pipeline",
            args: json!({"repo": WIDGETS, "pipeline": "10", "log_lines": 100}),
            min_round_trips: 3,
            why: "the run and its steps together; the failed step's log (its end, by Range) needs the step's UUID; its 307 to the storage host is a third hop",
        },
    ]
}

// ------------------------------------------------------------------------------- helpers

/// `$CARGO_TARGET_DIR`, else `<workspace root>/target`.
fn target_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf();
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d),
        Some(d) => root.join(d),
        None => root.join("target"),
    }
}

fn must_exist(p: PathBuf) -> PathBuf {
    if !p.is_file() {
        eprintln!("bench: {} is missing: run `make build` first", p.display());
        std::process::exit(2);
    }
    p
}

fn median(mut v: Vec<Duration>) -> Duration {
    assert!(!v.is_empty());
    v.sort();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    let micros = d.as_secs_f64() * 1e6;
    if micros < 10.0 {
        format!("{micros:.2} µs")
    } else {
        format!("{micros:.0} µs")
    }
}

/// A value or a range when repetitions disagree.
fn span(values: &[usize]) -> String {
    let (lo, hi) = (values.iter().min(), values.iter().max());
    match (lo, hi) {
        (Some(lo), Some(hi)) if lo == hi => lo.to_string(),
        (Some(lo), Some(hi)) => format!("{lo}–{hi}"),
        _ => "-".into(),
    }
}

/// The request log once every request has been answered (the server records a completion
/// just after the client may already have read the answer).
fn settled_requests(fake: &FakeBitbucket) -> Vec<RecordedRequest> {
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        let log = fake.requests();
        if log.iter().all(|r| r.completed.is_some()) || Instant::now() > until {
            return log;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The path of a request without `/2.0/repositories/acme/widgets`, for the waves listing.
fn short(r: &RecordedRequest) -> String {
    let path = r.path();
    let path = path.strip_prefix("/2.0").unwrap_or(path);
    let path = path
        .strip_prefix("/repositories/acme/widgets")
        .map(|p| if p.is_empty() { "(repo)" } else { p })
        .unwrap_or(path);
    let mut text = path.to_string();
    for key in ["format", "page", "state"] {
        let values = r.query_values(key);
        if !values.is_empty() {
            text.push_str(&format!(" {key}={}", values.join(",")));
        }
    }
    if text.len() > 70 {
        let mut cut = 67;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Where a call's wall time went, from the request log (the fake runs in this process, so its
/// instants share the bench's clock).
#[derive(Clone, Copy, Default)]
struct Split {
    /// From the call's start to the first request's arrival: process start, component load,
    /// instantiation, argument handling, building the first requests.
    before: Duration,
    /// Time with at least one request held by the fake (from a wave's first arrival until
    /// the fake begins to send its last answer): the latency and the fake's own work.
    in_flight: Duration,
    /// Between one wave's last answer and the next wave's first request.
    between: Duration,
    /// From the last answer to the end of the call: the transfer, decoding, converting,
    /// JSON, process exit.
    after: Duration,
}

fn split(log: &[RecordedRequest], start: Instant, wall: Duration) -> Split {
    let end = start + wall;
    let mut s = Split::default();
    let groups = waves(log);
    let spans: Vec<(Instant, Instant)> = groups
        .iter()
        .map(|wave| {
            let first = wave
                .iter()
                .map(|&i| log[i].arrived)
                .min()
                .expect("a request");
            let last = wave
                .iter()
                .map(|&i| log[i].answered.or(log[i].completed).unwrap_or(end))
                .max()
                .expect("a request");
            (first, last)
        })
        .collect();
    let (Some(first), Some(last)) = (spans.first(), spans.last()) else {
        s.before = wall;
        return s;
    };
    s.before = first.0.saturating_duration_since(start);
    s.after = end.saturating_duration_since(last.1);
    s.in_flight = spans
        .iter()
        .map(|(a, b)| b.saturating_duration_since(*a))
        .sum();
    s.between = spans
        .windows(2)
        .map(|w| w[1].0.saturating_duration_since(w[0].1))
        .sum();
    s
}

fn median_split(splits: &[Split]) -> Split {
    let m = |f: fn(&Split) -> Duration| median(splits.iter().map(f).collect());
    Split {
        before: m(|s| s.before),
        in_flight: m(|s| s.in_flight),
        between: m(|s| s.between),
        after: m(|s| s.after),
    }
}

fn describe_waves(log: &[RecordedRequest]) -> String {
    waves(log)
        .iter()
        .map(|wave| {
            let items: Vec<String> = wave.iter().map(|&i| short(&log[i])).collect();
            format!("[{}]", items.join(" ‖ "))
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

fn compact(args: &Value) -> String {
    let mut text = args.to_string();
    // A 40-hex hash makes the table wide.
    if let Some(hash) = args.get("commit").and_then(Value::as_str) {
        text = text.replace(hash, &format!("{}…", &hash[..8]));
    }
    text
}

/// The environment of the component, as the end-to-end tests give it.
fn connector_env(fake: &FakeBitbucket) -> Vec<(String, String)> {
    vec![
        ("BITBUCKET_WORKSPACE".into(), "acme".into()),
        ("BITBUCKET_API_BASE_URL".into(), fake.base_url()),
        ("BITBUCKET_TOKEN".into(), "test-token-valid".into()),
    ]
}

struct HostProcess {
    exe: PathBuf,
    component: PathBuf,
    env: Vec<(String, String)>,
}

impl HostProcess {
    /// Runs `host-demo … call TOOL ARGS` with `cache` as the precompiled-component cache;
    /// returns the wall time from spawning to exit, the exit code and stdout.
    fn call(&self, cache: &Path, tool: &str, args: &Value) -> (Duration, i32, String) {
        let mut cmd = Command::new(&self.exe);
        cmd.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("HOST_DEMO_CACHE_DIR", cache)
            .arg("--component")
            .arg(&self.component)
            .args(["call", tool, &args.to_string()]);
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        let start = Instant::now();
        let out = cmd.output().expect("run host-demo");
        let wall = start.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let code = out.status.code().unwrap_or(-1);
        if code == 2 {
            eprintln!(
                "bench: host-demo failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::process::exit(2);
        }
        (wall, code, stdout)
    }

    /// Like [`call`](Self::call), for `host-demo tools` (no component is loaded).
    fn tools(&self) -> Duration {
        let start = Instant::now();
        let out = Command::new(&self.exe)
            .env_clear()
            .arg("tools")
            .output()
            .expect("run host-demo");
        let wall = start.elapsed();
        assert!(out.status.success(), "host-demo tools failed");
        wall
    }
}

/// A transport for calls that must not reach the network.
struct NoNetwork;

impl Transport for NoNetwork {
    fn send_all(&self, requests: &[HttpRequest]) -> Vec<Result<HttpResponse, TransportError>> {
        panic!(
            "the offline call sent {} request(s): the bench's premise is wrong",
            requests.len()
        );
    }

    fn pause(&self, _millis: u64) {
        panic!("the offline call waited to retry: the bench's premise is wrong");
    }
}

/// `InvalidInput` → `invalid_input`, as the host prints error kinds.
fn snake(kind: &str) -> String {
    let name = kind.rsplit("::").next().unwrap_or(kind);
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The offline call natively: configuration from the variables, the tool, the JSON text.
fn native_offline_call(vars: &HashMap<String, String>) -> String {
    let answer = Config::from_vars(|k| vars.get(k).cloned()).and_then(|config| {
        let ctx = Ctx::new(&config, &NoNetwork);
        read_file::run(
            &ctx,
            Some(WIDGETS.to_string()),
            "../etc/passwd".to_string(),
            None,
            None,
            None,
        )
    });
    let value = match answer {
        Ok(_) => panic!("the offline call succeeded natively"),
        Err(e) => {
            json!({"error": {"kind": snake(&format!("{:?}", e.kind)), "message": e.message}})
        }
    };
    serde_json::to_string_pretty(&value).expect("JSON")
}

fn machine_notes() -> Vec<String> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let threads = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| std::env::consts::OS.into());
    let rustc = Command::new("rustc")
        .arg("-V")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| {
            let parts: Vec<&str> = l.split_whitespace().take(3).collect();
            (parts.len() == 3).then(|| parts.join(" "))
        })
        .unwrap_or_else(|| "unknown".into());
    vec![
        format!("CPU: {cpu}, {threads} hardware threads available; load average at start {load}"),
        format!(
            "OS: {} {kernel} ({})",
            std::env::consts::OS,
            std::env::consts::ARCH
        ),
        format!(
            "toolchain: {rustc}; host-demo and bench in release, component in the `component` profile"
        ),
    ]
}

// ---------------------------------------------------------------------------------- main

fn main() {
    let started = Instant::now();
    let scratch = std::env::temp_dir().join(format!("bitbucket-bench-{}", std::process::id()));
    let warm_cache = scratch.join("warm-cache");
    std::fs::create_dir_all(&warm_cache).expect("create the scratch directory");
    // SAFETY: no other thread exists yet. The in-process runtime reads this variable to find
    // its precompiled-component cache; pointing it here keeps the user's cache untouched.
    unsafe { std::env::set_var("HOST_DEMO_CACHE_DIR", &warm_cache) };

    let target = target_dir();
    let exe = must_exist(target.join("release").join("host-demo"));
    let component = must_exist(
        target
            .join("wasm32-wasip2")
            .join("component")
            .join("bitbucket_connector.wasm"),
    );

    let fake = FakeBitbucket::start();
    let env = connector_env(&fake);
    let host = HostProcess {
        exe,
        component: component.clone(),
        env: env.clone(),
    };

    println!("# Bitbucket connector benchmark\n");
    for note in machine_notes() {
        println!("- {note}");
    }
    println!();

    // Warm the cache (process) and build the in-process runtime (same cache).
    let (_, code, _) = host.call(&warm_cache, "read_file", &offline_args());
    assert_eq!(code, 1, "the offline call should be a tool error");
    let catalog = Arc::new(Catalog::embedded().expect("the embedded WIT parses"));
    let vars: HashMap<String, String> = env.iter().cloned().collect();
    let settings = Settings::build(None, None, |k| vars.get(k).cloned()).expect("settings");
    let runtime = Runtime::new(catalog.clone(), settings, &component).expect("load the component");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let in_process = |tool: &str, args: &Value| -> (Duration, bool, String) {
        let start = Instant::now();
        let outcome = rt.block_on(runtime.call(tool, args)).expect("a known tool");
        let text = serde_json::to_string_pretty(&outcome.to_json()).expect("JSON");
        (start.elapsed(), outcome.is_error(), text)
    };

    // ------------------------------------------------------------------ 1. per tool
    println!(
        "## 1. Tools against the fake with L = {} ms per request\n",
        LATENCY.as_millis()
    );
    println!(
        "Medians of {TOOL_REPS} calls each way. Ratio = wall ÷ (minimal round trips × L); target ≤ {TARGET_RATIO}.\n"
    );
    println!(
        "| tool | arguments | requests | waves | min RT | `host-demo call` | ratio | in-process | ratio |"
    );
    println!("|---|---|--:|--:|--:|--:|--:|--:|--:|");
    fake.set_latency(LATENCY);
    let mut details = Vec::new();
    let mut breakdown = Vec::new();
    let mut over_target = Vec::new();
    for case in cases(&fake) {
        let (mut counts, mut wave_counts) = (Vec::new(), Vec::new());
        let (mut process_walls, mut runtime_walls) = (Vec::new(), Vec::new());
        let mut example = Vec::new();
        let (mut process_splits, mut runtime_splits) = (Vec::new(), Vec::new());
        for rep in 0..TOOL_REPS {
            for way in 0..2 {
                fake.clear_requests();
                let start = Instant::now();
                let (wall, failed, out) = if way == 0 {
                    let (wall, code, out) = host.call(&warm_cache, case.tool, &case.args);
                    (wall, code != 0, out)
                } else {
                    in_process(case.tool, &case.args)
                };
                if failed {
                    eprintln!("bench: {} {} failed: {out}", case.tool, case.args);
                    std::process::exit(1);
                }
                let log = settled_requests(&fake);
                counts.push(log.len());
                wave_counts.push(waves(&log).len());
                let parts = split(&log, start, wall);
                if way == 0 {
                    process_walls.push(wall);
                    process_splits.push(parts);
                } else {
                    runtime_walls.push(wall);
                    runtime_splits.push(parts);
                    if rep == 0 {
                        example = log;
                    }
                }
            }
        }
        let floor = LATENCY * case.min_round_trips;
        let (process, runtime_wall) = (median(process_walls), median(runtime_walls));
        let ratio = |d: Duration| d.as_secs_f64() / floor.as_secs_f64();
        println!(
            "| {} | `{}` | {} | {} | {} | {} | {:.2} | {} | {:.2} |",
            case.tool,
            compact(&case.args),
            span(&counts),
            span(&wave_counts),
            case.min_round_trips,
            ms(process),
            ratio(process),
            ms(runtime_wall),
            ratio(runtime_wall),
        );
        for (way, r) in [
            ("host-demo call", ratio(process)),
            ("in-process", ratio(runtime_wall)),
        ] {
            if r > TARGET_RATIO {
                over_target.push(format!(
                    "{} `{}` ({way}): {r:.2}",
                    case.tool,
                    compact(&case.args)
                ));
            }
        }
        let (p, r) = (median_split(&process_splits), median_split(&runtime_splits));
        breakdown.push(format!(
            "| {} | `{}` | {} | {} / {} | {} / {} | {} / {} |",
            case.tool,
            compact(&case.args),
            ms(r.in_flight),
            ms(r.before),
            ms(p.before),
            ms(r.between),
            ms(p.between),
            ms(r.after),
            ms(p.after),
        ));
        details.push(format!(
            "| {} | `{}` | {} | {} |",
            case.tool,
            compact(&case.args),
            case.why,
            describe_waves(&example)
        ));
    }
    fake.set_latency(Duration::ZERO);
    println!(
        "\nMinimal round trips, and the waves seen (requests in one wave were in flight together):\n"
    );
    println!("| tool | arguments | why this minimum | waves (in-process run) |");
    println!("|---|---|---|---|");
    for line in &details {
        println!("{line}");
    }
    println!(
        "\nWhere the time goes (medians). \"Held by the fake\" (in-process runs): some request has arrived and its answer has not begun, i.e. L plus the fake's own work. The other columns are in-process / `host-demo call`; \"after\" includes receiving the answer:\n"
    );
    println!(
        "| tool | arguments | held by the fake | before the first request | between waves | after the last answer began |"
    );
    println!("|---|---|--:|--:|--:|--:|");
    for line in &breakdown {
        println!("{line}");
    }
    println!();
    if over_target.is_empty() {
        println!("Every ratio is within the target {TARGET_RATIO}.\n");
    } else {
        println!("Above the target {TARGET_RATIO}:\n");
        for line in &over_target {
            println!("- {line}");
        }
        println!();
    }

    // ------------------------------------------------------------------ 2. host overhead
    println!("## 2. Host overhead per call, no network\n");
    println!(
        "`read_file {}`: the component refuses the path (invalid_input) before any request.\n",
        offline_args()
    );
    fake.clear_requests();
    for _ in 0..WARM_UP {
        let (_, failed, text) = in_process("read_file", &offline_args());
        assert!(failed && text.contains("invalid_input"), "{text}");
    }
    let mut walls = Vec::with_capacity(OVERHEAD_CALLS);
    for _ in 0..OVERHEAD_CALLS {
        walls.push(in_process("read_file", &offline_args()).0);
    }
    assert!(
        fake.requests().is_empty(),
        "the offline call reached the fake"
    );
    let hosted = median(walls);

    let sample = native_offline_call(&vars);
    assert!(sample.contains("invalid_input"), "{sample}");
    let (_, _, hosted_text) = in_process("read_file", &offline_args());
    assert_eq!(
        sample, hosted_text,
        "the native and hosted calls should print the same JSON"
    );
    for _ in 0..NATIVE_BATCH {
        std::hint::black_box(native_offline_call(std::hint::black_box(&vars)));
    }
    let mut batches = Vec::with_capacity(NATIVE_BATCHES);
    for _ in 0..NATIVE_BATCHES {
        let start = Instant::now();
        for _ in 0..NATIVE_BATCH {
            std::hint::black_box(native_offline_call(std::hint::black_box(&vars)));
        }
        batches.push(start.elapsed() / NATIVE_BATCH as u32);
    }
    let native = median(batches);
    println!("| what | median per call |");
    println!("|---|--:|");
    println!(
        "| warm `Runtime::call` in process: new store, instantiate, JSON → values, call, values → JSON, JSON text ({OVERHEAD_CALLS} calls) | {} |",
        us(hosted)
    );
    println!(
        "| native `read_file::run`: configuration from variables, the tool, JSON text ({} × {NATIVE_BATCH} calls) | {} |",
        NATIVE_BATCHES,
        us(native)
    );
    println!(
        "| ratio hosted ÷ native | {:.0}× |",
        hosted.as_secs_f64() / native.as_secs_f64()
    );
    println!();

    // ------------------------------------------------------------------ 3. cold start
    println!("## 3. Start of `host-demo call` (process start to exit), no network\n");
    let mut cold = Vec::new();
    for i in 0..COLD_REPS {
        let dir = scratch.join(format!("cold-{i}"));
        std::fs::create_dir_all(&dir).expect("create a cache directory");
        let (wall, code, _) = host.call(&dir, "read_file", &offline_args());
        assert_eq!(code, 1);
        cold.push(wall);
        let _ = std::fs::remove_dir_all(&dir);
    }
    let mut warm = Vec::new();
    for _ in 0..WARM_REPS {
        let (wall, code, _) = host.call(&warm_cache, "read_file", &offline_args());
        assert_eq!(code, 1);
        warm.push(wall);
    }
    let mut tools = Vec::new();
    for _ in 0..WARM_REPS {
        tools.push(host.tools());
    }
    let (cold, warm) = (median(cold), median(warm));
    println!("| what | runs | median |");
    println!("|---|--:|--:|");
    println!(
        "| empty cache dir (compile the component, write the cache) | {COLD_REPS} | {} |",
        ms(cold)
    );
    println!(
        "| warm cache dir (load the precompiled component) | {WARM_REPS} | {} |",
        ms(warm)
    );
    println!(
        "| for scale: `host-demo tools` (process start, WIT parse, no component) | {WARM_REPS} | {} |",
        ms(median(tools))
    );
    println!(
        "| ratio cold ÷ warm | | {:.1}× |",
        cold.as_secs_f64() / warm.as_secs_f64()
    );
    println!();

    // ------------------------------------------------------------------ 4. size
    let size = std::fs::metadata(&component)
        .expect("component metadata")
        .len();
    println!("## 4. Component size\n");
    println!(
        "`{}`: {size} bytes ({:.0} KiB)\n",
        component
            .strip_prefix(target.parent().unwrap_or(&target))
            .unwrap_or(&component)
            .display(),
        size as f64 / 1024.0
    );

    // ------------------------------------------------------------------ 5. bytes
    bytes::report(&fake, &runtime, &rt, &catalog);

    drop(runtime);
    let _ = std::fs::remove_dir_all(&scratch);
    println!("(bench took {:.0} s)", started.elapsed().as_secs_f64());
}
