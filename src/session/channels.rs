//! The channels one SSH session has open or opening, bounded so no server's
//! channel table overflows. OpenSSH keeps at most 16,384 channels per
//! session and treats one more as a fatal internal error that ends the
//! session with every connection in it, so a burst of short connections
//! accepted faster than the server closes them must wait here instead.
//!
//! A channel counts from the moment its open is sent (or the server's open
//! arrives) until the server has closed it too; local listeners stop
//! accepting while every session is at its bound (see [`crate::link`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use super::load::SessionLoad;

/// Open failures whose text is kept for the openers that wait for it.
const KEPT_FAILURES: usize = 64;
/// How long an opener waits for the text of its failure.
const FAILURE_TEXT_WAIT: Duration = Duration::from_millis(200);

/// Woken whenever any session's channel closes.
static FREED: Notify = Notify::const_new();

/// One session's channel count and what its connections report.
#[derive(Debug)]
pub struct ChannelBudget {
    open: AtomicUsize,
    max: usize,
    /// Paused connections of this session (see [`crate::bridge`]).
    pub load: SessionLoad,
    /// Recent open failures: the reason code and the server's text.
    failures: Mutex<VecDeque<(u32, String)>>,
    failure_noted: Notify,
}

impl ChannelBudget {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(ChannelBudget {
            open: AtomicUsize::new(0),
            max: max.max(1),
            load: SessionLoad::default(),
            failures: Mutex::new(VecDeque::new()),
            failure_noted: Notify::new(),
        })
    }

    /// Channels open or opening now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Whether another channel may open now.
    pub fn has_room(&self) -> bool {
        self.open() < self.max
    }

    /// Counts one more channel, if the bound allows it.
    pub fn try_lease(self: &Arc<Self>) -> Option<ChannelLease> {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| ChannelLease(self.clone()))
    }

    /// Keeps the server's text for a failed open (from the russh handler).
    pub fn note_failure(&self, code: u32, text: &str) {
        let mut kept = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() == KEPT_FAILURES {
            kept.pop_front();
        }
        kept.push_back((code, text.trim().to_string()));
        drop(kept);
        self.failure_noted.notify_waiters();
    }

    /// The server's text for an open that failed with `code`, as the russh
    /// handler noted it just after the opener learned of the failure.
    pub async fn failure_text(&self, code: u32) -> Option<String> {
        let deadline = tokio::time::Instant::now() + FAILURE_TEXT_WAIT;
        loop {
            let noted = self.failure_noted.notified();
            {
                let mut kept = self.failures.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(i) = kept.iter().position(|(c, _)| *c == code) {
                    return kept
                        .remove(i)
                        .map(|(_, text)| text)
                        .filter(|t| !t.is_empty());
                }
            }
            if tokio::time::timeout_at(deadline, noted).await.is_err() {
                return None;
            }
        }
    }
}

/// One channel counted against its session's bound until dropped.
#[derive(Debug)]
pub struct ChannelLease(Arc<ChannelBudget>);

impl ChannelLease {
    /// What the connection's byte path reports to its session.
    pub fn load(&self) -> &SessionLoad {
        &self.0.load
    }
}

impl Drop for ChannelLease {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
        FREED.notify_waiters();
    }
}

/// Resolves after some channel of some session closed (or 100 ms passed:
/// sessions can also come and go without a close).
pub async fn some_channel_freed() {
    let freed = FREED.notified();
    let _ = tokio::time::timeout(Duration::from_millis(100), freed).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_stop_at_the_bound_and_return_on_drop() {
        let budget = ChannelBudget::new(2);
        let a = budget.try_lease().unwrap();
        let _b = budget.try_lease().unwrap();
        assert!(budget.try_lease().is_none());
        assert!(!budget.has_room());
        drop(a);
        assert_eq!(budget.open(), 1);
        assert!(budget.try_lease().is_some());
    }

    #[tokio::test]
    async fn failure_text_pairs_with_the_code() {
        let budget = ChannelBudget::new(4);
        budget.note_failure(2, "connect failed: Connection refused\n");
        budget.note_failure(1, "administratively prohibited: open failed");
        assert_eq!(
            budget.failure_text(1).await.as_deref(),
            Some("administratively prohibited: open failed")
        );
        assert_eq!(
            budget.failure_text(2).await.as_deref(),
            Some("connect failed: Connection refused")
        );
        assert_eq!(budget.failure_text(2).await, None);
    }
}
