//! Where `host-demo` takes its component from: `--component`, the config file's `component`
//! (relative to the file), or next to the executable (the build tree, or the install layout
//! `PREFIX/bin/host-demo` + `PREFIX/lib/bitbucket-connector/bitbucket_connector.wasm`); never
//! from the working directory, where an MCP client's project folder could plant one that
//! would receive the credentials. The planted component here is `tests/misbehaving-guest`,
//! whose `search_code` echoes the query and whose `list_repositories` traps.

mod common;

use common::{component, host_demo, target_dir};
use fake_bitbucket::FakeBitbucket;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn misbehaving_component() -> PathBuf {
    let p = target_dir().join("wasm32-wasip2/component/misbehaving_guest.wasm");
    assert!(p.exists(), "{} is missing: run `make build`", p.display());
    p
}

/// A fresh scratch directory below the target directory (same file system as the binary,
/// so that it can be hard-linked).
fn scratch(name: &str) -> PathBuf {
    let dir = target_dir()
        .join("tmp")
        .join(format!("component-source-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Puts `file` at `to`, creating the directories.
fn place(file: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    if std::fs::hard_link(file, to).is_err() {
        std::fs::copy(file, to).unwrap();
    }
}

/// An untrusted checkout with a component planted where the old fallback looked.
fn project_with_planted_component(root: &Path) -> PathBuf {
    let project = root.join("project");
    place(
        &misbehaving_component(),
        &project.join("target/wasm32-wasip2/component/bitbucket_connector.wasm"),
    );
    project
}

/// Runs `exe ARGS…` in `cwd` against `fake`, with no `--component`.
fn run(exe: &Path, cwd: &Path, fake: &FakeBitbucket, args: &[&str]) -> Output {
    Command::new(exe)
        .current_dir(cwd)
        .env_clear()
        .env("BITBUCKET_WORKSPACE", "acme")
        .env("BITBUCKET_API_BASE_URL", fake.base_url())
        .env("BITBUCKET_TOKEN", "test-token-valid")
        .env(
            "HOST_DEMO_CACHE_DIR",
            target_dir().join("host-demo-test-cache"),
        )
        .args(args)
        .output()
        .expect("run host-demo")
}

/// The real component answered `list_repositories` (the planted one traps).
fn assert_real_component_answered(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        !v["repositories"].as_array().unwrap().is_empty(),
        "{stdout}"
    );
}

#[test]
fn a_component_in_the_working_directory_is_never_loaded() {
    let fake = FakeBitbucket::start();
    let root = scratch("planted");
    let project = project_with_planted_component(&root);
    // An installed host-demo with nothing beside it.
    let exe = root.join("prefix/bin/host-demo");
    place(&host_demo(), &exe);

    let out = run(
        &exe,
        &project,
        &fake,
        &["call", "search_code", r#"{"query": "planted"}"#],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "no component: exit 2, not the planted one (stdout: {})",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty(), "nothing ran");
    for guidance in ["--component", "component = ", "lib/bitbucket-connector"] {
        assert!(stderr.contains(guidance), "says how to pass one: {stderr}");
    }
    assert!(fake.requests().is_empty());

    // The MCP server refuses to start the same way.
    let out = run(&exe, &project, &fake, &["mcp"]);
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn the_install_layout_and_the_build_tree_are_found_next_to_the_executable() {
    let fake = FakeBitbucket::start();
    let root = scratch("install");
    let project = project_with_planted_component(&root);
    let exe = root.join("prefix/bin/host-demo");
    place(&host_demo(), &exe);
    place(
        &component(),
        &root.join("prefix/lib/bitbucket-connector/bitbucket_connector.wasm"),
    );
    assert_real_component_answered(&run(&exe, &project, &fake, &["call", "list_repositories"]));

    // The build tree: target/release/host-demo finds target/wasm32-wasip2/component/.
    assert_real_component_answered(&run(
        &host_demo(),
        &project,
        &fake,
        &["call", "list_repositories"],
    ));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn the_config_file_names_the_component_relative_to_itself() {
    let fake = FakeBitbucket::start();
    let root = scratch("config");
    let project = project_with_planted_component(&root);
    let exe = root.join("prefix/bin/host-demo");
    place(&host_demo(), &exe);
    let config_dir = root.join("etc");
    place(&component(), &config_dir.join("components/connector.wasm"));
    std::fs::write(
        config_dir.join("connector.toml"),
        "component = \"components/connector.wasm\"\n",
    )
    .unwrap();
    let config = config_dir.join("connector.toml");
    let config = config.to_str().unwrap();
    assert_real_component_answered(&run(
        &exe,
        &project,
        &fake,
        &["--config", config, "call", "list_repositories"],
    ));

    // A `component` that does not exist is named, and nothing else is tried.
    std::fs::write(
        config_dir.join("missing.toml"),
        "component = \"nope.wasm\"\n",
    )
    .unwrap();
    let missing = config_dir.join("missing.toml");
    let out = run(
        &host_demo(),
        &project,
        &fake,
        &[
            "--config",
            missing.to_str().unwrap(),
            "call",
            "list_repositories",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nope.wasm"), "{stderr}");
    let _ = std::fs::remove_dir_all(&root);
}
