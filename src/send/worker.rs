//! One worker thread's loop: take a batch from the queue, record its
//! attempts and commit the journal once (the durability invariant), then
//! deliver each message and record its outcome.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};

use lettre::address::Envelope;

use super::SendError;
use super::journal::{Journal, JournalError};
use super::rate::RateLimiter;
use super::retry::{RelayDown, deliver_with_retries};
use super::summary::Counters;
use super::transport::{Connector, Delivery, Session};

/// Attempts recorded and committed together before their transactions.
pub(super) const BATCH: usize = 16;

/// One message ready for the wire.
pub(super) struct Outgoing {
    pub(super) address: String,
    pub(super) message_id: String,
    pub(super) envelope: Envelope,
    pub(super) bytes: Vec<u8>,
}

/// Where a worker puts messages. (One exists per run; its size is no concern.)
#[allow(clippy::large_enum_variant)]
pub(super) enum Sink {
    Directory(PathBuf),
    Relay(Relay),
}

/// The relay, and what every worker shares to deliver to it.
pub(super) struct Relay {
    pub(super) connector: Connector,
    pub(super) journal: Journal,
    pub(super) rate: Option<RateLimiter>,
    pub(super) connections: usize,
    pub(super) down: RelayDown,
}

impl Sink {
    /// One worker's loop: take a batch, journal it, deliver it.
    pub(super) fn work(
        &self,
        queue: &Mutex<mpsc::Receiver<Outgoing>>,
        counters: &Counters,
        stop: &AtomicBool,
        sequence: &AtomicU64,
        mut session: Option<Session>,
    ) -> Result<(), SendError> {
        loop {
            let batch = take_batch(queue);
            if batch.is_empty() {
                break;
            }
            match self {
                Sink::Directory(dir) => write_batch(dir, batch, counters, sequence)?,
                Sink::Relay(relay) => relay.deliver_batch(batch, &mut session, counters, stop)?,
            }
            if stop.load(Ordering::SeqCst) {
                break;
            }
        }
        if let Sink::Relay(relay) = self {
            relay.journal.commit()?;
        }
        if let Some(session) = session {
            session.quit();
        }
        Ok(())
    }
}

/// `--dry-run`: each message to its own numbered file.
fn write_batch(
    dir: &Path,
    batch: Vec<Outgoing>,
    counters: &Counters,
    sequence: &AtomicU64,
) -> Result<(), SendError> {
    for outgoing in batch {
        let n = sequence.fetch_add(1, Ordering::SeqCst) + 1;
        let path = dir.join(format!("{n:06}.eml"));
        std::fs::write(&path, &outgoing.bytes)
            .map_err(|e| SendError::Setup(format!("cannot write {}: {e}", path.display())))?;
        counters.sent.fetch_add(1, Ordering::SeqCst);
    }
    Ok(())
}

impl Relay {
    /// Journals a batch's attempts, then delivers its messages one by one
    /// and journals each outcome.
    fn deliver_batch(
        &self,
        batch: Vec<Outgoing>,
        session: &mut Option<Session>,
        counters: &Counters,
        stop: &AtomicBool,
    ) -> Result<(), SendError> {
        let journal = &self.journal;
        for outgoing in &batch {
            journal.record_attempt(&outgoing.address, &outgoing.message_id)?;
        }
        // The durability invariant: attempts are on disk before any of
        // these messages reaches the server.
        journal.commit()?;
        let mut rest = batch.into_iter();
        for outgoing in rest.by_ref() {
            let delivery = if stop.load(Ordering::SeqCst) {
                Delivery::Deferred("interrupted before sending".to_owned())
            } else {
                if let Some(rate) = &self.rate {
                    rate.wait();
                }
                match deliver_with_retries(
                    &self.connector,
                    session,
                    &outgoing,
                    stop,
                    journal,
                    &self.down,
                ) {
                    Ok(delivery) => delivery,
                    Err(e @ SendError::Journal(_)) => return Err(e),
                    Err(e) => {
                        // The relay refuses us altogether: nothing of this
                        // batch was delivered; retry next run.
                        let stopped = Delivery::Deferred(e.to_string());
                        record_outcome(journal, counters, &outgoing.address, &stopped)?;
                        let not_sent = Delivery::Deferred("not sent: run stopped".to_owned());
                        for outgoing in rest {
                            record_outcome(journal, counters, &outgoing.address, &not_sent)?;
                        }
                        journal.commit()?;
                        return Err(e);
                    }
                }
            };
            record_outcome(journal, counters, &outgoing.address, &delivery)?;
        }
        Ok(())
    }
}

/// Journals what became of a message (written at once, synced with the
/// next commit) and counts it for the progress bar and the summary.
fn record_outcome(
    journal: &Journal,
    counters: &Counters,
    address: &str,
    delivery: &Delivery,
) -> Result<(), JournalError> {
    let counter = match delivery {
        Delivery::Accepted(reply) => {
            journal.record_sent(address, reply)?;
            &counters.sent
        }
        Delivery::Refused(reply) => {
            journal.record_failed(address, reply)?;
            &counters.failed
        }
        Delivery::Deferred(reply) => {
            journal.record_deferred(address, reply)?;
            &counters.deferred
        }
        Delivery::Unknown(reason) => {
            journal.record_unknown(address, reason)?;
            &counters.unknown
        }
    };
    counter.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

/// Up to [`BATCH`] messages: waits for the first, takes what else is ready.
fn take_batch(queue: &Mutex<mpsc::Receiver<Outgoing>>) -> Vec<Outgoing> {
    let receiver = queue.lock().expect("not poisoned");
    let mut batch = Vec::with_capacity(BATCH);
    if let Ok(first) = receiver.recv() {
        batch.push(first);
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
    }
    batch
}
