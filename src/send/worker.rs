//! One worker thread's loop: take a batch from the queue, record its
//! attempts and commit the journal once (the durability invariant), then
//! deliver each message and record its outcome.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};

use lettre::address::Envelope;

use super::SendError;
use super::journal::Journal;
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
    Relay {
        connector: Connector,
        journal: Journal,
        rate: Option<RateLimiter>,
        connections: usize,
        down: RelayDown,
    },
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
                Sink::Directory(dir) => {
                    for outgoing in batch {
                        let n = sequence.fetch_add(1, Ordering::SeqCst) + 1;
                        let path = dir.join(format!("{n:06}.eml"));
                        std::fs::write(&path, &outgoing.bytes).map_err(|e| {
                            SendError::Setup(format!("cannot write {}: {e}", path.display()))
                        })?;
                        counters.sent.fetch_add(1, Ordering::SeqCst);
                    }
                }
                Sink::Relay {
                    connector,
                    journal,
                    rate,
                    down,
                    ..
                } => {
                    for outgoing in &batch {
                        journal.record_attempt(&outgoing.address, &outgoing.message_id)?;
                    }
                    // The durability invariant: attempts are on disk before
                    // any of these messages reaches the server.
                    journal.commit()?;
                    let mut rest = batch.into_iter();
                    for outgoing in rest.by_ref() {
                        if stop.load(Ordering::SeqCst) {
                            journal
                                .record_deferred(&outgoing.address, "interrupted before sending")?;
                            counters.deferred.fetch_add(1, Ordering::SeqCst);
                            continue;
                        }
                        if let Some(rate) = rate {
                            rate.wait();
                        }
                        let outcome = deliver_with_retries(
                            connector,
                            &mut session,
                            &outgoing,
                            stop,
                            journal,
                            down,
                        );
                        match outcome {
                            Ok(Delivery::Unknown(reason)) => {
                                journal.record_unknown(&outgoing.address, &reason)?;
                                counters.unknown.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(e @ SendError::Journal(_)) => return Err(e),
                            Ok(Delivery::Accepted(reply)) => {
                                journal.record_sent(&outgoing.address, &reply)?;
                                counters.sent.fetch_add(1, Ordering::SeqCst);
                            }
                            Ok(Delivery::Refused(reply)) => {
                                journal.record_failed(&outgoing.address, &reply)?;
                                counters.failed.fetch_add(1, Ordering::SeqCst);
                            }
                            Ok(Delivery::Deferred(reply)) => {
                                journal.record_deferred(&outgoing.address, &reply)?;
                                counters.deferred.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(e) => {
                                // The relay refuses us altogether: nothing of
                                // this batch was delivered; retry next run.
                                journal.record_deferred(&outgoing.address, &e.to_string())?;
                                counters.deferred.fetch_add(1, Ordering::SeqCst);
                                for outgoing in rest {
                                    journal.record_deferred(
                                        &outgoing.address,
                                        "not sent: run stopped",
                                    )?;
                                    counters.deferred.fetch_add(1, Ordering::SeqCst);
                                }
                                journal.commit()?;
                                return Err(e);
                            }
                        }
                    }
                }
            }
            if stop.load(Ordering::SeqCst) {
                break;
            }
        }
        if let Sink::Relay { journal, .. } = self {
            journal.commit()?;
        }
        if let Some(session) = session {
            session.quit();
        }
        Ok(())
    }
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
