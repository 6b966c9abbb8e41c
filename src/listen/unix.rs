//! Unix-domain socket listeners for `-L /path:...`, as ssh makes them: the
//! socket file is created under StreamLocalBindMask (default 0177, so only the
//! owner may connect), an old socket in the way is removed first when
//! StreamLocalBindUnlink is set, and the file is removed again when the
//! listener is dropped (forward cancelled or sshtun exiting).
//!
//! ssh sets the process umask around bind(2); in a multi-threaded process
//! that changes the mode of every file other threads create meanwhile. Here
//! the socket is bound inside a fresh 0700 directory next to the target (so
//! no one else can reach or replace it), given its exact mode there, then
//! hard-linked into place (link(2) fails rather than replace anything) and
//! the private name removed. The file never exists at its final path with
//! looser permissions, and no process-wide state changes. (fchmod(2) on the
//! socket before bind is honoured by Linux, but only as `mode & ~umask`, and
//! not by every Unix; widening afterwards would be a chmod by path, open to a
//! swapped file.)

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::task::{Context, Poll};

use anyhow::{Result, anyhow};
use tokio::net::{UnixListener, UnixStream};

use crate::listen::{Accept, UNIX_PEER};

use crate::config::StreamLocal;

/// A bound Unix socket whose file goes away with it.
pub struct UnixSocketListener {
    listener: UnixListener,
    path: PathBuf,
    /// (device, inode) of the file we created, so a file someone else put
    /// there later is left alone.
    identity: Option<(u64, u64)>,
}

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
    let listener = bind_with_mode(path, 0o777 & !options.mask).map_err(context)?;
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

/// The longest path bind(2) takes (sun_path is 108 bytes with its NUL).
const SUN_PATH_MAX: usize = 107;

/// A 0700 directory next to the socket, removed (with what is left in it)
/// when dropped.
struct PrivateDir {
    path: PathBuf,
}

impl PrivateDir {
    fn create_in(parent: &Path) -> io::Result<PrivateDir> {
        use std::os::unix::fs::DirBuilderExt;
        for _ in 0..8 {
            let suffix = getrandom::u32().map_err(|e| io::Error::other(e.to_string()))?;
            let path = parent.join(format!(".sshtun-{suffix:08x}"));
            match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(PrivateDir { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("could not create a private directory"))
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.path.join("s"));
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// Binds a listening socket at `path` with exactly `mode`, without touching
/// the umask (see the module docs). Fails, as bind does, if `path` exists.
fn bind_with_mode(path: &Path, mode: u32) -> io::Result<std::os::unix::net::UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let private = PrivateDir::create_in(parent)?;
    let temporary = private.path.join("s");
    // The private name is 17 bytes longer than the target's; past sun_path's
    // limit, reach the directory through a short /proc/self/fd name (Linux).
    let dir_handle;
    let bind_at = if temporary.as_os_str().len() <= SUN_PATH_MAX {
        temporary.clone()
    } else {
        dir_handle = std::fs::File::open(&private.path)?;
        PathBuf::from(format!("/proc/self/fd/{}/s", dir_handle.as_raw_fd()))
    };
    let listener = std::os::unix::net::UnixListener::bind(&bind_at)?;
    std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(mode))?;
    match std::fs::hard_link(&temporary, path) {
        Ok(()) => Ok(listener),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Err(io::Error::from_raw_os_error(libc::EADDRINUSE))
        }
        Err(e) => Err(e),
    }
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

/// A plain Unix listener (the control socket): peers as [`UNIX_PEER`].
impl Accept for UnixListener {
    type Stream = UnixStream;

    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(UnixStream, std::net::SocketAddr)>> {
        UnixListener::poll_accept(self, cx).map_ok(|(stream, _)| (stream, UNIX_PEER))
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
#[path = "unix_tests.rs"]
mod tests;
