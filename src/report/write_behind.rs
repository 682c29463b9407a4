//! A file written by a thread of its own. A big report (a gigabyte of JSON
//! for ten million rows) costs the kernel real work in `write(2)` — copying
//! into the page cache, allocating its pages — and on the lint's busiest
//! thread that work would add to the run's wall time; here it runs beside
//! it. The caller appends to a buffer; full buffers go to the thread and
//! come back empty to be reused.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

/// A full buffer is handed over at this size.
const CHUNK: usize = 1 << 20;
/// Buffers in use at most: one being filled, one waiting, one being written.
const BUFFERS: usize = 3;

/// Appends go to [`WriteBehind::buffer`]; [`WriteBehind::finish`] waits for
/// everything to be written and gives the file back.
pub struct WriteBehind {
    buffer: Vec<u8>,
    full: Option<SyncSender<Vec<u8>>>,
    empty: Receiver<Vec<u8>>,
    buffers: usize,
    thread: Option<JoinHandle<io::Result<File>>>,
}

impl WriteBehind {
    /// Starts the writing thread for `file` (written from its current
    /// position on).
    pub fn new(mut file: File) -> io::Result<Self> {
        let (full_tx, full_rx) = mpsc::sync_channel::<Vec<u8>>(1);
        let (empty_tx, empty_rx) = mpsc::sync_channel::<Vec<u8>>(BUFFERS);
        let thread = std::thread::Builder::new()
            .name("mailgate-write".to_owned())
            .spawn(move || {
                for mut buffer in full_rx {
                    file.write_all(&buffer)?;
                    buffer.clear();
                    // Gone when the caller has finished and needs no more.
                    let _ = empty_tx.try_send(buffer);
                }
                Ok(file)
            })?;
        Ok(WriteBehind {
            buffer: Vec::with_capacity(CHUNK + CHUNK / 8),
            full: Some(full_tx),
            empty: empty_rx,
            buffers: 1,
            thread: Some(thread),
        })
    }

    /// The buffer to append to; call [`WriteBehind::hand_over_if_full`]
    /// after appending.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buffer
    }

    /// Hands the buffer to the writing thread once it holds a chunk.
    #[inline]
    pub fn hand_over_if_full(&mut self) -> io::Result<()> {
        if self.buffer.len() >= CHUNK {
            self.hand_over()?;
        }
        Ok(())
    }

    fn hand_over(&mut self) -> io::Result<()> {
        let next = match self.empty.try_recv() {
            Ok(buffer) => buffer,
            Err(_) if self.buffers < BUFFERS => {
                self.buffers += 1;
                Vec::with_capacity(CHUNK + CHUNK / 8)
            }
            // All buffers are out: wait for the thread to return one.
            Err(_) => match self.empty.recv() {
                Ok(buffer) => buffer,
                Err(_) => return Err(self.failure()),
            },
        };
        let full = std::mem::replace(&mut self.buffer, next);
        let sent = self.full.as_ref().map(|tx| tx.send(full));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => Err(self.failure()),
        }
    }

    /// Writes what is left, waits for the thread, and returns the file.
    pub fn finish(mut self) -> io::Result<File> {
        if !self.buffer.is_empty() {
            self.hand_over()?;
        }
        drop(self.full.take());
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Err(io::Error::other("the report was finished already")),
        }
    }

    /// The writing thread stopped early: its error.
    fn failure(&mut self) -> io::Error {
        drop(self.full.take());
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            _ => io::Error::other("the report's writing thread stopped"),
        }
    }
}

impl Write for WriteBehind {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        self.hand_over_if_full()?;
        Ok(bytes.len())
    }

    /// Nothing to do: the bytes reach the file by [`WriteBehind::finish`].
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Seek};

    use super::*;

    #[test]
    fn everything_arrives_in_order() {
        let file = tempfile::tempfile().unwrap();
        let mut out = WriteBehind::new(file).unwrap();
        let mut expected = Vec::new();
        // Many chunks' worth, in pieces of every size.
        for i in 0..200_000u32 {
            let piece = format!("{i}:{}\n", "x".repeat((i % 37) as usize));
            out.buffer().extend_from_slice(piece.as_bytes());
            out.hand_over_if_full().unwrap();
            expected.extend_from_slice(piece.as_bytes());
        }
        out.write_all(b"the end").unwrap();
        expected.extend_from_slice(b"the end");
        let mut file = out.finish().unwrap();
        file.rewind().unwrap();
        let mut written = Vec::new();
        file.read_to_end(&mut written).unwrap();
        assert!(expected.len() > 3 * CHUNK);
        assert_eq!(written, expected);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_failing_disk_is_an_error_not_a_hang() {
        // /dev/full refuses every write with ENOSPC.
        let Ok(file) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
            return;
        };
        let mut out = WriteBehind::new(file).unwrap();
        let mut failed = None;
        for _ in 0..(BUFFERS + 3) {
            let buffer = out.buffer();
            buffer.resize(buffer.len() + CHUNK, b'x');
            if let Err(e) = out.hand_over_if_full() {
                failed = Some(e);
                break;
            }
        }
        let error = match failed {
            Some(e) => e,
            None => out.finish().expect_err("writing to /dev/full fails"),
        };
        assert_eq!(error.raw_os_error(), Some(28), "{error}"); // ENOSPC
    }
}
