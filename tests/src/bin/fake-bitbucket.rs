//! Runs the fake Bitbucket Cloud API with the sample workspace `acme`.
//!
//! `fake-bitbucket [--port N] [--latency-ms N]`: prints `listening on
//! http://127.0.0.1:PORT/2.0` and serves until killed.

use fake_bitbucket::{FakeBitbucket, Options};
use std::io::Write;
use std::time::Duration;

fn usage() -> ! {
    eprintln!("usage: fake-bitbucket [--port N] [--latency-ms N]");
    std::process::exit(2);
}

fn main() {
    let mut options = Options::default();
    let mut latency = 0u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| -> u64 {
            args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
                eprintln!("{name} needs a number");
                usage()
            })
        };
        match a.as_str() {
            "--port" => options.port = value("--port") as u16,
            "--latency-ms" => latency = value("--latency-ms"),
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    let fake = FakeBitbucket::start_with(options);
    fake.set_latency(Duration::from_millis(latency));
    println!("listening on {}", fake.base_url());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
