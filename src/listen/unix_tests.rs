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
