//! `--pidfile FILE`: the process id, written without following a symbolic
//! link (a link planted in a shared directory must not make sshtun write
//! elsewhere), and removed at exit only while it still holds our id (a second
//! instance that took the file over keeps it).

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The written pid file; removed on drop if it is still ours.
pub struct PidFile {
    path: PathBuf,
}

/// Writes our process id to `path` (mode 0644; a symlink is refused).
pub fn write(path: &Path) -> Result<PidFile> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => format!(
                "refusing to write the pid file {}: it is a symbolic link",
                path.display()
            ),
            _ => format!("could not write the pid file {}", path.display()),
        })?;
    writeln!(file, "{}", std::process::id())
        .with_context(|| format!("could not write the pid file {}", path.display()))?;
    Ok(PidFile {
        path: path.to_path_buf(),
    })
}

/// The pid a file holds, read without following a symlink.
fn holder(path: &Path) -> Option<u32> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .ok()?;
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if holder(&self.path) == Some(std::process::id()) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_removed_and_left_to_its_new_owner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tun.pid");
        let pid = write(&path).unwrap();
        assert_eq!(holder(&path), Some(std::process::id()));
        drop(pid);
        assert!(!path.exists(), "removed at exit");

        let pid = write(&path).unwrap();
        std::fs::write(&path, "1\n").unwrap(); // another instance took it over
        drop(pid);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "1\n");

        let target = dir.path().join("victim");
        std::fs::write(&target, "precious").unwrap();
        let link = dir.path().join("link.pid");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = format!("{:#}", write(&link).err().unwrap());
        assert!(err.contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    }
}
