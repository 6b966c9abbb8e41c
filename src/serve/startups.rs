//! Limits on connections that have not authenticated yet, as sshd's
//! MaxStartups and PerSourceMaxStartups: they are counted apart from
//! authenticated sessions (`--max-sessions`), so idle or slow unauthenticated
//! sockets cannot lock logged-in users out.
//!
//! Past `start` unauthenticated connections a new one is dropped with
//! probability `rate`%, rising linearly to 100% at `full` (sshd's random early
//! drop, same integer arithmetic); past the per-source limit a new one from the
//! same source is always dropped. IPv4 sources count per address, IPv6 ones
//! per /64 (sshd's PerSourceNetBlockSize defaults to /128; one host easily
//! holds a whole /64). A dropped client is sent sshd's
//! "Exceeded MaxStartups" line and closed.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

/// What sshd writes to a connection it drops before closing it.
pub const DROP_NOTICE: &[u8] = b"Exceeded MaxStartups\r\n";

/// `start:rate:full` (MaxStartups in sshd_config(5)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxStartups {
    pub start: usize,
    /// Percent, 1..=100.
    pub rate: usize,
    pub full: usize,
}

impl Default for MaxStartups {
    /// sshd's default, 10:30:100.
    fn default() -> Self {
        MaxStartups {
            start: 10,
            rate: 30,
            full: 100,
        }
    }
}

impl std::fmt::Display for MaxStartups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.start, self.rate, self.full)
    }
}

impl MaxStartups {
    /// Parses `start:rate:full`, or `N` for a hard limit of N.
    pub fn parse(s: &str) -> Result<MaxStartups, String> {
        let bad = || format!("bad max-startups '{s}': expected START:RATE:FULL or N");
        let number = |t: &str| t.parse::<usize>().map_err(|_| bad());
        let parts: Vec<&str> = s.split(':').collect();
        let limits = match parts[..] {
            [n] => {
                let n = number(n)?;
                MaxStartups {
                    start: n,
                    rate: 100,
                    full: n,
                }
            }
            [start, rate, full] => MaxStartups {
                start: number(start)?,
                rate: number(rate)?,
                full: number(full)?,
            },
            _ => return Err(bad()),
        };
        if limits.full == 0 || limits.start > limits.full || !(1..=100).contains(&limits.rate) {
            return Err(format!(
                "bad max-startups '{s}': need 1 <= RATE <= 100 and START <= FULL, FULL >= 1"
            ));
        }
        Ok(limits)
    }

    /// Whether a new connection is dropped while `pending` others wait to
    /// authenticate; `roll` is uniform in 0..100 (sshd's should_drop_connection).
    pub fn drops(&self, pending: usize, roll: usize) -> bool {
        if pending < self.start {
            return false;
        }
        if pending >= self.full || self.rate >= 100 {
            return true;
        }
        let p = (100 - self.rate) * (pending - self.start) / (self.full - self.start) + self.rate;
        roll < p
    }
}

/// `--per-source-max-startups`: `N`, or `none` for no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerSource(pub Option<usize>);

impl PerSource {
    pub fn parse(s: &str) -> Result<PerSource, String> {
        if s.eq_ignore_ascii_case("none") {
            return Ok(PerSource(None));
        }
        match s.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(PerSource(Some(n))),
            _ => Err(format!(
                "bad per-source-max-startups '{s}': expected N >= 1 or none"
            )),
        }
    }
}

/// The block a source address is counted in.
fn source_block(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & (u128::MAX << 64);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_source: HashMap<IpAddr, usize>,
}

/// The unauthenticated connections of one server.
#[derive(Clone)]
pub struct Startups {
    limits: MaxStartups,
    per_source: Option<usize>,
    counts: Arc<Mutex<Counts>>,
}

/// One unauthenticated connection; it stops counting when dropped (on
/// successful authentication or when the connection ends).
pub struct Startup {
    block: IpAddr,
    counts: Arc<Mutex<Counts>>,
}

impl Drop for Startup {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_source.get_mut(&self.block) {
            *n -= 1;
            if *n == 0 {
                counts.per_source.remove(&self.block);
            }
        }
    }
}

