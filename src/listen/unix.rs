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

pub use crate::config::{DEFAULT_MASK, StreamLocal};

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
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// The process's umask as /proc shows it (reading it with umask(2) would
    /// change it).
    fn process_umask() -> Option<u32> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("Umask:"))?;
        u32::from_str_radix(line.split_whitespace().nth(1)?, 8).ok()
    }

    /// Binding never changes the process-wide umask, which every other thread's
    /// file creation depends on: a thread watching it while sockets are bound
    /// sees one value throughout.
    #[test]
    fn binding_leaves_the_process_umask_alone() {
        let Some(before) = process_umask() else {
            panic!("no Umask line in /proc/self/status");
        };
        let dir = tempfile::tempdir().unwrap();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watcher = {
            let done = done.clone();
            std::thread::spawn(move || {
                let mut seen = std::collections::BTreeSet::new();
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    seen.extend(process_umask());
                }
                seen
            })
        };
        let mask = if before == 0o077 { 0o177 } else { 0o077 };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        let _guard = rt.enter();
        for n in 0..2000 {
            let path = dir.path().join(format!("s{}", n % 4));
            let options = StreamLocal { unlink: true, mask };
            drop(bind(&path, options).unwrap());
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let seen = watcher.join().unwrap();
        assert_eq!(
            seen.into_iter().collect::<Vec<_>>(),
            [before],
            "umask values seen while binding (process umask 0{before:o}, bind mask 0{mask:o})"
        );
    }

    #[tokio::test]
    async fn modes_are_exact_whatever_the_umask_and_nothing_is_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        for mask in [0o177, 0o117, 0o111, 0o000, 0o077] {
            let path = dir.path().join("m.sock");
            let listener = bind(
                &path,
                StreamLocal {
                    unlink: false,
                    mask,
                },
            )
            .unwrap();
            let mode = std::fs::symlink_metadata(&path)
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o777 & !mask, "mask 0{mask:o}");
            // A client reaches the listener through the final path.
            let client = UnixStream::connect(&path).await.unwrap();
            let (_accepted, _) = std::future::poll_fn(|cx| listener.poll_accept(cx))
                .await
                .unwrap();
            drop(client);
            drop(listener);
            let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert!(left.is_empty(), "mask 0{mask:o}: left behind {left:?}");
        }
        // A path near sun_path's 107-byte limit in a deep directory, where
        // the private name would not fit: it still binds, with its mode.
        let deep = dir
            .path()
            .join("d".repeat(96 - dir.path().as_os_str().len()));
        std::fs::create_dir(&deep).unwrap();
        let path = deep.join("s.sock");
        assert_eq!(path.as_os_str().len(), 104);
        let listener = bind(&path, StreamLocal::default()).unwrap();
        let mode = std::fs::symlink_metadata(&path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let _client = UnixStream::connect(&path).await.unwrap();
        drop(listener);
        assert_eq!(
            std::fs::read_dir(&deep).unwrap().count(),
            0,
            "nothing left behind"
        );
    }

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
