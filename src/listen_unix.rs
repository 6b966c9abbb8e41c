//! Unix-domain socket listeners for `-L /path:...`, as ssh makes them: the
//! socket file is created under StreamLocalBindMask (default 0177, so only the
//! owner may connect), an old socket in the way is removed first when
//! StreamLocalBindUnlink is set, and the file is removed again when the
//! listener is dropped (forward cancelled or sshtun exiting).

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::task::{Context, Poll};

use anyhow::{Result, anyhow};
use tokio::net::{UnixListener, UnixStream};

use crate::listen::{Accept, UNIX_PEER};

/// ssh's default StreamLocalBindMask.
pub const DEFAULT_MASK: u32 = 0o177;

/// How Unix socket listeners are created (StreamLocalBindUnlink/Mask).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLocal {
    pub unlink: bool,
    pub mask: u32,
}

impl Default for StreamLocal {
    fn default() -> Self {
        StreamLocal {
            unlink: false,
            mask: DEFAULT_MASK,
        }
    }
}

/// A bound Unix socket whose file goes away with it.
pub struct UnixSocketListener {
    listener: UnixListener,
    path: PathBuf,
    /// (device, inode) of the file we created, so a file someone else put
    /// there later is left alone.
    identity: Option<(u64, u64)>,
}

/// umask is per process: binds take turns so each sees its own mask.
static UMASK: Mutex<()> = Mutex::new(());

/// Binds `path` as StreamLocalBindUnlink/Mask say. Errors name the path.
pub fn bind(path: &Path, options: StreamLocal) -> Result<UnixSocketListener> {
    let context =
        |e: io::Error| anyhow!(e).context(format!("could not listen on {}", path.display()));
    if options.unlink {
        // Only a socket is removed: a regular file in the way is a mistake
        // worth an error, not something to delete.
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if meta.file_type().is_socket() {
                std::fs::remove_file(path).map_err(context)?;
            }
        }
    }
    let listener = {
        let _turn = UMASK.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: umask only swaps the process's file mode mask; it is put back
        // right after the bind.
        let previous = unsafe { libc::umask((options.mask & 0o777) as libc::mode_t) };
        let bound = std::os::unix::net::UnixListener::bind(path);
        unsafe { libc::umask(previous) };
        bound.map_err(context)?
    };
    listener.set_nonblocking(true).map_err(context)?;
    let identity = std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()));
    Ok(UnixSocketListener {
        listener: UnixListener::from_std(listener).map_err(context)?,
        path: path.to_path_buf(),
        identity,
    })
}

impl UnixSocketListener {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Accept for UnixSocketListener {
    type Stream = UnixStream;

    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(UnixStream, std::net::SocketAddr)>> {
        self.listener
            .poll_accept(cx)
            .map_ok(|(stream, _)| (stream, UNIX_PEER))
    }
}

impl Drop for UnixSocketListener {
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        if ours.is_some() && ours == self.identity {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[tokio::test]
    async fn mask_unlink_and_removal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sock");
        let listener = bind(&path, StreamLocal::default()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "default mask 0177");
        // A second bind without unlink fails and names the path.
        let err = bind(&path, StreamLocal::default()).err().unwrap();
        assert!(format!("{err:#}").contains(&path.display().to_string()));
        drop(listener);
        assert!(!path.exists(), "the socket file is removed on drop");

        // A stale socket is replaced with unlink, under another mask.
        let stale = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let options = StreamLocal {
            unlink: true,
            mask: 0o117,
        };
        let listener = bind(&path, options).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o660);
        drop(stale);
        drop(listener);

        // A regular file in the way is never deleted.
        std::fs::write(&path, "data").unwrap();
        assert!(bind(&path, options).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "data");
    }
}
