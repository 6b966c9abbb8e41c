//! Where control sockets may live. The default directory
//! (`$XDG_RUNTIME_DIR/sshtun`, else `/tmp/sshtun-UID`) is created 0700 and,
//! when it already exists, used only if it is a real directory (not a
//! symlink), owned by us and closed to group and others: in a shared /tmp
//! another user could otherwise create it first and answer our `ctl`
//! requests. Nothing here ever changes an existing directory's mode.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Our effective uid.
pub fn euid() -> u32 {
    crate::sys::euid()
}

/// Creates `dir` (mode 0700; its parent must exist) or checks the one there.
pub fn ensure_private(dir: &Path) -> Result<()> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(e).with_context(|| format!("could not create {}", dir.display()));
        }
    }
    check_private(dir)
}

/// Creates the directory `path` goes in when it is missing (one level,
/// mode 0700); an existing one is left exactly as it is.
pub fn create_parent(path: &Path) -> Result<()> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if std::fs::symlink_metadata(dir).is_ok() {
        return Ok(());
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            Err(e).with_context(|| format!("could not create {}", dir.display()))
        }
        _ => Ok(()),
    }
}

/// Refuses `dir` unless it is a directory (not a symlink) owned by us with
/// no access for group or others.
pub fn check_private(dir: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(dir)
        .with_context(|| format!("could not inspect {}", dir.display()))?;
    if meta.file_type().is_symlink() {
        bail!("refusing to use {}: it is a symbolic link", dir.display());
    }
    if !meta.is_dir() {
        bail!("refusing to use {}: not a directory", dir.display());
    }
    if meta.uid() != euid() {
        bail!(
            "refusing to use {}: owned by uid {}, not {} (someone else may have created it)",
            dir.display(),
            meta.uid(),
            euid()
        );
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "refusing to use {}: mode {mode:04o} lets others in (chmod 700 it)",
            dir.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_dirs_are_created_and_loose_or_linked_ones_refused() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("sshtun");
        ensure_private(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        ensure_private(&dir).unwrap(); // again: already there, fine

        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = format!("{:#}", ensure_private(&dir).unwrap_err());
        assert!(err.contains("mode 0755"), "{err}");
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755, "an existing directory's mode is never changed");

        let link = root.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        let err = format!("{:#}", ensure_private(&link).unwrap_err());
        assert!(err.contains("symbolic link"), "{err}");

        let missing = root.path().join("no/such");
        let err = format!("{:#}", ensure_private(&missing).unwrap_err());
        assert!(err.contains("could not create"), "{err}");
    }
}