impl Startups {
    pub fn new(limits: MaxStartups, per_source: Option<usize>) -> Startups {
        Startups {
            limits,
            per_source,
            counts: Arc::default(),
        }
    }

    /// Admits a connection from `ip`, or says why it is dropped.
    pub fn admit(&self, ip: IpAddr) -> Result<Startup, String> {
        self.admit_with(ip, random_percent())
    }

    fn admit_with(&self, ip: IpAddr, roll: usize) -> Result<Startup, String> {
        let block = source_block(ip);
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let from_here = counts.per_source.get(&block).copied().unwrap_or(0);
        if let Some(limit) = self.per_source.filter(|limit| from_here >= *limit) {
            return Err(format!(
                "{from_here} unauthenticated connections from {block} already (per source limit {limit})"
            ));
        }
        if self.limits.drops(counts.total, roll) {
            return Err(format!(
                "{} unauthenticated connections already (MaxStartups {})",
                counts.total, self.limits
            ));
        }
        counts.total += 1;
        *counts.per_source.entry(block).or_insert(0) += 1;
        Ok(Startup {
            block,
            counts: self.counts.clone(),
        })
    }
}

/// Uniform in 0..100 from the system's randomness; 0 if it is unavailable,
/// so that past `start` every new connection is dropped (the safe side).
fn random_percent() -> usize {
    getrandom::u32().map_or(0, |r| (r % 100) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_like_sshd_config() {
        assert_eq!(MaxStartups::parse("10:30:100"), Ok(MaxStartups::default()));
        assert_eq!(
            MaxStartups::parse("5"),
            Ok(MaxStartups {
                start: 5,
                rate: 100,
                full: 5
            })
        );
        for bad in [
            "",
            "1:2",
            "a:30:100",
            "10:0:100",
            "10:101:100",
            "20:30:10",
            "0",
        ] {
            assert!(MaxStartups::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(PerSource::parse("none"), Ok(PerSource(None)));
        assert_eq!(PerSource::parse("3"), Ok(PerSource(Some(3))));
        assert!(PerSource::parse("0").is_err());
    }

    #[test]
    fn random_early_drop_rises_from_rate_to_full() {
        let m = MaxStartups::default();
        // Below start: never; at start: rate% (rolls 0..29 drop);
        // halfway: 30 + 70 * 45 / 90 = 65%; at full: always.
        assert!((0..100).all(|r| !m.drops(9, r)));
        assert_eq!((0..100).filter(|r| m.drops(10, *r)).count(), 30);
        assert_eq!((0..100).filter(|r| m.drops(55, *r)).count(), 65);
        assert_eq!((0..100).filter(|r| m.drops(99, *r)).count(), 99);
        assert!((0..100).all(|r| m.drops(100, r)));
        let hard = MaxStartups::parse("2:100:10").unwrap();
        assert!(!hard.drops(1, 99) && hard.drops(2, 99));
    }

    #[test]
    fn counts_per_source_and_release_on_drop() {
        let s = Startups::new(MaxStartups::parse("3").unwrap(), Some(2));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = s.admit_with(a, 0).unwrap();
        let _second = s.admit_with(a, 0).unwrap();
        let err = s.admit_with(a, 99).err().unwrap();
        assert!(err.contains("per source limit 2"), "{err}");
        let _third = s.admit_with(b, 99).unwrap();
        let err = s.admit_with("10.0.0.3".parse().unwrap(), 99).err().unwrap();
        assert!(err.contains("MaxStartups 3:100:3"), "{err}");
        drop(first);
        assert!(s.admit_with(a, 99).is_ok());
        // IPv6 counts per /64; a mapped IPv4 address as itself.
        let s = Startups::new(MaxStartups::default(), Some(1));
        let _x = s.admit_with("2001:db8::1".parse().unwrap(), 99).unwrap();
        assert!(s.admit_with("2001:db8::2".parse().unwrap(), 99).is_err());
        assert!(s.admit_with("2001:db8:0:1::1".parse().unwrap(), 99).is_ok());
        let _y = s
            .admit_with("::ffff:10.0.0.9".parse().unwrap(), 99)
            .unwrap();
        assert!(s.admit_with("10.0.0.9".parse().unwrap(), 99).is_err());
    }
}
