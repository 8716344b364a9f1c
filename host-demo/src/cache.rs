//! The on-disk cache of precompiled components (`<sha256>.cwasm`).
//!
//! A cached file is native code that runs as soon as it is loaded, and it is found by its name
//! alone, so whoever can write the directory chooses what runs. The cache is used only when
//! the directory and the file belong to the user and nobody else can write them: the
//! directory is created with mode 0700, files with 0600 through a temporary file opened with
//! create-new semantics and renamed into place. A directory or file that fails the check is
//! ignored (the component is compiled in memory, with one warning on stderr).

use std::fs::{File, Metadata, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What the cache holds for one key.
pub enum Lookup {
    /// The precompiled bytes, from a trusted file in a trusted directory.
    Hit(Vec<u8>),
    /// Nothing yet (or unreadable): compile and store.
    Miss,
    /// The file is not trustworthy: compile, and replace it.
    UntrustedFile(String),
    /// The directory is not trustworthy: compile in memory, store nothing.
    UntrustedDir(String),
}

/// The precompiled-component cache directory, if any: `HOST_DEMO_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/bitbucket-connector`, else `~/.cache/bitbucket-connector`.
pub fn cache_dir() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(dir) = var("HOST_DEMO_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("bitbucket-connector"));
    }
    var("HOME").map(|home| {
        PathBuf::from(home)
            .join(".cache")
            .join("bitbucket-connector")
    })
}

/// Why `meta` (of a directory or file) may not be trusted, if it may not.
#[cfg(unix)]
fn distrust(meta: &Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Some(format!("it belongs to user id {}, not to {me}", meta.uid()));
    }
    if meta.mode() & 0o022 != 0 {
        return Some(format!(
            "it is writable by {} (mode {:o})",
            if meta.mode() & 0o002 != 0 {
                "others"
            } else {
                "its group"
            },
            meta.mode() & 0o7777
        ));
    }
    None
}

#[cfg(not(unix))]
fn distrust(_: &Metadata) -> Option<String> {
    Some("ownership cannot be checked on this platform".into())
}

/// Creates `dir` (mode 0700, parents too) if it is missing, and checks it.
fn prepare_dir(dir: &Path) -> Result<(), String> {
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(dir)
            .map_err(|e| format!("it cannot be created ({e})"))?;
    }
    let meta = std::fs::metadata(dir).map_err(|e| format!("it cannot be read ({e})"))?;
    if !meta.is_dir() {
        return Err("it is not a directory".into());
    }
    distrust(&meta).map_or(Ok(()), Err)
}

fn open_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    options
}

/// Looks `file` up in `dir`, checking both (the file's checks run on the opened handle, so
/// what is checked is what is read).
pub fn lookup(dir: &Path, file: &Path) -> Lookup {
    if let Err(why) = prepare_dir(dir) {
        return Lookup::UntrustedDir(why);
    }
    let mut handle: File = match open_options().read(true).open(file) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Lookup::Miss,
        Err(e) => return Lookup::UntrustedFile(format!("it cannot be opened ({e})")),
    };
    let meta = match handle.metadata() {
        Ok(m) => m,
        Err(e) => return Lookup::UntrustedFile(format!("it cannot be read ({e})")),
    };
    if !meta.is_file() {
        return Lookup::UntrustedFile("it is not a regular file".into());
    }
    if let Some(why) = distrust(&meta) {
        return Lookup::UntrustedFile(why);
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    match handle.read_to_end(&mut bytes) {
        Ok(_) => Lookup::Hit(bytes),
        Err(_) => Lookup::Miss,
    }
}

/// Writes `data` to `file` in `dir` (already checked by [`lookup`]): a new temporary file
/// (create-new, mode 0600, not following links) renamed over `file`.
pub fn store(dir: &Path, file: &Path, data: &[u8]) -> std::io::Result<()> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(
        ".{}.{}.{nanos}.tmp",
        file.file_name().and_then(|n| n.to_str()).unwrap_or("cache"),
        std::process::id()
    ));
    let mut options = open_options();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut f| f.write_all(data));
    written
        .and_then(|()| std::fs::rename(&tmp, file))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}

/// The one warning for an ignored cache.
pub fn warn_ignored(what: &str, path: &Path, why: &str) {
    eprintln!(
        "host-demo: warning: not using the precompiled-component cache {what} {}: {why}; compiling the component instead (make it the user's own, mode 0700 for the directory and 0600 for files, or set HOST_DEMO_CACHE_DIR)",
        path.display()
    );
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("host-demo-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_cache_is_private_and_round_trips() {
        let dir = scratch("new").join("nested");
        let file = dir.join("k.cwasm");
        assert!(matches!(lookup(&dir, &file), Lookup::Miss));
        assert_eq!(mode(&dir), 0o700);
        store(&dir, &file, b"code").unwrap();
        assert_eq!(mode(&file), 0o600);
        assert!(matches!(lookup(&dir, &file), Lookup::Hit(b) if b == b"code"));
        let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    }

    #[test]
    fn writable_by_others_is_not_trusted() {
        let dir = scratch("open");
        let file = dir.join("k.cwasm");
        assert!(matches!(lookup(&dir, &file), Lookup::Miss));
        store(&dir, &file, b"code").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(
            matches!(lookup(&dir, &file), Lookup::UntrustedFile(why) if why.contains("others"))
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770)).unwrap();
        assert!(matches!(lookup(&dir, &file), Lookup::UntrustedDir(why) if why.contains("group")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_symlinked_cache_file_is_not_followed() {
        let dir = scratch("link");
        let file = dir.join("k.cwasm");
        assert!(matches!(lookup(&dir, &file), Lookup::Miss));
        std::fs::write(dir.join("elsewhere"), b"code").unwrap();
        std::os::unix::fs::symlink(dir.join("elsewhere"), &file).unwrap();
        assert!(matches!(lookup(&dir, &file), Lookup::UntrustedFile(_)));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
