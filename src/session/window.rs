//! The channel window, packet size and rekey limits sshtun gives russh, on
//! the client and in `sshtun serve`, and the arithmetic behind them.
//!
//! # Why the window is 2 GiB
//!
//! While a rekey *we* started is under way, russh 0.65 counts the channel
//! traffic that still arrives before the peer's KEXINIT, and ends the whole
//! session ("Pending buffer limit reached") once that count exceeds
//! `2 × window_size`. The peer is entitled to have every channel's window in
//! flight at that moment: with N busy channels that is up to N × window, so
//! for any fixed window some N breaks the session (8 duplex channels did,
//! with OpenSSH's sshd and with `sshtun serve` alike, at a 16 MiB RekeyLimit).
//! Shrinking the window cannot fix it, because russh refills every channel to
//! the same `window_size` it compares against.
//!
//! russh keeps that count in a `u32` that saturates at 2³² − 1 and compares
//! it with `2 × window_size` as a `u64`. With a window of 2³¹ the bound is
//! 2³², which the count can never exceed, so no amount of traffic in flight
//! during a rekey ends the session. Rekeys still happen on schedule (see
//! [`limits`]).
//!
//! What this gives up: nothing on our side, since russh returns window on
//! receipt and never throttled a peer by it anyway (sshtun's own buffering is
//! bounded by [`crate::bridge`]). A peer may now send a channel's bytes
//! without waiting for window adjusts; OpenSSH still caps what it buffers per
//! channel at 16 MiB (CHAN_INPUT_MAX) whatever the window, where a 2 MiB
//! window would have kept it at 2 MiB when the link to sshtun is slower than
//! the far end. And russh's defence against a peer that floods during a rekey
//! it never completes is gone; keepalives still end such a session.

use std::time::Duration;

use crate::ssh_config::values::{RekeyLimit, RekeyTime};

/// The window russh advertises and refills each channel to (see above).
pub const WINDOW: u32 = 1 << 31;
/// Largest data packet we accept: OpenSSH's CHAN_TCP_PACKET_DEFAULT.
pub const MAX_PACKET: u32 = 32 * 1024;
/// New keys after this many bytes either way unless RekeyLimit says
/// otherwise: RFC 4253 §9 recommends rekeying after each gigabyte.
pub const DEFAULT_REKEY_BYTES: u64 = 1 << 30;
/// New keys after this long unless RekeyLimit says otherwise (RFC 4253 §9:
/// after each hour).
pub const DEFAULT_REKEY_TIME: Duration = Duration::from_secs(3600);
/// "RekeyLimit ... none": no time limit; russh needs a duration, a year is none.
const NO_TIME_LIMIT: Duration = Duration::from_secs(365 * 24 * 3600);
/// The most RekeyLimit may set: 4 GiB, past which AES-GCM's and
/// ChaCha20-Poly1305's per-key limits are better left alone.
const MAX_REKEY_BYTES: u64 = 4 << 30;

/// russh's rekey limits for a configured RekeyLimit (or the defaults).
pub fn limits(rekey: Option<RekeyLimit>) -> russh::Limits {
    let bytes = rekey
        .and_then(|r| r.bytes)
        .unwrap_or(DEFAULT_REKEY_BYTES)
        .min(MAX_REKEY_BYTES) as usize;
    let time = match rekey.map(|r| r.time) {
        None | Some(RekeyTime::Default) => DEFAULT_REKEY_TIME,
        Some(RekeyTime::Never) => NO_TIME_LIMIT,
        Some(RekeyTime::After(d)) => d,
    };
    // Built field by field: russh's constructor refuses more than 1 GiB.
    russh::Limits {
        rekey_write_limit: bytes,
        rekey_read_limit: bytes,
        rekey_time_limit: time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pending_bound_cannot_be_reached() {
        // russh: `u64::from(pending_len) > 2 * u64::from(window_size)` with a
        // saturating u32 pending_len.
        assert!(u64::from(u32::MAX) <= 2 * u64::from(WINDOW));
    }

    #[test]
    fn rekey_limits_follow_rekeylimit() {
        let d = limits(None);
        assert_eq!(d.rekey_read_limit, 1 << 30);
        assert_eq!(d.rekey_time_limit, DEFAULT_REKEY_TIME);
        let set = limits(Some(RekeyLimit {
            bytes: Some(16 << 20),
            time: RekeyTime::After(Duration::from_secs(60)),
        }));
        assert_eq!(
            (set.rekey_write_limit, set.rekey_read_limit),
            (16 << 20, 16 << 20)
        );
        assert_eq!(set.rekey_time_limit, Duration::from_secs(60));
        let never = limits(Some(RekeyLimit {
            bytes: Some(64 << 30),
            time: RekeyTime::Never,
        }));
        assert_eq!(never.rekey_write_limit as u64, MAX_REKEY_BYTES);
        assert_eq!(never.rekey_time_limit, NO_TIME_LIMIT);
    }
}
