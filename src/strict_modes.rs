//! File ownership and mode checks in the spirit of sshd's StrictModes: a file
//! that decides what sshtun trusts (a configuration file, an authorized_keys
//! file, a host key) is refused when someone other than its user (or root)
//! could have written it, or, for a private key, read it.
//!
//! - [`check_config`]: ssh's rule for `~/.ssh/config` (readconf.c): owned by
//!   root or the user, not writable by group or others. Used for the user's
//!   ssh_config and its includes, and for the tunnels file of `sshtun up`.
//! - [`check_authorized_keys`]: sshd's `safe_path`: the file and every
//!   directory above it up to the home directory (or `/` outside it) owned by
//!   root or the user and not writable by group or others.
//! - [`check_private_key`]: sshd's rule for host keys: one the user owns must
//!   not be readable or writable by anyone else; one root owns may be
//!   readable but not writable by others.

use std::fs::{File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

fn uid() -> u32 {
    crate::sys::uid()
}

fn owner_ok(meta: &Metadata) -> bool {
    meta.uid() == 0 || meta.uid() == uid()
}

/// Who owns `meta` and what its mode is, for messages.
fn describe(meta: &Metadata) -> String {
    format!("owner uid {}, mode 0{:o}", meta.uid(), meta.mode() & 0o7777)
}

/// Opens `path` for reading and checks it as a configuration file; the
/// check is made on the opened file, so it cannot be swapped in between.
pub fn open_config(path: &Path) -> std::io::Result<Result<File>> {
    let file = File::open(path)?;
    Ok(check_config(&file, path).map(|()| file))
}

/// ssh's check of `~/.ssh/config`: owned by root or the user and not
/// writable by group or others. The message is ssh's.
pub fn check_config(file: &File, path: &Path) -> Result<()> {
    let meta = file
        .metadata()
        .with_context(|| format!("cannot stat {}", path.display()))?;
    if !owner_ok(&meta) || meta.mode() & 0o022 != 0 {
        bail!(
            "Bad owner or permissions on {} ({}): it must belong to you or root and be \
             writable by no one else",
            path.display(),
            describe(&meta)
        );
    }
    Ok(())
}

/// sshd's StrictModes check of an authorized_keys file: a regular file, and it
/// and each directory above it, up to `home` when it lies inside (else up to
/// `/`), owned by root or the user and writable by no one else.
pub fn check_authorized_keys(path: &Path, home: Option<&Path>) -> Result<()> {
    let real = std::fs::canonicalize(path)
        .with_context(|| format!("cannot resolve {}", path.display()))?;
    if real == Path::new("/dev/null") {
        // Always empty, whoever can write it: the usual way to say "no keys".
        return Ok(());
    }
    let meta =
        std::fs::metadata(&real).with_context(|| format!("cannot stat {}", real.display()))?;
    if !meta.is_file() {
        bail!("{} is not a regular file", real.display());
    }
    if !owner_ok(&meta) || meta.mode() & 0o022 != 0 {
        bail!(
            "bad ownership or modes for file {} ({})",
            real.display(),
            describe(&meta)
        );
    }
    let home: Option<PathBuf> = home.and_then(|h| std::fs::canonicalize(h).ok());
    let mut dir = real.parent();
    while let Some(d) = dir {
        let meta = std::fs::metadata(d).with_context(|| format!("cannot stat {}", d.display()))?;
        if !owner_ok(&meta) || meta.mode() & 0o022 != 0 {
            bail!(
                "bad ownership or modes for directory {} ({})",
                d.display(),
                describe(&meta)
            );
        }
        if home.as_deref() == Some(d) {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}

/// sshd's check of a private host key file: if the user owns it, no one
/// else may read or write it; if root does, no one else may write it; any
/// other owner could replace it.
pub fn check_private_key(path: &Path) -> Result<()> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot stat {}", path.display()))?;
    let mode = meta.mode() & 0o777;
    let too_open = if meta.uid() == uid() {
        mode & 0o077 != 0
    } else {
        meta.uid() != 0 || mode & 0o022 != 0
    };
    if too_open {
        bail!(
            "UNPROTECTED PRIVATE KEY FILE {} ({}): a private key must not be readable or \
             writable by anyone but its owner (chmod 600)",
            path.display(),
            describe(&meta)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn config_files_writable_by_others_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "").unwrap();
        for (mode, ok) in [
            (0o600, true),
            (0o644, true),
            (0o444, true),
            (0o664, false),
            (0o602, false),
        ] {
            chmod(&path, mode);
            let result = open_config(&path).unwrap();
            assert_eq!(result.is_ok(), ok, "{mode:o}: {result:?}");
        }
        assert!(open_config(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn authorized_keys_paths_are_walked_up_to_home() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let ssh = home.join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        chmod(dir.path(), 0o700);
        chmod(&home, 0o755);
        chmod(&ssh, 0o700);
        let keys = ssh.join("authorized_keys");
        std::fs::write(&keys, "").unwrap();
        chmod(&keys, 0o644);
        check_authorized_keys(&keys, Some(&home)).unwrap();
        chmod(&keys, 0o664);
        let err = check_authorized_keys(&keys, Some(&home)).unwrap_err();
        assert!(
            format!("{err}").contains("bad ownership or modes for file"),
            "{err}"
        );
        chmod(&keys, 0o600);
        chmod(&ssh, 0o777);
        let err = check_authorized_keys(&keys, Some(&home)).unwrap_err();
        assert!(format!("{err}").contains(".ssh"), "{err}");
        chmod(&ssh, 0o700);
        chmod(&home, 0o775);
        assert!(check_authorized_keys(&keys, Some(&home)).is_err());
        chmod(&home, 0o755);
        // Above home nothing is looked at (the temporary directory's parent is
        // /tmp, writable by all); outside home the walk goes up to / and stops there.
        chmod(dir.path(), 0o777);
        check_authorized_keys(&keys, Some(&home)).unwrap();
        let err = check_authorized_keys(&keys, None).unwrap_err();
        assert!(format!("{err}").contains("directory"), "{err}");
        assert!(
            check_authorized_keys(&ssh, Some(&home)).is_err(),
            "a directory"
        );
    }

    #[test]
    fn private_keys_readable_by_others_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        std::fs::write(&key, "").unwrap();
        chmod(&key, 0o600);
        check_private_key(&key).unwrap();
        for mode in [0o640, 0o604, 0o660] {
            chmod(&key, mode);
            let err = check_private_key(&key).unwrap_err();
            assert!(format!("{err}").contains("UNPROTECTED"), "{mode:o}: {err}");
        }
    }
}
