//! The libc calls std does not wrap, each behind a safe function with its
//! SAFETY note. This is the only module allowed `unsafe` (the crate root
//! denies it elsewhere), so a new libc call lands here, next to the others.

use std::collections::HashSet;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::Mutex;

/// The real user id.
pub fn uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// The effective user id.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// This machine's host name ("" when it cannot be read).
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length; gethostname writes at most that.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Whether a process `pid` exists (kill with signal 0; one we may not signal
/// exists too).
pub fn process_exists(pid: i32) -> bool {
    // SAFETY: kill with signal 0 sends nothing; it only checks the process.
    if unsafe { libc::kill(pid, 0) } == 0 {
        return true;
    }
    io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Makes descriptor `target` (0, 1 or 2) refer to what `file` refers to.
/// Rust's std handles name the standard descriptors by number, so they stay valid.
pub fn dup_onto(file: &impl AsFd, target: RawFd) -> io::Result<()> {
    // SAFETY: both descriptors are open (`file` is borrowed for the call);
    // dup2 closes whatever `target` was and owns no Rust object's memory.
    if unsafe { libc::dup2(file.as_fd().as_raw_fd(), target) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The device and inode of what `fd` refers to, None when it is not open.
pub fn identity(fd: &impl AsFd) -> Option<(u64, u64)> {
    // SAFETY: stat is plain data; fstat fills the struct it is given for an
    // open descriptor and leaves it alone on failure.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above; the descriptor is borrowed for the call.
    if unsafe { libc::fstat(fd.as_fd().as_raw_fd(), &mut stat) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast)] // the field types differ between targets
    Some((stat.st_dev as u64, stat.st_ino as u64))
}

/// Whether `fd` can be written now without blocking (and has no error).
pub fn writable_now(fd: &impl AsFd) -> bool {
    let mut poll = libc::pollfd {
        fd: fd.as_fd().as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: poll reads and writes the one pollfd it is given, without waiting.
    let n = unsafe { libc::poll(&mut poll, 1, 0) };
    n == 1 && poll.revents & libc::POLLOUT != 0 && poll.revents & libc::POLLERR == 0
}

/// Whether descriptor number `fd` is open in this process.
pub fn fd_is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only inspects the descriptor table.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

/// Descriptors already taken by [`take_inherited_fd`].
static TAKEN: Mutex<Option<HashSet<RawFd>>> = Mutex::new(None);

/// Takes ownership of descriptor `fd` (above 2), which this process inherited
/// to write to (`--ready-fd N`), and marks it close-on-exec so programs sshtun
/// starts do not keep it open. Each number can be taken once.
pub fn take_inherited_fd(fd: RawFd) -> io::Result<File> {
    if fd < 3 || !fd_is_open(fd) {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
    if !taken.get_or_insert_with(HashSet::new).insert(fd) {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("descriptor {fd} is already in use"),
        ));
    }
    // SAFETY: F_SETFD changes only the close-on-exec flag of an open descriptor.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    // SAFETY: the descriptor is open and was inherited for exactly this use;
    // nothing else in the process owns it, and TAKEN hands it out only once.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// A pipe whose two ends are close-on-exec: (read end, write end).
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Lets the program `command` starts inherit `fd` (clears close-on-exec in
/// the child only, between fork and exec).
pub fn inherit_in_child(command: &mut Command, fd: RawFd) {
    // SAFETY: the closure runs in the forked child before exec; fcntl is
    // async-signal-safe and touches only that descriptor's flag.
    unsafe {
        command.pre_exec(move || {
            if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Starts a new session with this process as its leader (no controlling
/// terminal); fails harmlessly when it already leads one.
pub fn setsid() {
    // SAFETY: setsid only changes this process's session and has no arguments.
    unsafe { libc::setsid() };
}

/// The terminal settings of `fd`; an error when it is not a terminal.
pub fn terminal_settings(fd: &impl AsFd) -> io::Result<libc::termios> {
    // SAFETY: termios is plain data, all-zero is a valid value.
    let mut settings: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: tcgetattr fills the struct it is given for a borrowed, open descriptor.
    if unsafe { libc::tcgetattr(fd.as_fd().as_raw_fd(), &mut settings) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(settings)
}

/// Applies terminal `settings` to `fd` at once (TCSANOW).
pub fn set_terminal_settings(fd: &impl AsFd, settings: &libc::termios) -> io::Result<()> {
    // SAFETY: tcsetattr reads the struct it is given; the descriptor is borrowed.
    if unsafe { libc::tcsetattr(fd.as_fd().as_raw_fd(), libc::TCSANOW, settings) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// RLIMIT_NOFILE as (soft, hard), None when it cannot be read.
pub fn open_files_limit() -> Option<(u64, u64)> {
    // SAFETY: rlimit is plain data, all-zero is a valid value.
    let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: getrlimit writes only the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
    Some((limit.rlim_cur as u64, limit.rlim_max as u64))
}

/// Sets RLIMIT_NOFILE's soft limit (the hard one stays `hard`).
pub fn set_open_files_limit(soft: u64, hard: u64) -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: setrlimit reads only the struct it is given.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Gives glibc malloc's free pages back to the system (nothing elsewhere).
pub fn malloc_trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers and only walks glibc's own heap.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inherited_descriptor_is_taken_once() {
        let (read, write) = pipe().unwrap();
        let fd = write.as_raw_fd();
        // Hand the descriptor over as if inherited: `write` gives up ownership.
        let raw = std::os::fd::IntoRawFd::into_raw_fd(write);
        let file = take_inherited_fd(raw).unwrap();
        assert_eq!(
            take_inherited_fd(fd).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        assert!(take_inherited_fd(1).is_err(), "stdout is never taken");
        drop((file, read));
    }

    #[test]
    fn identity_tells_descriptors_apart() {
        let a = tempfile::tempfile().unwrap();
        let b = tempfile::tempfile().unwrap();
        assert!(identity(&a).is_some());
        assert_ne!(identity(&a), identity(&b));
        assert_eq!(identity(&a), identity(&a.try_clone().unwrap()));
    }

    #[test]
    fn this_process_exists() {
        assert!(process_exists(std::process::id() as i32));
    }
}
