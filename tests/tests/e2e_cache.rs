//! The precompiled-component cache cannot be used to run someone else's native code: a cache
//! directory or file that is not the user's own, or that others can write, is ignored (one
//! warning on standard error) and the real component is compiled instead. The planted file is
//! `tests/misbehaving-guest` precompiled under the real component's cache name; its
//! `list_repositories` traps, the real one lists the sample workspace.

mod common;

use common::{Host, component, target_dir};
use fake_bitbucket::FakeBitbucket;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A fresh cache directory (not yet created) below the target directory.
fn scratch(name: &str) -> PathBuf {
    let dir = target_dir()
        .join("tmp")
        .join(format!("cache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The cache file name the host uses for the real component.
fn cache_file(dir: &Path) -> PathBuf {
    let engine = host_demo::runtime::new_engine().unwrap();
    let bytes = std::fs::read(component()).unwrap();
    dir.join(format!(
        "{}.cwasm",
        host_demo::runtime::cache_key(&engine, &bytes)
    ))
}

/// Native code of the misbehaving guest, compiled for the host's engine.
fn planted_code() -> Vec<u8> {
    let engine = host_demo::runtime::new_engine().unwrap();
    let guest =
        std::fs::read(target_dir().join("wasm32-wasip2/component/misbehaving_guest.wasm")).unwrap();
    engine.precompile_component(&guest).unwrap()
}

fn set_mode(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Runs list_repositories with `dir` as the cache; (the real component answered, stderr).
fn list_with_cache(fake: &FakeBitbucket, dir: &Path) -> (bool, String) {
    let out = Host::new(fake)
        .env("HOST_DEMO_CACHE_DIR", dir.to_str().unwrap())
        .run(&["call", "list_repositories", "{}"]);
    let real = out.code == 0 && out.json()["repositories"].as_array().is_some();
    (real, out.stderr)
}

fn warnings(stderr: &str) -> usize {
    stderr.lines().filter(|l| l.contains("warning")).count()
}

#[test]
fn a_new_cache_is_private_and_reused_without_warnings() {
    let fake = FakeBitbucket::start();
    let dir = scratch("new").join("nested");
    let (real, stderr) = list_with_cache(&fake, &dir);
    assert!(real, "{stderr}");
    assert_eq!(warnings(&stderr), 0, "{stderr}");
    assert_eq!(mode(&dir), 0o700, "the cache directory is the user's alone");
    assert_eq!(mode(&cache_file(&dir)), 0o600);
    let (real, stderr) = list_with_cache(&fake, &dir);
    assert!(real && warnings(&stderr) == 0, "{stderr}");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[test]
fn a_cache_directory_others_can_write_is_ignored() {
    let fake = FakeBitbucket::start();
    for dir_mode in [0o777, 0o770, 0o757] {
        let dir = scratch(&format!("open-dir-{dir_mode:o}"));
        std::fs::create_dir_all(&dir).unwrap();
        set_mode(&dir, dir_mode);
        let file = cache_file(&dir);
        let planted = planted_code();
        std::fs::write(&file, &planted).unwrap();
        set_mode(&file, 0o600);

        let (real, stderr) = list_with_cache(&fake, &dir);
        assert!(real, "mode {dir_mode:o}: the planted code ran: {stderr}");
        assert_eq!(warnings(&stderr), 1, "one warning: {stderr}");
        assert!(stderr.contains("directory"), "{stderr}");
        assert_eq!(
            std::fs::read(&file).unwrap(),
            planted,
            "nothing is written into an untrusted directory"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_cache_file_others_can_write_is_ignored_and_replaced() {
    let fake = FakeBitbucket::start();
    let dir = scratch("open-file");
    // A first run creates the directory (0700) and a good file.
    assert!(list_with_cache(&fake, &dir).0);
    let file = cache_file(&dir);
    for file_mode in [0o666, 0o620, 0o602] {
        let planted = planted_code();
        std::fs::remove_file(&file).unwrap();
        std::fs::write(&file, &planted).unwrap();
        set_mode(&file, file_mode);

        let (real, stderr) = list_with_cache(&fake, &dir);
        assert!(real, "mode {file_mode:o}: the planted code ran: {stderr}");
        assert_eq!(warnings(&stderr), 1, "one warning: {stderr}");
        assert_ne!(std::fs::read(&file).unwrap(), planted, "replaced");
        assert_eq!(mode(&file), 0o600);
        let (real, stderr) = list_with_cache(&fake, &dir);
        assert!(real && warnings(&stderr) == 0, "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_cache_that_belongs_to_another_user_is_ignored() {
    let fake = FakeBitbucket::start();
    let dir = scratch("other-user");
    std::fs::create_dir_all(&dir).unwrap();
    set_mode(&dir, 0o700);
    let file = cache_file(&dir);
    std::fs::write(&file, planted_code()).unwrap();
    set_mode(&file, 0o644);
    // Only root can give a file away; as another user this part cannot run.
    if std::os::unix::fs::chown(&file, Some(65534), Some(65534)).is_err() {
        eprintln!("skipped: not allowed to chown (not root)");
        return;
    }
    let (real, stderr) = list_with_cache(&fake, &dir);
    assert!(real, "the other user's code ran: {stderr}");
    assert_eq!(warnings(&stderr), 1, "{stderr}");
    assert!(stderr.contains("belongs to user id 65534"), "{stderr}");

    // The directory itself given away: ignored, nothing written.
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
    let (real, stderr) = list_with_cache(&fake, &dir);
    assert!(real && warnings(&stderr) == 1, "{stderr}");
    assert!(
        !file.exists(),
        "nothing is written into another user's directory"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
