//! Jittered exponential backoff for reconnects: a few quick retries, then
//! doubling up to a cap, each delay spread by ±25% so many clients that lost
//! the same server do not come back in lockstep.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The first delay.
const FIRST: Duration = Duration::from_millis(500);
/// The longest delay.
const CAP: Duration = Duration::from_secs(60);

/// Delays for successive failed attempts; reset by making a new one.
#[derive(Debug, Clone, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// The un-jittered delay before attempt `failures + 1`.
    pub fn base_delay(failures: u32) -> Duration {
        FIRST.saturating_mul(1u32 << failures.min(16)).min(CAP)
    }

    /// The next delay, with jitter.
    pub fn next_delay(&mut self) -> Duration {
        let base = Self::base_delay(self.failures);
        self.failures = self.failures.saturating_add(1);
        jitter(base)
    }
}

/// Spreads `base` by up to ±25%, from the clock's nanoseconds (no RNG needed
/// for this; it only has to differ between processes).
fn jitter(base: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let spread = (nanos % 501) as f64 / 1000.0 - 0.25; // -0.25 ..= +0.25
    base.mul_f64(1.0 + spread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_then_cap() {
        let want = [500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000];
        for (failures, ms) in want.iter().enumerate() {
            assert_eq!(
                Backoff::base_delay(failures as u32),
                Duration::from_millis(*ms)
            );
        }
        assert_eq!(Backoff::base_delay(u32::MAX), CAP);
    }

    #[test]
    fn jitter_stays_within_a_quarter() {
        let mut backoff = Backoff::default();
        for failures in 0..10 {
            let base = Backoff::base_delay(failures);
            let delay = backoff.next_delay();
            assert!(
                delay >= base.mul_f64(0.75) && delay <= base.mul_f64(1.25),
                "{delay:?} vs {base:?}"
            );
        }
    }
}
