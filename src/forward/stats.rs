//! Live counters per forward, for `sshtun status` and the metrics endpoint:
//! connections open now and in total, bytes each way.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Counters of one forward; shared by its connection tasks.
#[derive(Debug, Default)]
pub struct ForwardStats {
    active: AtomicU64,
    total: AtomicU64,
    failed: AtomicU64,
    bytes_out: AtomicU64,
    bytes_in: AtomicU64,
}

/// A point-in-time copy of [`ForwardStats`].
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub active: u64,
    pub total: u64,
    pub failed: u64,
    /// Bytes sent towards the far end (into the tunnel).
    pub bytes_out: u64,
    /// Bytes received from the far end.
    pub bytes_in: u64,
}

impl ForwardStats {
    /// Counts a new connection; the guard counts it closed when dropped.
    pub fn open(&self) -> ConnectionGuard<'_> {
        self.active.fetch_add(1, Ordering::Relaxed);
        self.total.fetch_add(1, Ordering::Relaxed);
        ConnectionGuard { stats: self }
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            active: self.active.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
        }
    }
}

/// One open connection of a forward.
pub struct ConnectionGuard<'a> {
    stats: &'a ForwardStats,
}

impl ConnectionGuard<'_> {
    /// Adds what a finished bridge moved.
    pub fn transferred(&self, out: u64, into: u64) {
        self.stats.bytes_out.fetch_add(out, Ordering::Relaxed);
        self.stats.bytes_in.fetch_add(into, Ordering::Relaxed);
    }

    /// Marks the connection as failed (no channel, refused target).
    pub fn failed(&self) {
        self.stats.failed.fetch_add(1, Ordering::Relaxed);
    }

    /// Records the outcome of a bridge.
    pub fn finish(&self, result: std::io::Result<(u64, u64)>) {
        match result {
            Ok((out, into)) => self.transferred(out, into),
            Err(_) => self.failed(),
        }
    }
}

impl Drop for ConnectionGuard<'_> {
    fn drop(&mut self) {
        self.stats.active.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_counts_open_and_close() {
        let stats = ForwardStats::default();
        {
            let a = stats.open();
            let _b = stats.open();
            a.finish(Ok((10, 20)));
            assert_eq!(stats.snapshot().active, 2);
        }
        let failed = stats.open();
        failed.failed();
        drop(failed);
        assert_eq!(
            stats.snapshot(),
            StatsSnapshot {
                active: 0,
                total: 3,
                failed: 1,
                bytes_out: 10,
                bytes_in: 20
            }
        );
    }
}
