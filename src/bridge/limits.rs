//! How many far-end bytes may wait for local readers, and where: the tiers
//! of [`super::backlog`], set once per process from the command line.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use crate::ssh_config::values::parse_size;

/// Bytes one connection keeps in memory before it spills to disk: two of
/// OpenSSH's channel windows, so a reader that keeps up never touches disk.
pub const MEMORY_PER_CONNECTION: usize = 4 << 20;
/// Bytes all connections together keep in memory (queues and disk buffers).
pub const DEFAULT_MEMORY_TOTAL: usize = 256 << 20;
/// Bytes one connection may spill (nginx buffers a slow client's upstream
/// response in temporary files up to 1 GiB by default; the same bound here).
pub const DISK_PER_CONNECTION: u64 = 1 << 30;
/// Bytes all connections together may spill.
pub const DEFAULT_DISK_TOTAL: u64 = 8 << 30;
/// How long a connection whose bytes wait beyond memory (spilled, or paused)
/// may take nothing at all before it is reset. Long enough never to cut a
/// reader that is alive: TCP itself gives a silent peer about 15 minutes.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(300);

/// The process's limits for bytes waiting on local readers.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bytes all connections together keep in memory.
    pub memory_total: usize,
    /// Where spill files go; `None` disables spilling (memory, then pause).
    pub spill_dir: Option<PathBuf>,
    /// Bytes all connections together may spill.
    pub disk_total: u64,
    /// See [`DEFAULT_STALL_TIMEOUT`]; `None` never resets a reader.
    pub stall_timeout: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_total: DEFAULT_MEMORY_TOTAL,
            spill_dir: Some(default_spill_dir()),
            disk_total: DEFAULT_DISK_TOTAL,
            stall_timeout: Some(DEFAULT_STALL_TIMEOUT),
        }
    }
}

/// `$TMPDIR`, else `/var/tmp`: disk-backed where `/tmp` is often a tmpfs,
/// which would turn spilled bytes back into memory.
pub fn default_spill_dir() -> PathBuf {
    match std::env::var_os("TMPDIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from("/var/tmp"),
    }
}

static LIMITS: OnceLock<Limits> = OnceLock::new();

/// Sets the process's limits; the first call wins (one per process).
pub fn set(limits: Limits) {
    let _ = LIMITS.set(limits);
}

/// The process's limits (the defaults until [`set`] is called).
pub fn get() -> &'static Limits {
    LIMITS.get_or_init(Limits::default)
}

/// Bytes held in memory for local readers, process-wide.
static MEMORY: AtomicUsize = AtomicUsize::new(0);
/// Bytes spilled to disk for local readers, process-wide.
static DISK: AtomicU64 = AtomicU64::new(0);

/// Counts `n` bytes against the memory budget without checking it (the
/// caller checked for room before; a race may overshoot by one message).
pub(super) fn add_memory(n: usize) {
    MEMORY.fetch_add(n, Ordering::Relaxed);
}

/// Returns `n` bytes to the process's memory budget.
pub(super) fn release_memory(n: usize) {
    MEMORY.fetch_sub(n, Ordering::Relaxed);
}

/// Reserves `n` bytes of the process's disk budget; false if over it.
pub(super) fn reserve_disk(n: u64) -> bool {
    let total = get().disk_total;
    DISK.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
        (used + n <= total).then_some(used + n)
    })
    .is_ok()
}

/// Returns `n` bytes to the process's disk budget.
pub(super) fn release_disk(n: u64) {
    DISK.fetch_sub(n, Ordering::Relaxed);
}

/// Bytes waiting for local readers right now: (in memory, on disk).
pub fn in_use() -> (usize, u64) {
    (MEMORY.load(Ordering::Relaxed), DISK.load(Ordering::Relaxed))
}

/// The command-line flags that set [`Limits`] (client, `up` and `serve`).
#[derive(Debug, Clone, clap::Args)]
pub struct BufferArgs {
    /// Reset a connection whose local reader takes nothing for SECS while its bytes wait beyond memory (0: never)
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_STALL_TIMEOUT.as_secs(), help_heading = "Buffering")]
    pub stall_timeout: u64,

    /// Memory for bytes waiting on slow local readers, all connections together [default: 256M]
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Buffering")]
    pub buffer_memory: Option<u64>,

    /// Directory for slow readers' spill files ("none": never spill, pause instead) [default: $TMPDIR, else /var/tmp]
    #[arg(long, value_name = "DIR", help_heading = "Buffering")]
    pub spill_dir: Option<PathBuf>,

    /// Disk for slow readers' spill files, all connections together [default: 8G]
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Buffering")]
    pub spill_limit: Option<u64>,
}

impl BufferArgs {
    pub fn limits(&self) -> Limits {
        let spill_dir = match &self.spill_dir {
            Some(dir) if dir.as_os_str() == "none" => None,
            Some(dir) => Some(dir.clone()),
            None => Some(default_spill_dir()),
        };
        Limits {
            memory_total: self
                .buffer_memory
                .map_or(DEFAULT_MEMORY_TOTAL, |n| n.try_into().unwrap_or(usize::MAX)),
            spill_dir,
            disk_total: self.spill_limit.unwrap_or(DEFAULT_DISK_TOTAL),
            stall_timeout: (self.stall_timeout > 0)
                .then(|| Duration::from_secs(self.stall_timeout)),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ssh_config::values::parse_size;

    #[test]
    fn sizes() {
        for (text, want) in [
            ("0", Some(0)),
            ("512", Some(512)),
            ("64K", Some(64 << 10)),
            ("16M", Some(16 << 20)),
            ("8g", Some(8 << 30)),
            ("", None),
            ("M", None),
            ("1T", None),
            ("-1", None),
            ("1.5G", None),
            ("99999999999999999G", None),
        ] {
            assert_eq!(parse_size(text).ok(), want, "{text:?}");
        }
    }
}
