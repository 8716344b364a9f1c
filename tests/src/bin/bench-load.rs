//! `make bench`, part 2: `host-demo serve` under load. Many concurrent MCP sessions over HTTP
//! (each its own keep-alive connection and thread) send 2,000 tool calls in total to the fake
//! Bitbucket, which delays every answer by L = 50 ms. Prints Markdown: throughput against
//! the bound the latency sets (concurrency ÷ (round trips × L)), latency percentiles, errors
//! and the server's peak RSS; exits 1 when the 32-session run misses its targets (no
//! errors, throughput ≥ 90 % of the bound, p99 ≤ 1.5 × p50) or a run has errors.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fake_bitbucket::served::{McpSession, Served};
use fake_bitbucket::{FakeBitbucket, Options};
use serde_json::json;

const LATENCY: Duration = Duration::from_millis(50);
const CALLS: usize = 2000;
const SERVER_TOKEN: &str = "bench-load-server-token-5d1e0c";
const TOOL: &str = "list_repositories";

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
    }
}

/// What one run measured.
struct Run {
    sessions: usize,
    slots: usize,
    wall: Duration,
    latencies: Vec<Duration>,
    errors: usize,
    round_trips: f64,
    peak_rss_kib: u64,
    baseline_rss_kib: u64,
}

impl Run {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[index]
    }

    fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }

    /// Calls per second the latency allows with this much concurrency.
    fn bound(&self) -> f64 {
        self.sessions.min(self.slots) as f64 / (self.round_trips * LATENCY.as_secs_f64())
    }
}

fn run(fake: &FakeBitbucket, served: &Served, sessions: usize, slots: usize) -> Run {
    let baseline_rss_kib = served.peak_rss_kib().unwrap_or(0);
    let sessions_started: Vec<McpSession> = (0..sessions)
        .map(|_| McpSession::start(served.addr(), Some(SERVER_TOKEN)).expect("an MCP session"))
        .collect();
    fake.clear_requests();
    let remaining = Arc::new(AtomicUsize::new(CALLS));
    let errors = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let threads: Vec<_> = sessions_started
        .into_iter()
        .map(|mut session| {
            let remaining = remaining.clone();
            let errors = errors.clone();
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                while remaining
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                    .is_ok()
                {
                    let t = Instant::now();
                    let ok = match session.call(TOOL, json!({"limit": 5})) {
                        Ok(result) => result["isError"] == false,
                        Err(_) => false,
                    };
                    latencies.push(t.elapsed());
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(CALLS);
    for t in threads {
        latencies.extend(t.join().expect("a session thread"));
    }
    let wall = start.elapsed();
    let requests = fake.settled_requests(Duration::from_secs(2)).len();
    Run {
        sessions,
        slots,
        wall,
        round_trips: requests as f64 / CALLS as f64,
        latencies,
        errors: errors.load(Ordering::Relaxed),
        peak_rss_kib: served.peak_rss_kib().unwrap_or(0),
        baseline_rss_kib,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let target = target_dir();
    let host_demo = target.join("release/host-demo");
    let component = target.join("wasm32-wasip2/component/bitbucket_connector.wasm");
    for p in [&host_demo, &component] {
        assert!(p.exists(), "{} is missing: run `make build`", p.display());
    }
    let scratch = std::env::temp_dir().join(format!("bench-load-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    // Enough fake workers that the fake never queues: 200 sessions, 64 call slots.
    let fake = FakeBitbucket::start_with(Options {
        workers: 256,
        ..Options::default()
    });
    let slots = 64;
    let env: Vec<(String, String)> = [
        ("BITBUCKET_WORKSPACE", "acme".to_string()),
        ("BITBUCKET_API_BASE_URL", fake.base_url()),
        ("BITBUCKET_TOKEN", "test-token-valid".to_string()),
        ("CONNECTOR_SERVER_TOKEN", SERVER_TOKEN.to_string()),
        ("HOST_DEMO_CACHE_DIR", scratch.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let config = scratch.join("serve.toml");
    std::fs::write(
        &config,
        format!("[server]\nmax_concurrent_calls = {slots}\n"),
    )
    .unwrap();
    let mut served = Served::start(
        &host_demo,
        &[
            "--component",
            component.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ],
        &["--listen", "127.0.0.1:0"],
        &env,
    )
    .unwrap_or_else(|(code, stderr)| panic!("host-demo serve stopped with {code}: {stderr}"));

    // Warm up: the first calls touch code and allocator pages once.
    fake.set_latency(LATENCY);
    let mut warm = McpSession::start(served.addr(), Some(SERVER_TOKEN)).unwrap();
    for _ in 0..10 {
        warm.call(TOOL, json!({"limit": 5})).unwrap();
    }
    drop(warm);

    let runs: Vec<Run> = [32, 200]
        .into_iter()
        .map(|sessions| run(&fake, &served, sessions, slots))
        .collect();
    let _ = served.terminate(Duration::from_secs(15));
    let _ = std::fs::remove_dir_all(&scratch);

    println!("## Load: `host-demo serve` over HTTP\n");
    println!(
        "{CALLS} `tools/call {TOOL}` calls in total over MCP Streamable HTTP, spread over N concurrent sessions (one keep-alive connection and thread each), fake Bitbucket at L = {} ms per request, `server.max_concurrent_calls = {slots}`. Bound = min(N, {slots}) ÷ (round trips per call × L).\n",
        LATENCY.as_millis()
    );
    println!(
        "| sessions | errors | round trips / call | throughput | bound | ratio | p50 | p99 | p99 / p50 | peak RSS (before → after) |"
    );
    println!("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for r in &runs {
        println!(
            "| {} | {} | {:.2} | {:.0} calls/s | {:.0} calls/s | {:.0} % | {} | {} | {:.2} | {} → {} MiB |",
            r.sessions,
            r.errors,
            r.round_trips,
            r.throughput(),
            r.bound(),
            100.0 * r.throughput() / r.bound(),
            ms(r.percentile(0.5)),
            ms(r.percentile(0.99)),
            r.percentile(0.99).as_secs_f64() / r.percentile(0.5).as_secs_f64(),
            r.baseline_rss_kib / 1024,
            r.peak_rss_kib / 1024,
        );
    }
    println!();
    let mut failed = Vec::new();
    let first = &runs[0];
    if first.throughput() < 0.9 * first.bound() {
        failed.push(format!(
            "32 sessions: throughput {:.0} calls/s is under 90 % of {:.0}",
            first.throughput(),
            first.bound()
        ));
    }
    let spread = first.percentile(0.99).as_secs_f64() / first.percentile(0.5).as_secs_f64();
    if spread > 1.5 {
        failed.push(format!(
            "32 sessions: p99 is {spread:.2} × p50 (target ≤ 1.5)"
        ));
    }
    for r in &runs {
        if r.errors > 0 || r.latencies.len() != CALLS {
            failed.push(format!(
                "{} sessions: {} errors, {} of {CALLS} calls answered",
                r.sessions,
                r.errors,
                r.latencies.len()
            ));
        }
    }
    let second = &runs[1];
    println!(
        "With {} sessions and {slots} slots, {} calls wait for a slot at any time: p50 grows from {} to {} (queueing), and nothing fails.\n",
        second.sessions,
        second.sessions - slots,
        ms(first.percentile(0.5)),
        ms(second.percentile(0.5)),
    );
    if failed.is_empty() {
        println!(
            "Load targets met (no errors, throughput ≥ 90 % of the bound, p99 ≤ 1.5 × p50 at 32 sessions)."
        );
    } else {
        for f in &failed {
            println!("MISSED: {f}");
        }
        std::process::exit(1);
    }
}
