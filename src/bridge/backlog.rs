//! The far-end bytes of one connection that its local reader has not taken
//! yet, in order: first in memory, then (once the connection holds
//! [`MEMORY_PER_CONNECTION`]) in its [`Spill`] file, with a small batch in
//! front of the file so the disk sees few, large writes. When neither tier
//! has room the backlog says so ([`Backlog::has_room`] is false) and the
//! downlink stops taking messages from the channel: the last resort, which
//! pauses the whole session.
//!
//! Order is kept by construction: while a spill exists every new byte goes to
//! it, bytes read back from disk join the end of the memory queue (they are
//! the oldest not yet there), and the batch joins it directly once the disk
//! is empty and the reader has caught up.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{Buf, Bytes, BytesMut};
use tracing::{debug, warn};

use super::limits::{self, DISK_PER_CONNECTION, MEMORY_PER_CONNECTION};
use super::spill::{CHUNK, Spill};

/// The most one channel message can carry (russh's packets are at most 32 KiB).
const LARGEST_MESSAGE: usize = 64 << 10;

/// Whether the spill directory's failure was reported (once per process).
static SPILL_FAILURE_WARNED: AtomicBool = AtomicBool::new(false);

/// One connection's waiting bytes.
#[derive(Default)]
pub struct Backlog {
    memory: VecDeque<Bytes>,
    /// Bytes in `memory`, all counted in the process's memory budget.
    memory_len: usize,
    spill: Option<Spilled>,
    /// The disk cannot be used for this connection.
    no_disk: bool,
}

/// The spilled part: the ring on disk, then the batch not yet written.
struct Spilled {
    ring: Spill,
    /// Follows the ring's bytes; counted in the memory budget.
    batch: BytesMut,
}

impl Backlog {
    /// Bytes waiting: (in memory, spilled or batched for disk).
    pub fn sizes(&self) -> (usize, u64) {
        let spilled = self
            .spill
            .as_ref()
            .map_or(0, |s| s.ring.len() + s.batch.len() as u64);
        (self.memory_len, spilled)
    }

    pub fn is_empty(&self) -> bool {
        self.memory_len == 0 && self.spill.is_none()
    }

    /// Whether bytes wait beyond this connection's memory tier.
    pub fn spilled(&self) -> bool {
        self.spill.is_some()
    }

    /// Whether one more channel message fits somewhere without pausing.
    pub fn has_room(&self) -> bool {
        if !memory_available(LARGEST_MESSAGE) {
            return false;
        }
        match &self.spill {
            None => {
                self.memory_len + LARGEST_MESSAGE <= MEMORY_PER_CONNECTION
                    || (!self.no_disk && limits::get().spill_dir.is_some())
            }
            // The batch is written as soon as it holds a chunk, so it has room
            // unless the disk (ring or process budget) refused it.
            Some(s) => s.batch.len() + LARGEST_MESSAGE <= 2 * CHUNK,
        }
    }

    /// Queues `data` (the caller checked [`has_room`](Self::has_room); a race
    /// with other connections may overshoot the budget by one message).
    pub fn push(&mut self, data: Bytes) {
        let n = data.len();
        if n == 0 {
            return;
        }
        limits::add_memory(n);
        if self.spill.is_none() && self.memory_len + n > MEMORY_PER_CONNECTION {
            self.start_spill();
        }
        match &mut self.spill {
            Some(s) => {
                s.batch.extend_from_slice(&data);
                self.write_batch();
            }
            None => {
                // Within the memory tier, or over it by this one message when
                // there is no disk: has_room is then false and the channel
                // pauses until the reader drains.
                self.memory_len += n;
                self.memory.push_back(data);
            }
        }
    }

    fn start_spill(&mut self) {
        let Some(dir) = limits::get().spill_dir.as_ref().filter(|_| !self.no_disk) else {
            return;
        };
        match Spill::create(dir, DISK_PER_CONNECTION) {
            Ok(ring) => {
                debug!("the local reader is behind: spilling to disk");
                self.spill = Some(Spilled {
                    ring,
                    batch: BytesMut::new(),
                });
            }
            Err(e) => self.disk_failed(
                &format!("cannot create a spill file in {}", dir.display()),
                &e,
            ),
        }
    }

    fn disk_failed(&mut self, what: &str, e: &io::Error) {
        self.no_disk = true;
        if !SPILL_FAILURE_WARNED.swap(true, Ordering::Relaxed) {
            warn!(
                "{what}: {e}; slow readers' bytes stay in memory and pause their session when it is full (see --spill-dir)"
            );
        }
    }

    /// Writes the batch to disk once it holds a chunk, if the ring and the
    /// process's disk budget have room (else it waits, and pauses the channel
    /// once full, until reads make room).
    fn write_batch(&mut self) {
        let Some(s) = &mut self.spill else { return };
        if s.batch.len() < CHUNK || self.no_disk {
            return;
        }
        let n = s.batch.len();
        if !s.ring.fits(n) || !limits::reserve_disk(n as u64) {
            return;
        }
        match s.ring.write(&s.batch) {
            Ok(()) => {
                s.batch.clear();
                limits::release_memory(n);
            }
            Err(e) => {
                limits::release_disk(n as u64);
                self.disk_failed("could not write a spill file", &e);
            }
        }
    }

    /// Brings bytes back from disk while the memory queue runs low, and ends
    /// a spill the reader has caught up with.
    fn refill(&mut self) -> io::Result<()> {
        while self.memory_len < MEMORY_PER_CONNECTION / 2 {
            let Some(s) = &mut self.spill else { break };
            if s.ring.is_empty() {
                if self.memory_len > 0 {
                    break;
                }
                // The reader caught up with the disk: the batch needs no trip.
                let batch = std::mem::take(&mut s.batch).freeze();
                self.spill = None;
                if !batch.is_empty() {
                    self.memory_len += batch.len();
                    self.memory.push_back(batch);
                }
                debug!("the local reader caught up: no longer spilling");
                break;
            }
            let bytes = s.ring.read()?;
            let n = bytes.len();
            limits::release_disk(n as u64);
            limits::add_memory(n);
            self.memory_len += n;
            self.memory.push_back(bytes);
        }
        self.write_batch();
        Ok(())
    }

    /// The next bytes for the socket: up to `max` chunks, cloned (a
    /// reference count each) so the caller holds no borrow of the backlog.
    pub fn front_chunks(&self, out: &mut Vec<Bytes>, max: usize) {
        out.clear();
        out.extend(self.memory.iter().take(max).cloned());
    }

    /// Drops `n` bytes the socket took from the front, then refills the
    /// memory queue from disk. An error means spilled bytes are lost.
    pub fn consume(&mut self, mut n: usize) -> io::Result<()> {
        self.memory_len -= n;
        limits::release_memory(n);
        while n > 0 {
            let Some(front) = self.memory.front_mut() else {
                break;
            };
            let take = n.min(front.len());
            front.advance(take);
            n -= take;
            if front.is_empty() {
                self.memory.pop_front();
            }
        }
        self.refill()
    }
}

impl Drop for Backlog {
    fn drop(&mut self) {
        let mut memory = self.memory_len;
        if let Some(s) = &self.spill {
            memory += s.batch.len();
            limits::release_disk(s.ring.len());
        }
        limits::release_memory(memory);
    }
}

fn memory_available(n: usize) -> bool {
    let (used, _) = limits::in_use();
    used + n <= limits::get().memory_total
}
