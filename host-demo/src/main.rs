//! `host-demo`: runs the Bitbucket connector component's tools from the command line.
//!
//! ```text
//! host-demo [--config FILE.toml] [--component FILE.wasm] tools
//! host-demo [--config FILE.toml] [--component FILE.wasm] call TOOL [JSON]
//! host-demo [--config FILE.toml] [--component FILE.wasm] mcp
//! host-demo [--config FILE.toml] [--component FILE.wasm] serve [--listen ADDR] [--allow-unauthenticated]
//! ```
//!
//! Exit status: 0 success, 1 tool error (printed as `{"error": {kind, message}}` on stdout),
//! 2 bad usage or a configuration the host cannot use (message on stderr).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use serde_json::Value;

use host_demo::budget::MemoryBudget;
use host_demo::config::Settings;
use host_demo::mcp;
use host_demo::runtime::{self, CallOutcome, Runtime};
use host_demo::schema::Catalog;
use host_demo::serve::Server;
use host_demo::serve::options::{ServeArgs, ServeOptions};
use host_demo::serve::slots::Slots;

const USAGE: &str = "\
usage: host-demo [--config FILE.toml] [--component FILE.wasm] <command>

commands:
  tools                 print the tools as a JSON array [{name, description, input_schema}]
  call TOOL [JSON]      run TOOL with a JSON object of arguments (default {}; - reads stdin)
  mcp                   serve the tools to an agent over MCP (JSON-RPC on stdin/stdout)
  serve [--listen ADDR] [--allow-unauthenticated]
                        serve the tools over MCP Streamable HTTP at http://ADDR/mcp
                        (default 127.0.0.1:8080); every request needs
                        `Authorization: Bearer TOKEN` with the server token from
                        CONNECTOR_SERVER_TOKEN or server.token; without one, serve
                        refuses to start unless --allow-unauthenticated on loopback

The component: --component FILE, else `component = \"FILE\"` in the config file (relative to
the file), else next to host-demo: <dir of host-demo>/../wasm32-wasip2/component/ (the build
tree) or <dir of host-demo>/../lib/bitbucket-connector/ (an install), never the working
directory.
Configuration: --config FILE (TOML), overridden by BITBUCKET_* environment variables.
Exit status: 0 success, 1 tool error (JSON on stdout), 2 usage or configuration error.";

/// A usage or configuration problem: message on stderr, exit 2.
struct Usage(String);

enum Command {
    Tools,
    Call { tool: String, args: Option<String> },
    Mcp,
    Serve { args: Vec<String> },
    Help,
}

struct Cli {
    config: Option<PathBuf>,
    component: Option<PathBuf>,
    command: Command,
}

fn parse_cli(args: &[String]) -> Result<Cli, Usage> {
    let mut config = None;
    let mut component = None;
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let mut option_value = |name: &str| -> Result<Option<PathBuf>, Usage> {
            if arg == name {
                i += 1;
                match args.get(i) {
                    Some(v) => Ok(Some(PathBuf::from(v))),
                    None => Err(Usage(format!("{name} needs a file name"))),
                }
            } else if let Some(v) = arg.strip_prefix(&format!("{name}=")) {
                Ok(Some(PathBuf::from(v)))
            } else {
                Ok(None)
            }
        };
        if let Some(v) = option_value("--config")? {
            config = Some(v);
        } else if let Some(v) = option_value("--component")? {
            component = Some(v);
        } else if arg == "-h" || arg == "--help" || arg == "help" {
            return Ok(Cli {
                config,
                component,
                command: Command::Help,
            });
        } else if arg.starts_with("--") && rest.is_empty() {
            return Err(Usage(format!("unknown option `{arg}`")));
        } else {
            rest.push(arg.clone());
        }
        i += 1;
    }
    let command = match rest.first().map(String::as_str) {
        None => {
            return Err(Usage(
                "missing command: `tools`, `call TOOL [JSON]`, `mcp` or `serve`".into(),
            ));
        }
        Some("tools") => {
            if rest.len() > 1 {
                return Err(Usage(format!(
                    "`tools` takes no arguments, got `{}`",
                    rest[1]
                )));
            }
            Command::Tools
        }
        Some("mcp") => {
            if rest.len() > 1 {
                return Err(Usage(format!(
                    "`mcp` takes no arguments, got `{}`",
                    rest[1]
                )));
            }
            Command::Mcp
        }
        Some("serve") => Command::Serve {
            args: rest[1..].to_vec(),
        },
        Some("call") => match rest.len() {
            1 => return Err(Usage("`call` needs a tool name".into())),
            2 | 3 => Command::Call {
                tool: rest[1].clone(),
                args: rest.get(2).cloned(),
            },
            _ => {
                return Err(Usage(
                    "`call` takes a tool name and one JSON argument (quote the JSON)".into(),
                ));
            }
        },
        Some(other) => {
            return Err(Usage(format!(
                "unknown command `{other}`: expected `tools`, `call`, `mcp` or `serve`"
            )));
        }
    };
    Ok(Cli {
        config,
        component,
        command,
    })
}

