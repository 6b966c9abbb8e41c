//! One connection's spill file: far-end bytes its local reader has not taken
//! yet, beyond what the connection keeps in memory. The file is unlinked from
//! the start (it vanishes with the process) and used as a ring of at most
//! [`super::limits::DISK_PER_CONNECTION`] bytes, so it never grows past that
//! however long the transfer.
//!
//! Reads and writes run inline, at most [`CHUNK`] bytes at a time: to the
//! page cache that takes tens of microseconds. Handing each one to tokio's
//! blocking pool measured far worse on a busy machine: every hop waited for a
//! CPU, the spill fell to about 5 MiB/s, and the connection paused its whole
//! session while it waited. The price is that a disk stalled in the kernel
//! (dirty-page throttling, a dying device) stalls one runtime worker too.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use bytes::Bytes;

/// The most one read or write moves.
pub const CHUNK: usize = 256 << 10;

/// A ring of bytes in an unlinked file: `[head, tail)` is stored, written
/// bytes are appended at `tail`, read bytes are taken from `head`.
pub struct Spill {
    file: File,
    capacity: u64,
    head: u64,
    tail: u64,
}

impl Spill {
    /// Creates an unlinked file in `dir` holding at most `capacity` bytes.
    pub fn create(dir: &Path, capacity: u64) -> io::Result<Spill> {
        Ok(Spill {
            file: tempfile::tempfile_in(dir)?,
            capacity,
            head: 0,
            tail: 0,
        })
    }

    /// Bytes stored.
    pub fn len(&self) -> u64 {
        self.tail - self.head
    }

    pub fn is_empty(&self) -> bool {
        self.tail == self.head
    }

    /// Whether `n` more bytes fit in the ring.
    pub fn fits(&self, n: usize) -> bool {
        self.len() + n as u64 <= self.capacity
    }

    /// Appends `data` (which must [`fit`](Self::fits)), wrapping at the end
    /// of the file.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        debug_assert!(self.fits(data.len()));
        let pos = self.tail % self.capacity;
        let first = data.len().min((self.capacity - pos) as usize);
        self.file.write_all_at(&data[..first], pos)?;
        if first < data.len() {
            self.file.write_all_at(&data[first..], 0)?;
        }
        self.tail += data.len() as u64;
        Ok(())
    }

    /// Takes up to [`CHUNK`] bytes from the start of the ring.
    pub fn read(&mut self) -> io::Result<Bytes> {
        let at = self.head % self.capacity;
        let len = self.len().min(CHUNK as u64).min(self.capacity - at) as usize;
        let mut buf = vec![0u8; len];
        self.file.read_exact_at(&mut buf, at)?;
        self.head += len as u64;
        Ok(Bytes::from(buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_come_back_in_order_across_the_wrap() {
        let dir = tempfile::tempdir().unwrap();
        let mut spill = Spill::create(dir.path(), 1000).unwrap();
        let (mut expected, mut got) = (Vec::new(), Vec::new());
        for round in 0..20u8 {
            let chunk: Vec<u8> = (0..300).map(|i| (i as u8).wrapping_add(round)).collect();
            assert!(spill.fits(chunk.len()));
            spill.write(&chunk).unwrap();
            expected.extend_from_slice(&chunk);
            while spill.len() > 500 {
                got.extend_from_slice(&spill.read().unwrap());
            }
        }
        while !spill.is_empty() {
            got.extend_from_slice(&spill.read().unwrap());
        }
        assert_eq!(got, expected);
        assert!(!spill.fits(1001));
    }
}
