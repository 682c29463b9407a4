//! Appending records to an open journal, and the group commit that makes
//! them durable (see "What is written when" in the module docs of
//! [`journal`](super)).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::error::{JournalError, io_error};
use super::format::{Outcome, Record, unix_now};

/// An open journal, ready for appending. See the module docs for the order
/// of calls and the durability invariant.
pub struct Journal {
    pub(super) path: PathBuf,
    pub(super) writer: Mutex<Appender>,
    /// Serialises syncs; holds how many records are known durable.
    pub(super) synced: Mutex<u64>,
    /// A second handle on the same file, synced without the append lock.
    pub(super) sync_handle: File,
    /// Set after any failed write or sync; every later call fails.
    pub(super) broken: AtomicBool,
}

pub(super) struct Appender {
    pub(super) out: BufWriter<File>,
    /// Records appended so far (handed to `out`).
    pub(super) appended: u64,
}

impl Journal {
    /// The journal's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records that the message with `message_id` is about to go to `rcpt`.
    /// Call [`Journal::commit`] after it and before the SMTP transaction.
    pub fn record_attempt(&self, rcpt: &str, message_id: &str) -> Result<(), JournalError> {
        self.append(&Record::Attempt {
            rcpt: rcpt.into(),
            id: message_id.into(),
            at: unix_now(),
        })
    }

    /// Records that the end of the message's DATA is about to be written to
    /// the server. It is in the file (written, not synced) when this
    /// returns: a run that crashes later leaves it behind, and only such a
    /// message can have been accepted without a recorded reply.
    pub fn record_data_end(&self, rcpt: &str) -> Result<(), JournalError> {
        self.append_now(&Record::DataEnd {
            rcpt: rcpt.into(),
            at: unix_now(),
        })
    }

    /// Records that the server accepted the message (its reply, e.g.
    /// `"250 2.0.0 OK"`). Like every outcome, it is written to the file
    /// (not synced) before this returns.
    pub fn record_sent(&self, rcpt: &str, reply: &str) -> Result<(), JournalError> {
        self.append_now(&Record::Sent(Outcome::now(rcpt, reply)))
    }

    /// Records a temporary failure: a 4xx reply, a timeout, or
    /// `"connection dropped"`.
    pub fn record_deferred(&self, rcpt: &str, reply: &str) -> Result<(), JournalError> {
        self.append_now(&Record::Deferred(Outcome::now(rcpt, reply)))
    }

    /// Records that the end of DATA was written and no reply came: the
    /// outcome no one can know ([`Status::Unknown`](super::Status::Unknown)).
    pub fn record_unknown(&self, rcpt: &str, reason: &str) -> Result<(), JournalError> {
        self.append_now(&Record::Unknown(Outcome::now(rcpt, reason)))
    }

    /// Records a permanent refusal (a 5xx reply).
    pub fn record_failed(&self, rcpt: &str, reply: &str) -> Result<(), JournalError> {
        self.append_now(&Record::Failed(Outcome::now(rcpt, reply)))
    }

    /// Makes every record appended so far (by any thread) durable: one
    /// flush and one `fdatasync`, shared by all threads committing at the
    /// same time.
    pub fn commit(&self) -> Result<(), JournalError> {
        let target = self.lock_writer()?.appended;
        let mut synced = self.synced.lock().map_err(|_| self.broken_error())?;
        if *synced >= target {
            // Another thread's sync, started after our records were
            // appended, covered them.
            return Ok(());
        }
        // Flush what is appended by now — ours and whatever others added
        // meanwhile — then sync without holding the append lock.
        let flushed = {
            let mut writer = self.lock_writer()?;
            if let Err(e) = writer.out.flush() {
                return Err(self.fail(e, "write"));
            }
            writer.appended
        };
        if let Err(e) = self.sync_handle.sync_data() {
            // After a failed fsync the kernel may have dropped the dirty
            // pages: nothing written since the last good sync can be trusted.
            return Err(self.fail(e, "sync"));
        }
        *synced = flushed;
        Ok(())
    }

    /// Commits and closes the journal, reporting any error (dropping it
    /// commits too, but silently).
    pub fn close(self) -> Result<(), JournalError> {
        self.commit()
    }

    fn append(&self, record: &Record<'_>) -> Result<(), JournalError> {
        // Serialised first, then written with one call: a line is either
        // handed whole to the buffer or, on error, the journal is broken.
        let mut line = serde_json::to_vec(record).expect("a journal record serialises");
        line.push(b'\n');
        let mut writer = self.lock_writer()?;
        if let Err(e) = writer.out.write_all(&line) {
            return Err(self.fail(e, "write"));
        }
        writer.appended += 1;
        Ok(())
    }

    /// Appends a record and hands it (with whatever is buffered before it)
    /// to the kernel at once: it survives the death of the process.
    fn append_now(&self, record: &Record<'_>) -> Result<(), JournalError> {
        let mut line = serde_json::to_vec(record).expect("a journal record serialises");
        line.push(b'\n');
        let mut writer = self.lock_writer()?;
        if let Err(e) = writer
            .out
            .write_all(&line)
            .and_then(|()| writer.out.flush())
        {
            return Err(self.fail(e, "write"));
        }
        writer.appended += 1;
        Ok(())
    }

    fn lock_writer(&self) -> Result<MutexGuard<'_, Appender>, JournalError> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(self.broken_error());
        }
        // A panic while holding the lock may have left half a line behind.
        self.writer.lock().map_err(|_| {
            self.broken.store(true, Ordering::SeqCst);
            self.broken_error()
        })
    }

    fn fail(&self, e: io::Error, action: &'static str) -> JournalError {
        self.broken.store(true, Ordering::SeqCst);
        io_error(&self.path, action, e)
    }

    fn broken_error(&self) -> JournalError {
        JournalError::Broken {
            path: self.path.clone(),
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // Best effort; callers that care use `close`.
        let _ = self.commit();
    }
}