fn print_json(v: &Value) {
    use std::io::Write;
    let text = serde_json::to_string_pretty(v).expect("JSON values serialize");
    // A reader that stops early (`| head`) is not an error worth a panic.
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// The component to run: `--component`, else the config file's `component`, else one next
/// to the executable ([`runtime::default_component_paths`]); never one in the working
/// directory.
fn find_component(explicit: Option<PathBuf>, settings: &Settings) -> Result<PathBuf, Usage> {
    let named = explicit.map(|p| (p, "--component")).or_else(|| {
        settings
            .component
            .clone()
            .map(|p| (p, "`component` in the config file"))
    });
    if let Some((path, origin)) = named {
        if path.is_file() {
            return Ok(path);
        }
        return Err(Usage(format!(
            "the component file {} (from {origin}) does not exist",
            path.display()
        )));
    }
    let candidates = runtime::default_component_paths();
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            Usage(format!(
                "no component found next to host-demo (looked at {}; the working directory is never searched). Pass --component /path/to/{file}, or set `component = \"/path/to/{file}\"` in the --config file, or install it as PREFIX/{dir}/{file} beside PREFIX/bin/host-demo (`make build` puts it in the build tree)",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" and "),
                file = runtime::COMPONENT_FILE,
                dir = runtime::INSTALL_DIR,
            ))
        })
}

fn run() -> Result<ExitCode, Usage> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cli = parse_cli(&args)?;
    let catalog = Arc::new(
        Catalog::embedded().map_err(|e| Usage(format!("the embedded WIT is invalid: {e:#}")))?,
    );
    match cli.command {
        Command::Help => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Tools => {
            if let Some(path) = &cli.config {
                Settings::load(Some(path)).map_err(|e| Usage(e.to_string()))?;
            }
            print_json(&catalog.tools_json());
            Ok(ExitCode::SUCCESS)
        }
        Command::Call { tool, args } => {
            if catalog.tool(&tool).is_none() {
                let names: Vec<&str> = catalog.tools.iter().map(|t| t.name.as_str()).collect();
                return Err(Usage(format!(
                    "unknown tool `{tool}`; the tools are: {}",
                    names.join(", ")
                )));
            }
            let text = match args.as_deref() {
                None => "{}".to_string(),
                Some("-") => {
                    let mut s = String::new();
                    std::io::stdin()
                        .read_to_string(&mut s)
                        .map_err(|e| Usage(format!("cannot read the arguments from stdin: {e}")))?;
                    s
                }
                Some(s) => s.to_string(),
            };
            let json_args: Value = serde_json::from_str(&text)
                .map_err(|e| Usage(format!("the arguments are not valid JSON: {e}")))?;
            let settings =
                Settings::load(cli.config.as_deref()).map_err(|e| Usage(e.to_string()))?;
            let component = find_component(cli.component, &settings)?;

            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| Usage(format!("cannot start the async runtime: {e}")))?;
            let outcome = rt.block_on(async {
                let runtime = Runtime::new(catalog, settings, &component)
                    .map_err(|e| Usage(format!("{e:#}")))?;
                runtime
                    .call(&tool, &json_args)
                    .await
                    .map_err(|e| Usage(format!("{e:#}")))
            })?;
            print_json(&outcome.to_json());
            Ok(match &outcome {
                CallOutcome::Success(_) => ExitCode::SUCCESS,
                // The connection is not usable as configured: a configuration problem (exit
                // 2, as the contract says), reported with the usual error object.
                CallOutcome::ToolError { kind, .. } if kind == "config" => ExitCode::from(2),
                CallOutcome::ToolError { .. } => ExitCode::from(1),
            })
        }
        Command::Mcp => serve_mcp(catalog, cli.config, cli.component),
        Command::Serve { args } => serve_http(catalog, cli.config, cli.component, &args),
    }
}

