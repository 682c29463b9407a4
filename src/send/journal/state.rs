//! What the journal says about each recipient: its records applied in
//! order, one [`RecipientHistory`] per address.

use std::collections::HashMap;

use super::fingerprint::{Fingerprints, Input};
use super::format::{JournalHeader, Outcome, Record};
use crate::recipients::address_key;

/// Where a recipient stands according to the journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// The server accepted a message: never send again.
    Sent,
    /// Refused permanently: skip.
    Failed,
    /// Refused for now or interrupted before DATA finished: retry.
    Deferred,
    /// An attempt with no recorded outcome: the message may have gone out.
    /// Re-sent only with `--resend-unknown`.
    Unknown,
    /// An attempt with no outcome that never reached the end of its DATA,
    /// made earlier on this boot of the machine (so the journal lost none
    /// of its writes): the server cannot have accepted the message, and it
    /// is sent again like a deferred one.
    Unfinished,
}

/// What the journal says about one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientHistory {
    /// The address as last written (the key is its lower-case form).
    pub address: String,
    pub status: Status,
    /// `attempt` records.
    pub attempts: u32,
    /// `sent` records; more than one means the journal records a double send.
    pub sent: u32,
    /// The Message-ID of the last attempt.
    pub message_id: Option<String>,
    /// The server's reply (or "connection dropped") of the last outcome.
    pub last_reply: Option<String>,
    /// Unix time of the last record.
    pub last_at: u64,
    /// The last attempt, while it has no outcome: the boot of the run that
    /// made it, and whether the end of its DATA was about to be written.
    pub(super) pending: Option<Pending>,
}

/// An attempt without an outcome, as far as the journal has read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Pending {
    pub(super) boot: Option<String>,
    pub(super) data_end: bool,
}

/// How many recipients are in each [`Status`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub sent: usize,
    pub failed: usize,
    pub deferred: usize,
    pub unknown: usize,
    pub unfinished: usize,
}

/// What an existing journal holds, as read by [`Journal::open`](super::Journal::open).
#[derive(Clone, Debug)]
pub struct JournalState {
    pub(super) header: JournalHeader,
    pub(super) recipients: HashMap<String, RecipientHistory>,
    pub(super) records: u64,
    pub(super) torn_bytes: u64,
    pub(super) is_new: bool,
    /// The boot id of the run whose records are being read (the last
    /// `session` record so far).
    pub(super) reading_boot: Option<String>,
    /// The fingerprints the journal belongs to now: the header's, or those
    /// of the last accepted change.
    pub(super) fingerprints: Fingerprints,
    /// Changes accepted so far.
    pub(super) changes: u32,
    /// The inputs whose change this run accepted (`--accept-changes`).
    pub(super) accepted_now: Vec<Input>,
}

impl JournalState {
    pub(super) fn new(header: JournalHeader, is_new: bool) -> Self {
        JournalState {
            fingerprints: header.fingerprints.clone(),
            changes: 0,
            accepted_now: Vec::new(),
            header,
            recipients: HashMap::new(),
            records: 0,
            torn_bytes: 0,
            is_new,
            reading_boot: None,
        }
    }

    /// The header the journal began with (its `started` is the first run's).
    pub fn header(&self) -> &JournalHeader {
        &self.header
    }

    /// How many times changed inputs were accepted (`--accept-changes`).
    pub fn changes(&self) -> u32 {
        self.changes
    }

    /// What this run's `--accept-changes` accepted, in words ("the draft"),
    /// empty when nothing had changed.
    pub fn accepted_now(&self) -> Vec<&'static str> {
        self.accepted_now.iter().map(|i| i.describe()).collect()
    }

    /// Whether `open` created the journal (nothing to resume).
    pub fn is_new(&self) -> bool {
        self.is_new
    }

    /// The status of an address (compared case-insensitively); `None` when
    /// the journal never mentions it.
    pub fn status(&self, address: &str) -> Option<Status> {
        self.history(address).map(|h| h.status)
    }

    /// Everything the journal says about an address.
    pub fn history(&self, address: &str) -> Option<&RecipientHistory> {
        self.recipients.get(address_key(address).as_ref())
    }

    /// Every recipient the journal mentions, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &RecipientHistory> {
        self.recipients.values()
    }

    /// How many recipients are in each status.
    pub fn counts(&self) -> StatusCounts {
        let mut counts = StatusCounts::default();
        for history in self.recipients.values() {
            match history.status {
                Status::Sent => counts.sent += 1,
                Status::Failed => counts.failed += 1,
                Status::Deferred => counts.deferred += 1,
                Status::Unknown => counts.unknown += 1,
                Status::Unfinished => counts.unfinished += 1,
            }
        }
        counts
    }

    /// Records read (header excluded).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Bytes of a torn last line that were cut off (0 if none), so `send`
    /// can mention it.
    pub fn torn_bytes(&self) -> u64 {
        self.torn_bytes
    }

    /// Takes one record into account, in the order of the file.
    pub(super) fn apply(&mut self, record: &Record<'_>) {
        match record {
            Record::Session { boot, .. } => {
                self.reading_boot = boot.as_ref().map(|b| b.to_string());
            }
            Record::Change { fingerprints, .. } => {
                self.fingerprints = fingerprints.clone();
                self.changes += 1;
            }
            Record::DataEnd { rcpt, at } => {
                self.records += 1;
                if let Some(history) = self.recipients.get_mut(address_key(rcpt).as_ref()) {
                    if let Some(pending) = history.pending.as_mut() {
                        pending.data_end = true;
                    }
                    history.last_at = *at;
                }
            }
            Record::Attempt { rcpt, id, at } => {
                let pending = Pending {
                    boot: self.reading_boot.clone(),
                    data_end: false,
                };
                let history = self.recipient_record(rcpt, *at);
                history.attempts += 1;
                history.message_id = Some(id.to_string());
                history.pending = Some(pending);
                history.set_status(Status::Unknown);
            }
            Record::Sent(outcome) => self.apply_outcome(outcome, Status::Sent),
            Record::Deferred(outcome) => self.apply_outcome(outcome, Status::Deferred),
            Record::Failed(outcome) => self.apply_outcome(outcome, Status::Failed),
            Record::Unknown(outcome) => self.apply_outcome(outcome, Status::Unknown),
        }
    }

    /// An outcome record: the attempt before it is no longer pending.
    fn apply_outcome(&mut self, outcome: &Outcome<'_>, status: Status) {
        let history = self.recipient_record(&outcome.rcpt, outcome.at);
        if status == Status::Sent {
            history.sent += 1;
        }
        history.pending = None;
        history.last_reply = Some(outcome.reply.to_string());
        history.set_status(status);
    }

    /// The history of the recipient a record at `at` is about (created at
    /// its first record), with the record counted.
    fn recipient_record(&mut self, rcpt: &str, at: u64) -> &mut RecipientHistory {
        self.records += 1;
        let history = self
            .recipients
            .entry(address_key(rcpt).into_owned())
            .or_insert_with(|| RecipientHistory {
                address: rcpt.to_string(),
                status: Status::Unknown,
                attempts: 0,
                sent: 0,
                message_id: None,
                last_reply: None,
                last_at: 0,
                pending: None,
            });
        history.address = rcpt.to_string();
        history.last_at = at;
        history
    }
}

impl RecipientHistory {
    /// `Sent` is final: the server has the message, and no later record
    /// (which a correct sender never writes) can take that back. Anything
    /// else, the last record decides.
    fn set_status(&mut self, status: Status) {
        if self.status != Status::Sent {
            self.status = status;
        }
    }
}
