//! How a finished connection's channel is closed: waiting (bounded) for the
//! far end's CLOSE, not waiting once sshtun is stopping, and closing the
//! channel if the connection's task is dropped. See the module notes of
//! [`super`] for why the client waits for the server's CLOSE.

use std::sync::atomic::Ordering;
use std::time::Duration;

use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf};

use super::ChannelKind;

/// How long, once both directions have ended, the far end may take to close
/// the channel before we close it ourselves (sshd takes one round trip).
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// Reads (and drops) what else arrives until the channel closes: true for
/// the far end's CLOSE, false when the session ended first.
pub(super) async fn closes(rx: &mut ChannelReadHalf) -> bool {
    while let Some(msg) = rx.wait().await {
        if matches!(msg, ChannelMsg::Close) {
            return true;
        }
    }
    false
}

/// Waits up to [`CLOSE_WAIT`] for the far end to close the channel; false if
/// it did not (the channel may then be closed from here). A process that is
/// stopping does not wait: its sessions end anyway.
pub(super) async fn far_end_closes(rx: &mut ChannelReadHalf) -> bool {
    tokio::select! {
        // A session that ended has closed every channel with it.
        _ = closes(rx) => true,
        () = tokio::time::sleep(CLOSE_WAIT) => false,
        () = stopping() => true,
    }
}

/// Set once the process is shutting down.
static STOPPING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static STOP: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// The process is shutting down: finished connections stop waiting for the
/// far end to close their channels, so they do not hold up the grace period
/// that open connections get.
pub fn stop_waiting() {
    STOPPING.store(true, Ordering::Release);
    STOP.notify_waiters();
}

async fn stopping() {
    loop {
        let notified = STOP.notified();
        if STOPPING.load(Ordering::Acquire) {
            return;
        }
        notified.await;
    }
}

/// Closes the channel if the connection's task is dropped before [`join`]
/// finishes (e.g. on shutdown), as russh's own stream does.
pub(super) struct CloseOnDrop<S: ChannelKind>(pub(super) Option<ChannelWriteHalf<S>>);

impl<S: ChannelKind> CloseOnDrop<S> {
    /// The channel is closed already (russh answered the far end's CLOSE).
    pub(super) fn disarm(mut self) {
        self.0.take();
    }

    /// Closes the channel now (a close that fails means the session is gone).
    pub(super) async fn close(mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.close().await;
        }
    }
}

impl<S: ChannelKind> Drop for CloseOnDrop<S> {
    fn drop(&mut self) {
        if let (Some(tx), Ok(rt)) = (self.0.take(), tokio::runtime::Handle::try_current()) {
            rt.spawn(async move {
                let _ = tx.close().await;
            });
        }
    }
}