/// `host-demo serve`: MCP over HTTP until SIGTERM or SIGINT (see `host_demo::serve`).
fn serve_http(
    catalog: Arc<Catalog>,
    config: Option<PathBuf>,
    component: Option<PathBuf>,
    args: &[String],
) -> Result<ExitCode, Usage> {
    let args = ServeArgs::parse(args).map_err(Usage)?;
    let settings = Settings::load(config.as_deref()).map_err(|e| Usage(e.to_string()))?;
    let options = ServeOptions::resolve(&args, &settings.server, |k| std::env::var(k).ok())
        .map_err(|e| Usage(e.to_string()))?;
    let component = find_component(component, &settings)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Usage(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        let mut runtime = Runtime::new(catalog.clone(), settings, &component)
            .map_err(|e| Usage(format!("{e:#}")))?;
        runtime.set_memory_budget(Arc::new(MemoryBudget::new(options.memory_budget_bytes)));
        let request_deadline =
            runtime.deadline() + options.queue_timeout + std::time::Duration::from_secs(5);
        let backend: Arc<dyn mcp::ToolBackend> =
            Arc::new(mcp::RuntimeBackend::new(catalog.clone(), runtime));
        let backend = Arc::new(Slots::new(
            backend,
            options.max_concurrent_calls,
            options.queue_timeout,
        ));
        let server = Server::bind(options.listen, options.policy.clone(), backend, request_deadline)
            .await
            .map_err(|e| Usage(format!("cannot listen on {}: {e}", options.listen)))?;
        let addr = server
            .local_addr()
            .map_err(|e| Usage(format!("cannot read the bound address: {e}")))?;
        let access = if options.policy.has_token() {
            "server token required"
        } else {
            "NO AUTHENTICATION (--allow-unauthenticated, loopback only)"
        };
        eprintln!(
            "host-demo: serving {} tools over MCP at http://{addr}/mcp ({access}; up to {} calls at once, {} MiB memory budget; {})",
            catalog.tools.len(),
            options.max_concurrent_calls,
            options.memory_budget_bytes >> 20,
            component.display()
        );
        server.run(host_demo::serve::shutdown_signal()).await;
        eprintln!("host-demo: stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// `host-demo mcp`: loads the configuration and the component once, then answers MCP
/// messages on stdin/stdout until stdin closes. Only protocol messages go to stdout;
/// diagnostics go to stderr.
fn serve_mcp(
    catalog: Arc<Catalog>,
    config: Option<PathBuf>,
    component: Option<PathBuf>,
) -> Result<ExitCode, Usage> {
    let settings = Settings::load(config.as_deref()).map_err(|e| Usage(e.to_string()))?;
    let component = find_component(component, &settings)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Usage(format!("cannot start the async runtime: {e}")))?;
    let served = rt.block_on(async {
        let runtime = Runtime::new(catalog.clone(), settings, &component)
            .map_err(|e| Usage(format!("{e:#}")))?;
        eprintln!(
            "host-demo: serving {} tools over MCP on stdin/stdout ({})",
            catalog.tools.len(),
            component.display()
        );
        let backend = Arc::new(mcp::RuntimeBackend::new(catalog, runtime));
        let input = tokio::io::BufReader::new(tokio::io::stdin());
        Ok::<_, Usage>(mcp::serve(input, tokio::io::stdout(), backend).await)
    })?;
    // A read of stdin may still be pending on a blocking thread: do not wait for it.
    rt.shutdown_background();
    match served {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("host-demo: MCP connection failed: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(Usage(message)) => {
            eprintln!("host-demo: {message}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, Usage> {
        parse_cli(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn cli_forms() {
        let c = parse(&[
            "--config",
            "c.toml",
            "--component=x.wasm",
            "call",
            "read_file",
            "{}",
        ])
        .ok()
        .unwrap();
        assert_eq!(c.config.unwrap(), PathBuf::from("c.toml"));
        assert_eq!(c.component.unwrap(), PathBuf::from("x.wasm"));
        assert!(matches!(c.command, Command::Call { ref tool, ref args }
            if tool == "read_file" && args.as_deref() == Some("{}")));
        assert!(matches!(
            parse(&["tools"]).ok().unwrap().command,
            Command::Tools
        ));
        assert!(matches!(
            parse(&["call", "list_repositories"]).ok().unwrap().command,
            Command::Call { args: None, .. }
        ));
        assert!(matches!(
            parse(&["--config", "c.toml", "mcp"]).ok().unwrap().command,
            Command::Mcp
        ));
        assert!(matches!(
            parse(&["--config", "c.toml", "serve", "--listen", "127.0.0.1:0"]).ok().unwrap().command,
            Command::Serve { ref args } if args == &["--listen", "127.0.0.1:0"]
        ));
        for bad in [
            &[][..],
            &["list"][..],
            &["tools", "x"][..],
            &["call"][..],
            &["--config"][..],
            &["--verbose", "tools"][..],
            &["call", "a", "{}", "extra"][..],
            &["mcp", "x"][..],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
