//! The send journal (SPEC §5): an append-only JSON-lines file beside the
//! campaign that records every SMTP attempt and its outcome, so that `send`
//! can stop at any moment — Ctrl-C, a crash, a power cut — and resume
//! without mailing anyone twice.
//!
//! # Format
//!
//! One JSON object per line. The first line is the header; every other line
//! is a record whose `t` says what it is (`at` is Unix time, seconds):
//!
//! ```text
//! {"journal":2,"campaign":"Voorjaarsactie 2027","fingerprints":{"campaign":"…","draft":"…","recipients":"…"},"started":"2027-03-01T09:00:00Z"}
//! {"t":"session","boot":"5f0c…","pid":4242,"at":1803978000}
//! {"t":"attempt","rcpt":"jan@example.nl","id":"<…@shop.example>","at":1803978000}
//! {"t":"data-end","rcpt":"jan@example.nl","at":1803978000}
//! {"t":"sent","rcpt":"jan@example.nl","reply":"250 2.0.0 OK queued","at":1803978000}
//! {"t":"attempt","rcpt":"piet@example.nl","id":"<…@shop.example>","at":1803978001}
//! {"t":"deferred","rcpt":"piet@example.nl","reply":"451 4.3.0 try again later","at":1803978001}
//! {"t":"failed","rcpt":"kees@example.nl","reply":"550 5.1.1 no such user","at":1803978002}
//! {"t":"unknown","rcpt":"anna@example.nl","reply":"no reply after the end of DATA …","at":1803978003}
//! ```
//!
//! `session` starts each run of `send`, with the machine's boot id
//! ([`machine_boot_id`]). `data-end` says that the end of the message's DATA
//! (the `.` line) was about to be written to the server: before it, the
//! server cannot have accepted the message. A `failed` with no `attempt`
//! before it is a recipient whose message was never handed to the server:
//! it could not be built from their row (a merge value that would put a
//! line break into a header).
//!
//! The fingerprints (xxh3-128 of each input file, see [`fingerprint_file`])
//! tie the journal to the exact campaign, draft and list it was started for:
//! [`Journal::open`] refuses to resume when any of them changed, and says
//! which.
//!
//! # What is written when
//!
//! 1. **An `attempt` record is durable — written and `fdatasync`ed by
//!    [`Journal::commit`] — before its message is handed to the SMTP
//!    server.** So for every message a server may have accepted, the
//!    journal holds an attempt, whatever happens afterwards, a power cut
//!    included. Senders record a small batch of attempts and commit once.
//! 2. **`data-end` and every outcome are written (`write(2)`, no sync) the
//!    moment they happen.** They survive the death of the process (the
//!    kernel has them), not a power cut.
//!
//! Reading the journal back, an attempt without an outcome is:
//! - after a `data-end`: [`Status::Unknown`]. The server may have the
//!   message; `send` re-sends it only with `--resend-unknown`.
//! - without one, made on this same boot of the machine:
//!   [`Status::Unfinished`]. Rule 2 means the `data-end` would be in the
//!   file had the end of DATA been written: the server cannot have accepted
//!   the message, and it is simply sent.
//! - without one, made on another boot (or where the boot id is not
//!   known): [`Status::Unknown`], since writes not yet synced may have been
//!   lost with the power.
//!
//! The same holds within a run: a connection lost after the end of DATA
//! was written but before the reply (RFC 1047's case) is recorded `unknown`
//! and not retried, since no client can tell whether the server queued the
//! message.
//!
//! # Threads
//!
//! A [`Journal`] is shared by reference between the sender threads (it is
//! `Sync`); appends take a short lock, and [`Journal::commit`] is a group
//! commit: the `fdatasync` runs outside the append lock, and threads whose
//! records were covered by another thread's sync return without one of their
//! own, so N connections cost far fewer than N syncs per round. A single
//! writer thread fed by a channel was the alternative; it was not chosen
//! because each sender must still wait until *its* attempt is durable before
//! DATA, which would need a reply channel per attempt — the same waiting with
//! more moving parts.
//!
//! Only one `send` may use a journal at a time: [`Journal::open`] takes an
//! exclusive advisory lock on the file (held until the `Journal` is dropped)
//! and reports [`JournalError::Locked`] otherwise, since two processes
//! resuming the same journal would both send to the same recipients.
//!
//! # Damage
//!
//! Records are only ever appended, each as one whole line, but a buffer
//! flush can split a line across `write` calls, and a crash can leave a torn
//! last line (no newline, or bytes that are not JSON, e.g. zeros after a
//! power cut); it is ignored, and cut off when the journal is next opened,
//! before anything new is appended. A last line that lacks only its newline but holds a whole record
//! is kept (the newline is added): it may be a `sent` that must not be lost.
//! Anything unreadable before the last line is corruption and an error naming
//! the line: guessing there could mail someone twice.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::recipients::address_key;

/// The journal format this code writes. Version 2 added the `session`,
/// `data-end` and `change` records, which a mailgate that knows only
/// version 1 would take for damage; it now says the journal is newer.
pub const FORMAT_VERSION: u64 = 2;

/// The oldest format this code reads: a version 1 journal has no `session`
/// records, so its attempts without an outcome count as after a reboot
/// (unknown), the safe reading.
const OLDEST_READ_VERSION: u64 = 1;

/// xxh3-128 fingerprints (32 lower-case hex digits) of what decides who
/// gets which message: the campaign's settings outside `[smtp]`, the draft,
/// the recipient list and the suppression lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprints {
    /// The campaign file's settings that change a verdict or a message
    /// (see [`fingerprint_campaign_settings`]).
    pub campaign: String,
    /// The draft (`.eml`).
    pub draft: String,
    /// The recipient CSV.
    pub recipients: String,
    /// The suppression files, in order; empty in journals written before
    /// they were fingerprinted (then not compared).
    #[serde(default)]
    pub suppression: String,
}

impl Fingerprints {
    /// Fingerprints the inputs (see [`fingerprint_file`] and
    /// [`fingerprint_campaign_settings`]).
    pub fn of_files(
        campaign: &Path,
        draft: &Path,
        recipients: &Path,
        suppression: &[PathBuf],
    ) -> io::Result<Self> {
        let mut hasher = xxhash_rust::xxh3::Xxh3Default::new();
        for file in suppression {
            hasher.update(fingerprint_file(file)?.as_bytes());
        }
        Ok(Fingerprints {
            campaign: fingerprint_campaign_settings(campaign)?,
            draft: fingerprint_file(draft)?,
            recipients: fingerprint_file(recipients)?,
            suppression: format!("{:032x}", hasher.digest128()),
        })
    }

    /// Which inputs differ between `self` (what the journal holds) and
    /// `now`, in the order campaign, draft, recipients, suppression.
    pub fn changed(&self, now: &Fingerprints) -> Vec<Input> {
        [
            (Input::Campaign, &self.campaign, &now.campaign),
            (Input::Draft, &self.draft, &now.draft),
            (Input::Recipients, &self.recipients, &now.recipients),
            (Input::Suppression, &self.suppression, &now.suppression),
        ]
        .into_iter()
        .filter(|(input, then, now)| {
            then != now && !(*input == Input::Suppression && then.is_empty())
        })
        .map(|(input, _, _)| input)
        .collect()
    }
}

/// The fingerprint of a campaign file's settings that decide who gets which
/// message: the whole file as TOML data (comments and layout do not count)
/// without the `[smtp]` table (host, port, connections, rate… change how
/// mail is handed over, not what or to whom) and without the rule levels
/// of `[rules]` (`allow`, `warn`, `deny` shape the report, never who is
/// sendable). A file that is no TOML is fingerprinted as bytes.
pub fn fingerprint_campaign_settings(path: &Path) -> io::Result<String> {
    let text = std::fs::read_to_string(path)?;
    let Ok(mut table) = text.parse::<toml::Table>() else {
        return fingerprint_file(path);
    };
    table.remove("smtp");
    if let Some(toml::Value::Table(rules)) = table.get_mut("rules") {
        for level in ["allow", "warn", "deny"] {
            rules.remove(level);
        }
    }
    // serde_json writes a table's keys in the map's (sorted) order.
    let canonical = serde_json::to_vec(&table).map_err(io::Error::other)?;
    Ok(format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&canonical)))
}

/// The xxh3-128 of a file's bytes as 32 lower-case hex digits, read in
/// chunks (a recipient list can be large).
pub fn fingerprint_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = xxhash_rust::xxh3::Xxh3Default::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(format!("{:032x}", hasher.digest128()))
}

/// One of the inputs a journal is tied to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Input {
    Campaign,
    Draft,
    Recipients,
    Suppression,
}

impl Input {
    pub fn describe(self) -> &'static str {
        match self {
            Input::Campaign => "the campaign settings (outside [smtp])",
            Input::Draft => "the draft",
            Input::Recipients => "the recipient list",
            Input::Suppression => "the suppression list",
        }
    }
}

/// The journal's first line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalHeader {
    /// The campaign's name, for people reading the file.
    pub campaign: String,
    pub fingerprints: Fingerprints,
    /// When the journal began (RFC 3339, UTC).
    pub started: String,
}

impl JournalHeader {
    /// A header for a journal that begins now.
    pub fn new(campaign: impl Into<String>, fingerprints: Fingerprints) -> Self {
        let now = jiff::Timestamp::now();
        // Whole seconds: the file is read by people; sub-seconds add nothing.
        let started = jiff::Timestamp::from_second(now.as_second()).unwrap_or(now);
        JournalHeader {
            campaign: campaign.into(),
            fingerprints,
            started: started.to_string(),
        }
    }
}

/// The header line as stored: the header behind its format version.
#[derive(Serialize, Deserialize)]
struct HeaderLine<'a> {
    journal: u64,
    #[serde(flatten)]
    header: Cow<'a, JournalHeader>,
}

/// A line after the header.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
enum Record<'a> {
    /// A run of `send` begins: the machine's boot id (see [`machine_boot_id`]),
    /// null where it cannot be read. Written and synced before the run's
    /// first attempt.
    Session {
        boot: Option<Cow<'a, str>>,
        #[serde(default)]
        pid: u32,
        #[serde(default)]
        at: u64,
    },
    /// The user accepted changed inputs (`--accept-changes`): from here on
    /// the journal belongs to these fingerprints.
    Change {
        changed: Vec<Input>,
        fingerprints: Fingerprints,
        #[serde(default)]
        at: u64,
    },
    /// The end of the message's DATA (the `.` line) is about to be written
    /// to the server: until this record, the server cannot have accepted
    /// the message.
    #[serde(rename = "data-end")]
    DataEnd {
        rcpt: Cow<'a, str>,
        #[serde(default)]
        at: u64,
    },
    /// About to hand a message to the server (durable before DATA).
    Attempt {
        rcpt: Cow<'a, str>,
        id: Cow<'a, str>,
        #[serde(default)]
        at: u64,
    },
    /// The server accepted the message (2xx after DATA).
    Sent {
        rcpt: Cow<'a, str>,
        reply: Cow<'a, str>,
        #[serde(default)]
        at: u64,
    },
    /// Not delivered this time: a 4xx reply, a timeout or a dropped connection.
    Deferred {
        rcpt: Cow<'a, str>,
        reply: Cow<'a, str>,
        #[serde(default)]
        at: u64,
    },
    /// Refused permanently (5xx); not to be retried.
    Failed {
        rcpt: Cow<'a, str>,
        reply: Cow<'a, str>,
        #[serde(default)]
        at: u64,
    },
    /// The end of DATA was written but the reply never came (a broken
    /// connection, a timeout): the server may have the message.
    Unknown {
        rcpt: Cow<'a, str>,
        reply: Cow<'a, str>,
        #[serde(default)]
        at: u64,
    },
}

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
    pending: Option<Pending>,
}

/// An attempt without an outcome, as far as the journal has read.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pending {
    boot: Option<String>,
    data_end: bool,
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

/// What an existing journal holds, as read by [`Journal::open`].
#[derive(Clone, Debug)]
pub struct JournalState {
    header: JournalHeader,
    recipients: HashMap<String, RecipientHistory>,
    records: u64,
    torn_bytes: u64,
    is_new: bool,
    /// The boot id of the run whose records are being read (the last
    /// `session` record so far).
    reading_boot: Option<String>,
    /// The fingerprints the journal belongs to now: the header's, or those
    /// of the last accepted change.
    fingerprints: Fingerprints,
    /// Changes accepted so far.
    changes: u32,
    /// The inputs whose change this run accepted (`--accept-changes`).
    accepted_now: Vec<Input>,
}

impl JournalState {
    fn new(header: JournalHeader, is_new: bool) -> Self {
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

    fn apply(&mut self, record: &Record<'_>) {
        let (rcpt, at) = match record {
            Record::Session { boot, .. } => {
                self.reading_boot = boot.as_ref().map(|b| b.to_string());
                return;
            }
            Record::Change { fingerprints, .. } => {
                self.fingerprints = fingerprints.clone();
                self.changes += 1;
                return;
            }
            Record::DataEnd { rcpt, at } => {
                self.records += 1;
                if let Some(history) = self.recipients.get_mut(address_key(rcpt).as_ref()) {
                    if let Some(pending) = history.pending.as_mut() {
                        pending.data_end = true;
                    }
                    history.last_at = *at;
                }
                return;
            }
            Record::Attempt { rcpt, at, .. }
            | Record::Sent { rcpt, at, .. }
            | Record::Deferred { rcpt, at, .. }
            | Record::Failed { rcpt, at, .. }
            | Record::Unknown { rcpt, at, .. } => (rcpt, *at),
        };
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
        // `Sent` is final: the server has the message, and no later record
        // (which a correct sender never writes) can take that back. Anything
        // else, the last record decides.
        let was_sent = history.status == Status::Sent;
        let (status, reply) = match record {
            Record::Attempt { id, .. } => {
                history.attempts += 1;
                history.message_id = Some(id.to_string());
                history.pending = Some(Pending {
                    boot: self.reading_boot.clone(),
                    data_end: false,
                });
                (Status::Unknown, None)
            }
            Record::Sent { reply, .. } => {
                history.sent += 1;
                (Status::Sent, Some(reply))
            }
            Record::Deferred { reply, .. } => (Status::Deferred, Some(reply)),
            Record::Failed { reply, .. } => (Status::Failed, Some(reply)),
            Record::Unknown { reply, .. } => (Status::Unknown, Some(reply)),
            Record::Session { .. } | Record::Change { .. } | Record::DataEnd { .. } => {
                unreachable!("returned above")
            }
        };
        if !matches!(record, Record::Attempt { .. }) {
            history.pending = None;
        }
        if let Some(reply) = reply {
            history.last_reply = Some(reply.to_string());
        }
        if !was_sent {
            history.status = status;
        }
    }
}

impl JournalState {
    /// Decides what each attempt without an outcome means, now that the
    /// whole journal is read, on the boot `this_boot` of the machine (None:
    /// unknown, which counts as a reboot).
    ///
    /// Outcome and `data-end` records are written (not synced) as they
    /// happen, so after the *process* died they are in the file: an attempt
    /// made on this same boot that has no `data-end` never had its DATA
    /// ended, and the server cannot have accepted it. After a reboot or a
    /// power cut, writes that were not yet synced may be lost, so any
    /// attempt without an outcome may have gone out.
    fn settle(&mut self, this_boot: Option<&str>) {
        for history in self.recipients.values_mut() {
            if history.status != Status::Unknown {
                continue;
            }
            if let Some(pending) = &history.pending
                && !pending.data_end
                && this_boot.is_some()
                && pending.boot.as_deref() == this_boot
            {
                history.status = Status::Unfinished;
            }
        }
    }
}

/// How many recipients a journal records as sent, read without opening it
/// for a run (no lock, nothing written). Lines that do not parse are
/// skipped: this only counts.
pub fn count_sent(path: &Path) -> Result<usize, JournalError> {
    let file = File::open(path).map_err(|e| io_error(path, "open", e))?;
    let mut sent = std::collections::HashSet::new();
    for line in BufReader::new(file).split(b'\n') {
        let line = line.map_err(|e| io_error(path, "read", e))?;
        if let Ok(Record::Sent { rcpt, .. }) = serde_json::from_slice::<Record<'_>>(&line) {
            sent.insert(address_key(&rcpt).into_owned());
        }
    }
    Ok(sent.len())
}

/// This boot of the machine: Linux's `/proc/sys/kernel/random/boot_id`,
/// which changes at every boot. `None` elsewhere, or when it cannot be
/// read; journals then treat every attempt without an outcome as unknown,
/// as after a reboot.
pub fn machine_boot_id() -> Option<String> {
    let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let id = text.trim();
    (!id.is_empty()).then(|| id.to_owned())
}

/// Why a journal cannot be opened or written. Every message names the file
/// and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {}: cannot {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: io::Error,
    },
    #[error(
        "journal {} is in use by another `mailgate send`; let it finish (or stop it) before resuming",
        path.display()
    )]
    Locked { path: PathBuf },
    #[error("{} is not a mailgate journal ({reason}); choose another file with --journal", path.display())]
    NotAJournal { path: PathBuf, reason: String },
    #[error(
        "journal {} has format version {found}, but this mailgate reads version {FORMAT_VERSION}; \
         resume with the mailgate that wrote it (a new journal would forget who was mailed)",
        path.display()
    )]
    UnsupportedVersion { path: PathBuf, found: u64 },
    #[error(
        "{} changed since the journal {} recorded them (started {started}; {sent} \
         recipient(s) already sent). To go on with the same journal, so that whoever was \
         sent stays sent and nobody is mailed twice, run send again with --accept-changes; \
         or restore the {}",
        describe_changed(changed),
        path.display(),
        if changed.len() == 1 { "file" } else { "files" }
    )]
    InputsChanged {
        path: PathBuf,
        started: String,
        changed: Vec<Input>,
        sent: usize,
    },
    #[error(
        "journal {}:{line}: {reason}; the journal is damaged before its last line: repair or \
         delete that line by hand (a new journal with --journal would forget who was mailed)",
        path.display()
    )]
    Corrupt {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error(
        "journal {}: an earlier write or sync failed, so it cannot record more safely; \
         stop sending, fix the cause (disk full?) and resume",
        path.display()
    )]
    Broken { path: PathBuf },
}

fn describe_changed(changed: &[Input]) -> String {
    let names: Vec<&str> = changed.iter().map(|i| i.describe()).collect();
    match names.as_slice() {
        [] => "nothing".to_owned(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// An open journal, ready for appending. See the module docs for the order
/// of calls and the durability invariant.
pub struct Journal {
    path: PathBuf,
    writer: Mutex<Appender>,
    /// Serialises syncs; holds how many records are known durable.
    synced: Mutex<u64>,
    /// A second handle on the same file, synced without the append lock.
    sync_handle: File,
    /// Set after any failed write or sync; every later call fails.
    broken: AtomicBool,
}

struct Appender {
    out: BufWriter<File>,
    /// Records appended so far (handed to `out`).
    appended: u64,
}

impl Journal {
    /// Opens the journal at `path`, creating it with `header` when it does not
    /// exist, and otherwise reading it: the stored fingerprints must equal
    /// `header.fingerprints` (else [`JournalError::InputsChanged`]), a torn
    /// last line is cut off, and the state of every recipient is returned.
    /// The file stays locked until the `Journal` is dropped.
    ///
    /// A `session` record with this machine's boot id (see
    /// [`machine_boot_id`]) is appended and synced: it tells a later run
    /// whether the attempts that follow were made on its own boot.
    pub fn open(
        path: &Path,
        header: JournalHeader,
    ) -> Result<(Journal, JournalState), JournalError> {
        Journal::open_with(path, header, machine_boot_id().as_deref(), false)
    }

    /// [`Journal::open`] as if the machine's boot id were `boot` (`None`:
    /// not known).
    pub fn open_on_boot(
        path: &Path,
        header: JournalHeader,
        boot: Option<&str>,
    ) -> Result<(Journal, JournalState), JournalError> {
        Journal::open_with(path, header, boot, false)
    }

    /// [`Journal::open`] on boot `boot`; with `accept_changes`, inputs that
    /// differ from the journal's are accepted (`--accept-changes`) and a
    /// `change` record says so: the journal goes on, sent stays sent.
    pub fn open_with(
        path: &Path,
        header: JournalHeader,
        boot: Option<&str>,
        accept_changes: bool,
    ) -> Result<(Journal, JournalState), JournalError> {
        let mut tried_to_create = false;
        let mut created = false;
        let file = loop {
            match OpenOptions::new().read(true).append(true).open(path) {
                Ok(file) => break file,
                Err(e) if e.kind() == io::ErrorKind::NotFound && !tried_to_create => {
                    tried_to_create = true;
                    // Then open what is there: ours, or a racing process's,
                    // which the lock below sorts out.
                    created = create(path, &header)?;
                }
                Err(e) => return Err(io_error(path, "open", e)),
            }
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(JournalError::Locked {
                    path: path.to_owned(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_error(path, "lock", e)),
        }

        let (mut state, repair) = read(path, &file, &header)?;
        let changed = state.fingerprints.changed(&header.fingerprints);
        if !changed.is_empty() && !accept_changes {
            // Refused before any repair: the file is left exactly as it was.
            return Err(JournalError::InputsChanged {
                path: path.to_owned(),
                started: state.header.started.clone(),
                sent: state.counts().sent,
                changed,
            });
        }
        repair.apply(path, &file, &header)?;
        state.is_new |= created;
        state.settle(boot);
        let mut session = serde_json::to_vec(&Record::Session {
            boot: boot.map(Cow::Borrowed),
            pid: std::process::id(),
            at: unix_now(),
        })
        .expect("a journal record serialises");
        session.push(b'\n');
        if !changed.is_empty() {
            let mut change = serde_json::to_vec(&Record::Change {
                changed: changed.clone(),
                fingerprints: header.fingerprints.clone(),
                at: unix_now(),
            })
            .expect("a journal record serialises");
            change.push(b'\n');
            session.extend_from_slice(&change);
            state.fingerprints = header.fingerprints.clone();
            state.changes += 1;
            state.accepted_now = changed.clone();
        }
        (&file)
            .write_all(&session)
            .and_then(|()| file.sync_data())
            .map_err(|e| io_error(path, "write", e))?;

        let sync_handle = file.try_clone().map_err(|e| io_error(path, "open", e))?;
        let journal = Journal {
            path: path.to_owned(),
            writer: Mutex::new(Appender {
                out: BufWriter::with_capacity(64 * 1024, file),
                appended: 0,
            }),
            synced: Mutex::new(0),
            sync_handle,
            broken: AtomicBool::new(false),
        };
        Ok((journal, state))
    }

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
        self.append_now(&Record::Sent {
            rcpt: rcpt.into(),
            reply: reply.into(),
            at: unix_now(),
        })
    }

    /// Records a temporary failure: a 4xx reply, a timeout, or
    /// `"connection dropped"`.
    pub fn record_deferred(&self, rcpt: &str, reply: &str) -> Result<(), JournalError> {
        self.append_now(&Record::Deferred {
            rcpt: rcpt.into(),
            reply: reply.into(),
            at: unix_now(),
        })
    }

    /// Records that the end of DATA was written and no reply came: the
    /// outcome no one can know ([`Status::Unknown`]).
    pub fn record_unknown(&self, rcpt: &str, reason: &str) -> Result<(), JournalError> {
        self.append_now(&Record::Unknown {
            rcpt: rcpt.into(),
            reply: reason.into(),
            at: unix_now(),
        })
    }

    /// Records a permanent refusal (a 5xx reply).
    pub fn record_failed(&self, rcpt: &str, reply: &str) -> Result<(), JournalError> {
        self.append_now(&Record::Failed {
            rcpt: rcpt.into(),
            reply: reply.into(),
            at: unix_now(),
        })
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

/// Creates the journal atomically: the header is written and synced in a
/// temporary file that is then linked into place without replacing anything,
/// so a journal on disk always starts with a whole header. Returns false if
/// another process created it first.
fn create(path: &Path, header: &JournalHeader) -> Result<bool, JournalError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".mailgate-journal-")
        .tempfile_in(dir)
        .map_err(|e| io_error(path, "create", e))?;
    tmp.write_all(&header_line(header))
        .and_then(|()| tmp.as_file().sync_data())
        .map_err(|e| io_error(path, "write the header", e))?;
    match tmp.persist_noclobber(path) {
        Ok(_) => {}
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(io_error(path, "create", e.error)),
    }
    // The new directory entry must survive a crash too.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(path, "sync the directory of", e))?;
    Ok(true)
}

fn header_line(header: &JournalHeader) -> Vec<u8> {
    let mut line = serde_json::to_vec(&HeaderLine {
        journal: FORMAT_VERSION,
        header: Cow::Borrowed(header),
    })
    .expect("a journal header serialises");
    line.push(b'\n');
    line
}

/// What [`read`] found to fix before appending.
#[derive(Debug, PartialEq, Eq)]
enum Repair {
    Nothing,
    /// An empty file, or one whose only content is a torn header: nothing to
    /// keep, so (re)write the header.
    WriteHeader,
    /// Cut the file to this length: the end of the last whole record.
    CutTornLine(u64),
    /// The last record is whole but lost its newline: add it.
    EndLastLine,
}

impl Repair {
    fn apply(&self, path: &Path, file: &File, header: &JournalHeader) -> Result<(), JournalError> {
        // The file is open for appending: writes land at its (new) end.
        let mut out = file;
        match self {
            Repair::Nothing => Ok(()),
            Repair::WriteHeader => file
                .set_len(0)
                .and_then(|()| out.write_all(&header_line(header)))
                .and_then(|()| file.sync_data())
                .map_err(|e| io_error(path, "write the header of", e)),
            Repair::CutTornLine(len) => file
                .set_len(*len)
                .and_then(|()| file.sync_data())
                .map_err(|e| io_error(path, "cut off the torn last line of", e)),
            Repair::EndLastLine => out
                .write_all(b"\n")
                .and_then(|()| file.sync_data())
                .map_err(|e| io_error(path, "end the last line of", e)),
        }
    }
}

/// Reads the whole journal into a state, and says what to repair (a torn
/// last line) before appending; changes nothing itself. `header` stands in
/// when the file holds no header yet.
fn read(
    path: &Path,
    file: &File,
    header: &JournalHeader,
) -> Result<(JournalState, Repair), JournalError> {
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut line = Vec::new();
    let mut state: Option<JournalState> = None;
    let mut line_no = 0u64;
    // Bytes of whole records so far: where a torn line is cut off.
    let mut good_len = 0u64;
    let mut missing_newline = false;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| io_error(path, "read", e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let terminated = line.ends_with(b"\n");
        let is_last = !terminated
            || reader
                .fill_buf()
                .map_err(|e| io_error(path, "read", e))?
                .is_empty();
        let text = line.strip_suffix(b"\n").unwrap_or(&line);

        let Some(state) = state.as_mut() else {
            match serde_json::from_slice::<HeaderLine<'_>>(text) {
                Ok(h) if !(OLDEST_READ_VERSION..=FORMAT_VERSION).contains(&h.journal) => {
                    return Err(JournalError::UnsupportedVersion {
                        path: path.to_owned(),
                        found: h.journal,
                    });
                }
                Ok(h) => state = Some(JournalState::new(h.header.into_owned(), false)),
                // A header torn while it was first written: nothing to keep.
                Err(_) if !terminated && text.starts_with(br#"{"journal":"#) => {
                    return Ok((JournalState::new(header.clone(), true), Repair::WriteHeader));
                }
                Err(e) => {
                    return Err(JournalError::NotAJournal {
                        path: path.to_owned(),
                        reason: format!("line 1 is no journal header: {e}"),
                    });
                }
            }
            good_len += n as u64;
            missing_newline = !terminated;
            continue;
        };

        if text.iter().all(u8::is_ascii_whitespace) && terminated {
            good_len += n as u64;
            continue;
        }
        match serde_json::from_slice::<Record<'_>>(text) {
            Ok(record) => {
                state.apply(&record);
                good_len += n as u64;
                missing_newline = !terminated;
            }
            Err(_) if is_last => {
                state.torn_bytes = n as u64;
            }
            Err(e) => {
                return Err(JournalError::Corrupt {
                    path: path.to_owned(),
                    line: line_no,
                    reason: e.to_string(),
                });
            }
        }
    }

    let Some(state) = state else {
        // An empty file.
        return Ok((JournalState::new(header.clone(), true), Repair::WriteHeader));
    };
    let repair = if state.torn_bytes > 0 {
        Repair::CutTornLine(good_len)
    } else if missing_newline {
        Repair::EndLastLine
    } else {
        Repair::Nothing
    };
    Ok((state, repair))
}

fn io_error(path: &Path, action: &'static str, source: io::Error) -> JournalError {
    JournalError::Io {
        path: path.to_owned(),
        action,
        source,
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprints() -> Fingerprints {
        Fingerprints {
            campaign: "11".repeat(16),
            draft: "22".repeat(16),
            recipients: "33".repeat(16),
            suppression: "88".repeat(16),
        }
    }

    fn header() -> JournalHeader {
        JournalHeader::new("Voorjaarsactie 2027", fingerprints())
    }

    fn journal_path(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join("campaign.journal.jsonl")
    }

    /// Opens as on a machine whose boot is not known: every attempt
    /// without an outcome is unknown (the tests of the boot rule say which
    /// boot they mean).
    fn open(path: &Path) -> (Journal, JournalState) {
        Journal::open_on_boot(path, header(), None).expect("open journal")
    }

    /// The journal's lines, without the `session` record each open writes.
    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .expect("read journal")
            .lines()
            .filter(|l| !l.starts_with(r#"{"t":"session""#))
            .map(str::to_owned)
            .collect()
    }

    fn append_raw(path: &Path, bytes: &[u8]) {
        let mut f = OpenOptions::new().append(true).open(path).expect("open");
        f.write_all(bytes).expect("append");
    }

    #[test]
    fn a_new_journal_starts_with_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        let (journal, state) = open(&path);
        assert!(state.is_new());
        assert_eq!(state.records(), 0);
        assert_eq!(state.counts(), StatusCounts::default());
        drop(journal);

        let lines = lines(&path);
        assert_eq!(lines.len(), 1);
        let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["journal"], 2);
        assert_eq!(v["campaign"], "Voorjaarsactie 2027");
        assert_eq!(v["fingerprints"]["draft"], "22".repeat(16));
        let started = v["started"].as_str().unwrap();
        assert!(started.parse::<jiff::Timestamp>().is_ok(), "{started}");
        // The temporary file it was made in is gone.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn records_are_json_lines_in_the_documented_shape() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        let (journal, _) = open(&path);
        journal
            .record_attempt("jan@example.nl", "<1@shop.example>")
            .unwrap();
        journal
            .record_sent("jan@example.nl", "250 2.0.0 OK")
            .unwrap();
        journal
            .record_deferred("piet@example.nl", "connection dropped")
            .unwrap();
        journal
            .record_failed("kees@example.nl", "550 5.1.1 no\r\nsuch user")
            .unwrap();
        journal.close().unwrap();

        let lines = lines(&path);
        assert_eq!(lines.len(), 5);
        let records: Vec<serde_json::Value> = lines[1..]
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(records[0]["t"], "attempt");
        assert_eq!(records[0]["rcpt"], "jan@example.nl");
        assert_eq!(records[0]["id"], "<1@shop.example>");
        assert!(records[0]["at"].as_u64().unwrap() > 1_600_000_000);
        assert_eq!(records[1]["t"], "sent");
        assert_eq!(records[1]["reply"], "250 2.0.0 OK");
        assert_eq!(records[2]["t"], "deferred");
        assert_eq!(records[3]["t"], "failed");
        // A reply with CR/LF stays on its line.
        assert_eq!(records[3]["reply"], "550 5.1.1 no\r\nsuch user");
    }

    #[test]
    fn resume_reads_every_recipients_last_status() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        {
            let (journal, _) = open(&path);
            journal.record_attempt("Jan@Example.NL", "<1@x>").unwrap();
            journal.record_sent("Jan@Example.NL", "250 OK").unwrap();
            journal.record_attempt("piet@example.nl", "<2@x>").unwrap();
            journal
                .record_deferred("piet@example.nl", "451 later")
                .unwrap();
            journal.record_attempt("kees@example.nl", "<3@x>").unwrap();
            journal
                .record_failed("kees@example.nl", "550 no such user")
                .unwrap();
            journal.record_attempt("anna@example.nl", "<4@x>").unwrap();
            journal.close().unwrap();
        }
        let (_journal, state) = open(&path);
        assert!(!state.is_new());
        assert_eq!(state.records(), 7);
        assert_eq!(state.status("jan@example.nl"), Some(Status::Sent));
        assert_eq!(state.status("JAN@example.nl"), Some(Status::Sent));
        assert_eq!(state.status("piet@example.nl"), Some(Status::Deferred));
        assert_eq!(state.status("kees@example.nl"), Some(Status::Failed));
        assert_eq!(state.status("anna@example.nl"), Some(Status::Unknown));
        assert_eq!(state.status("nobody@example.nl"), None);
        assert_eq!(
            state.counts(),
            StatusCounts {
                sent: 1,
                failed: 1,
                deferred: 1,
                unknown: 1,
                unfinished: 0,
            }
        );
        let kees = state.history("kees@example.nl").unwrap();
        assert_eq!(kees.last_reply.as_deref(), Some("550 no such user"));
        assert_eq!(kees.message_id.as_deref(), Some("<3@x>"));
        assert_eq!(
            state.history("jan@example.nl").unwrap().address,
            "Jan@Example.NL"
        );
    }

    #[test]
    fn an_attempt_without_an_outcome_is_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        {
            let (journal, _) = open(&path);
            // Deferred, retried, and then the process died mid-transaction.
            journal.record_attempt("piet@example.nl", "<p@x>").unwrap();
            journal
                .record_deferred("piet@example.nl", "451 later")
                .unwrap();
            journal.record_attempt("piet@example.nl", "<p@x>").unwrap();
            journal.commit().unwrap();
            // Killed here: everything is committed, so the file is what a
            // kill would leave (the kernel releases the lock).
        }
        let (journal, state) = open(&path);
        let piet = state.history("piet@example.nl").unwrap();
        assert_eq!(piet.status, Status::Unknown);
        assert_eq!(piet.attempts, 2);
        assert_eq!(piet.last_reply.as_deref(), Some("451 later"));

        // Resent with --resend-unknown: the outcome settles it.
        journal.record_attempt("piet@example.nl", "<p@x>").unwrap();
        journal.record_sent("piet@example.nl", "250 OK").unwrap();
        drop(journal);
        let (_journal, state) = open(&path);
        assert_eq!(state.status("piet@example.nl"), Some(Status::Sent));
        assert_eq!(state.history("piet@example.nl").unwrap().attempts, 3);
    }

    #[test]
    fn sent_is_final_whatever_follows() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        {
            let (journal, _) = open(&path);
            journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
            journal.record_sent("jan@example.nl", "250 OK").unwrap();
            journal.record_attempt("JAN@example.nl", "<1@x>").unwrap();
            journal
                .record_deferred("jan@example.nl", "connection dropped")
                .unwrap();
        }
        let (_journal, state) = open(&path);
        let jan = state.history("jan@example.nl").unwrap();
        assert_eq!(jan.status, Status::Sent);
        assert_eq!((jan.attempts, jan.sent), (2, 1));
    }

    #[test]
    fn an_outcome_without_an_attempt_still_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        drop(open(&path));
        append_raw(
            &path,
            b"{\"t\":\"sent\",\"rcpt\":\"jan@example.nl\",\"reply\":\"250 OK\"}\n",
        );
        let (_journal, state) = open(&path);
        assert_eq!(state.status("jan@example.nl"), Some(Status::Sent));
    }

    /// A run that died after recording: `jan` sent; `piet` attempted and
    /// stopped before the end of DATA; `kees` attempted with the end of DATA
    /// about to be written; `anna` ended DATA and lost the connection.
    fn a_run_that_died(path: &Path, boot: Option<&str>) {
        let (journal, _) = Journal::open_on_boot(path, header(), boot).unwrap();
        for rcpt in [
            "jan@example.nl",
            "piet@example.nl",
            "kees@example.nl",
            "anna@example.nl",
        ] {
            journal.record_attempt(rcpt, "<x>").unwrap();
        }
        journal.commit().unwrap();
        journal.record_data_end("jan@example.nl").unwrap();
        journal.record_sent("jan@example.nl", "250 OK").unwrap();
        journal.record_data_end("kees@example.nl").unwrap();
        journal.record_data_end("anna@example.nl").unwrap();
        journal
            .record_unknown("anna@example.nl", "no reply")
            .unwrap();
        // Everything is written by now (outcomes and data-ends at once,
        // attempts at commit): what a killed process leaves behind.
        drop(journal);
    }

    #[test]
    fn on_the_same_boot_only_an_ended_data_without_a_reply_is_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        a_run_that_died(&path, Some("boot-a"));
        let (_journal, state) = Journal::open_on_boot(&path, header(), Some("boot-a")).unwrap();
        assert_eq!(state.status("jan@example.nl"), Some(Status::Sent));
        assert_eq!(state.status("piet@example.nl"), Some(Status::Unfinished));
        assert_eq!(state.status("kees@example.nl"), Some(Status::Unknown));
        assert_eq!(state.status("anna@example.nl"), Some(Status::Unknown));
    }

    #[test]
    fn after_a_reboot_every_attempt_without_an_outcome_is_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        a_run_that_died(&path, Some("boot-a"));
        for now in [Some("boot-b"), None] {
            let (journal, state) = Journal::open_on_boot(&path, header(), now).unwrap();
            assert_eq!(state.status("jan@example.nl"), Some(Status::Sent));
            assert_eq!(
                state.status("piet@example.nl"),
                Some(Status::Unknown),
                "{now:?}"
            );
            assert_eq!(state.status("kees@example.nl"), Some(Status::Unknown));
            drop(journal);
        }
        // A journal from a machine without a boot id: unknown even there.
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        a_run_that_died(&path, None);
        let (_journal, state) = Journal::open_on_boot(&path, header(), None).unwrap();
        assert_eq!(state.status("piet@example.nl"), Some(Status::Unknown));
    }

    #[test]
    fn an_attempt_is_judged_by_the_boot_of_the_run_that_made_it() {
        // Run 1 on boot a died; run 2 on boot b attempted piet again and
        // died too. On boot b, run 1's kees stays unknown (ended DATA), and
        // run 2's piet never ended DATA: sent again.
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        a_run_that_died(&path, Some("boot-a"));
        {
            let (journal, state) = Journal::open_on_boot(&path, header(), Some("boot-b")).unwrap();
            assert_eq!(state.status("piet@example.nl"), Some(Status::Unknown));
            journal.record_attempt("piet@example.nl", "<y>").unwrap();
            journal.commit().unwrap();
        }
        let (_journal, state) = Journal::open_on_boot(&path, header(), Some("boot-b")).unwrap();
        assert_eq!(state.status("piet@example.nl"), Some(Status::Unfinished));
        assert_eq!(state.status("kees@example.nl"), Some(Status::Unknown));
        let counts = state.counts();
        assert_eq!((counts.unknown, counts.unfinished), (2, 1));
    }

    #[test]
    fn outcomes_and_data_ends_are_in_the_file_when_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        let (journal, _) = open(&path);
        journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
        journal.commit().unwrap();
        journal.record_data_end("jan@example.nl").unwrap();
        assert!(lines(&path).last().unwrap().contains(r#""t":"data-end""#));
        journal.record_sent("jan@example.nl", "250 OK").unwrap();
        assert!(lines(&path).last().unwrap().contains(r#""t":"sent""#));
        journal
            .record_deferred("piet@example.nl", "451 later")
            .unwrap();
        assert!(lines(&path).last().unwrap().contains(r#""t":"deferred""#));
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        {
            let (journal, _) = open(&path);
            journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
            journal.record_sent("jan@example.nl", "250 OK").unwrap();
        }
        let whole = std::fs::metadata(&path).unwrap().len();
        let torn = b"{\"t\":\"attempt\",\"rcpt\":\"piet@exa";
        append_raw(&path, torn);

        let (journal, state) = open(&path);
        assert_eq!(state.torn_bytes(), torn.len() as u64);
        assert_eq!(state.status("jan@example.nl"), Some(Status::Sent));
        assert_eq!(state.status("piet@example.nl"), None);
        let after = std::fs::read(&path).unwrap();
        assert!(
            after[whole as usize..].starts_with(br#"{"t":"session""#),
            "torn bytes cut off, this run's session record after them"
        );

        // What is appended next starts on a line of its own.
        journal.record_attempt("piet@example.nl", "<2@x>").unwrap();
        journal.close().unwrap();
        let (_journal, state) = open(&path);
        assert_eq!(state.torn_bytes(), 0);
        assert_eq!(state.status("piet@example.nl"), Some(Status::Unknown));
        for line in lines(&path) {
            serde_json::from_str::<serde_json::Value>(&line).expect("every line is JSON");
        }
    }

    #[test]
    fn a_garbage_last_line_with_a_newline_is_torn_too() {
        // After a power cut a file can end in zeros where data was due.
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        {
            let (journal, _) = open(&path);
            journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
        }
        append_raw(&path, b"\0\0\0\0\0\0\0\0\n");
        let (_journal, state) = open(&path);
        assert_eq!(state.torn_bytes(), 9);
        assert_eq!(state.status("jan@example.nl"), Some(Status::Unknown));
        assert_eq!(lines(&path).len(), 2);
    }

    #[test]
    fn a_whole_last_record_missing_only_its_newline_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        {
            let (journal, _) = open(&path);
            journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
        }
        append_raw(
            &path,
            b"{\"t\":\"sent\",\"rcpt\":\"jan@example.nl\",\"reply\":\"250 OK\",\"at\":1}",
        );
        {
            let (journal, state) = open(&path);
            assert_eq!(state.torn_bytes(), 0);
            assert_eq!(state.status("jan@example.nl"), Some(Status::Sent));
            journal.record_attempt("piet@example.nl", "<2@x>").unwrap();
        }
        let (_journal, state) = open(&path);
        assert_eq!(state.records(), 3);
        assert_eq!(lines(&path).len(), 4);
    }

    #[test]
    fn invalid_json_before_the_last_line_is_an_error_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        {
            let (journal, _) = open(&path);
            journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
        }
        append_raw(&path, b"{\"t\":\"sent\",\"rcpt\"\n");
        append_raw(
            &path,
            b"{\"t\":\"attempt\",\"rcpt\":\"piet@example.nl\",\"id\":\"<2@x>\"}\n",
        );
        let before = std::fs::read(&path).unwrap();
        let err = Journal::open(&path, header())
            .err()
            .expect("corrupt journal refused");
        assert!(
            matches!(err, JournalError::Corrupt { line: 4, .. }),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.contains("campaign.journal.jsonl:4"), "{message}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "a refused journal is left alone"
        );
    }

    #[test]
    fn an_unknown_record_type_in_the_middle_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        drop(open(&path));
        append_raw(&path, b"{\"t\":\"maybe\",\"rcpt\":\"jan@example.nl\"}\n");
        append_raw(
            &path,
            b"{\"t\":\"attempt\",\"rcpt\":\"jan@example.nl\",\"id\":\"<1@x>\"}\n",
        );
        let err = Journal::open(&path, header()).err().unwrap();
        assert!(
            matches!(err, JournalError::Corrupt { line: 3, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn a_changed_input_is_refused_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        {
            let (journal, _) = open(&path);
            journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
        }
        let mut changed = fingerprints();
        changed.draft = "44".repeat(16);
        let err = Journal::open(&path, JournalHeader::new("Voorjaarsactie 2027", changed))
            .err()
            .expect("changed draft refused");
        match &err {
            JournalError::InputsChanged { changed, .. } => assert_eq!(changed, &[Input::Draft]),
            other => panic!("{other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.starts_with("the draft changed since the journal"),
            "{message}"
        );
        assert!(message.contains("--accept-changes"), "{message}");
        assert!(
            !message.contains("--journal"),
            "never advises a fresh journal: {message}"
        );
        assert!(message.contains("restore the file"), "{message}");

        let mut changed = fingerprints();
        changed.campaign = "55".repeat(16);
        changed.recipients = "66".repeat(16);
        let message = Journal::open(&path, JournalHeader::new("x", changed))
            .err()
            .unwrap()
            .to_string();
        assert!(
            message.starts_with(
                "the campaign settings (outside [smtp]) and the recipient list changed"
            ),
            "{message}"
        );
        assert!(message.contains("restore the files"), "{message}");

        // Refusing leaves the journal exactly as it was, torn tail and all.
        append_raw(&path, b"{\"t\":\"sent\",\"rc");
        let before = std::fs::read(&path).unwrap();
        let mut changed = fingerprints();
        changed.draft = "44".repeat(16);
        assert!(Journal::open(&path, JournalHeader::new("x", changed)).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), before);
        // And it still resumes with the right inputs.
        let (_journal, state) = open(&path);
        assert_eq!(state.status("jan@example.nl"), Some(Status::Unknown));
    }

    #[test]
    fn accepted_changes_go_on_with_the_same_journal_and_are_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        {
            let (journal, _) = open(&path);
            journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
            journal.record_sent("jan@example.nl", "250 OK").unwrap();
        }
        let mut changed = fingerprints();
        changed.draft = "44".repeat(16);
        match Journal::open(&path, JournalHeader::new("x", changed.clone())) {
            Err(JournalError::InputsChanged { sent: 1, .. }) => {}
            other => panic!("{:?}", other.err()),
        }
        {
            let (_journal, state) =
                Journal::open_with(&path, JournalHeader::new("x", changed.clone()), None, true)
                    .unwrap();
            assert_eq!(state.status("jan@example.nl"), Some(Status::Sent));
            assert_eq!(state.changes(), 1);
        }
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains(r#"{"t":"change","changed":["draft"]"#)
        );
        // The journal now belongs to the new draft: no flag needed, and
        // the old one would be a change again.
        let (journal, state) =
            Journal::open_on_boot(&path, JournalHeader::new("x", changed), None).unwrap();
        assert_eq!(state.status("jan@example.nl"), Some(Status::Sent));
        drop(journal);
        assert!(Journal::open_on_boot(&path, header(), None).is_err());
    }

    #[test]
    fn campaign_settings_outside_smtp_and_levels_decide_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("campaign.toml");
        let base = "[campaign]\nname = \"x\"\nproduct = \"bbq\"\n\
                    [rules]\nallow = [\"stale-consent\"]\nsoft_opt_in_months = 24\n\
                    [smtp]\nhost = \"a.example\"\nrate = \"10/s\"\n";
        let fingerprint = |text: &str| {
            std::fs::write(&path, text).unwrap();
            fingerprint_campaign_settings(&path).unwrap()
        };
        let before = fingerprint(base);
        for same in [
            base.replace("rate = \"10/s\"", "rate = \"50/s\"\nconnections = 8"),
            base.replace("a.example", "b.example"),
            base.replace("allow = [\"stale-consent\"]", "deny = [\"stale-consent\"]"),
            format!("# a comment\n{base}"),
        ] {
            assert_eq!(fingerprint(&same), before, "{same}");
        }
        for different in [
            base.replace("bbq", "parasols"),
            base.replace("soft_opt_in_months = 24", "soft_opt_in_months = 12"),
            base.replace("name = \"x\"", "name = \"y\""),
        ] {
            assert_ne!(fingerprint(&different), before, "{different}");
        }
    }

    #[test]
    fn a_second_open_while_in_use_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        let (journal, _) = open(&path);
        let err = Journal::open(&path, header())
            .err()
            .expect("second open refused");
        assert!(matches!(err, JournalError::Locked { .. }), "{err:?}");
        assert!(err.to_string().contains("in use"));
        drop(journal);
        open(&path);
    }

    #[test]
    fn a_file_that_is_no_journal_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        for content in [&b"[campaign]\nname = \"x\"\n"[..], b"just one line"] {
            let path = dir.path().join("campaign.toml");
            std::fs::write(&path, content).unwrap();
            let err = Journal::open(&path, header()).err().expect("refused");
            assert!(matches!(err, JournalError::NotAJournal { .. }), "{err:?}");
            assert_eq!(std::fs::read(&path).unwrap(), content);
        }
    }

    #[test]
    fn a_newer_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        let line = String::from_utf8(header_line(&header())).unwrap();
        let newer = format!("\"journal\":{}", FORMAT_VERSION + 1);
        std::fs::write(
            &path,
            line.replace(&format!("\"journal\":{FORMAT_VERSION}"), &newer),
        )
        .unwrap();
        let err = Journal::open(&path, header()).err().unwrap();
        assert!(
            matches!(err, JournalError::UnsupportedVersion { found, .. } if found == FORMAT_VERSION + 1),
            "{err:?}"
        );
    }

    #[test]
    fn a_version_1_journal_is_resumed_with_its_open_attempts_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        let line = String::from_utf8(header_line(&header())).unwrap();
        let v1 = line.replace(&format!("\"journal\":{FORMAT_VERSION}"), "\"journal\":1");
        assert_ne!(v1, line);
        // Written by the mailgate of format 1: an attempt, no session record.
        let mut attempt = serde_json::to_string(&Record::Attempt {
            rcpt: Cow::Borrowed("jan@example.nl"),
            id: Cow::Borrowed("<j@x>"),
            at: 1,
        })
        .unwrap();
        attempt.push('\n');
        std::fs::write(&path, format!("{v1}{attempt}")).unwrap();
        let (_journal, state) = Journal::open_on_boot(&path, header(), Some("boot-a")).unwrap();
        assert_eq!(state.status("jan@example.nl"), Some(Status::Unknown));
    }

    #[test]
    fn an_empty_file_or_a_torn_header_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        for content in [&b""[..], b"{\"journal\":1,\"campaign\":\"Voorj"] {
            std::fs::write(&path, content).unwrap();
            let (journal, state) = open(&path);
            assert!(state.is_new());
            journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
            drop(journal);
            let (_journal, state) = open(&path);
            assert_eq!(state.status("jan@example.nl"), Some(Status::Unknown));
            assert_eq!(state.header().campaign, "Voorjaarsactie 2027");
        }
    }

    #[test]
    fn records_reach_the_file_only_at_commit() {
        // The invariant's mechanics: after record_attempt alone the attempt
        // may still be in memory; after commit it is in the file.
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        let (journal, _) = open(&path);
        journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
        assert_eq!(lines(&path).len(), 1, "buffered until commit");
        journal.commit().unwrap();
        assert_eq!(lines(&path).len(), 2);
        journal.commit().unwrap(); // nothing new: no-op
        journal.record_sent("jan@example.nl", "250 OK").unwrap();
        drop(journal); // Drop commits what is left
        assert_eq!(lines(&path).len(), 3);
    }

    #[test]
    fn the_started_time_of_the_first_run_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        let mut first = header();
        first.started = "2027-03-01T09:00:00Z".into();
        drop(Journal::open(&path, first).unwrap());
        let (_journal, state) = open(&path);
        assert_eq!(state.header().started, "2027-03-01T09:00:00Z");
    }

    #[test]
    fn many_records_from_several_threads_all_resume() {
        const THREADS: usize = 4;
        const PER_THREAD: usize = 500;
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        let addr = |t: usize, i: usize| format!("user{t}-{i}@example.nl");
        {
            let (journal, _) = open(&path);
            std::thread::scope(|scope| {
                for t in 0..THREADS {
                    let journal = &journal;
                    scope.spawn(move || {
                        for i in 0..PER_THREAD {
                            let rcpt = addr(t, i);
                            journal
                                .record_attempt(&rcpt, &format!("<{t}.{i}@x>"))
                                .unwrap();
                            journal.commit().unwrap();
                            match i % 10 {
                                0 => journal.record_failed(&rcpt, "550 no").unwrap(),
                                1 => journal.record_deferred(&rcpt, "451 later").unwrap(),
                                2 => {} // crashed before the outcome
                                _ => journal.record_sent(&rcpt, "250 OK").unwrap(),
                            }
                        }
                    });
                }
            });
            journal.close().unwrap();
        }
        let (_journal, state) = open(&path);
        let n = THREADS * PER_THREAD;
        assert_eq!(
            state.counts().sent
                + state.counts().failed
                + state.counts().deferred
                + state.counts().unknown,
            n
        );
        assert_eq!(
            state.counts(),
            StatusCounts {
                sent: n * 7 / 10,
                failed: n / 10,
                deferred: n / 10,
                unknown: n / 10,
                unfinished: 0,
            }
        );
        for t in 0..THREADS {
            for i in 0..PER_THREAD {
                let want = match i % 10 {
                    0 => Status::Failed,
                    1 => Status::Deferred,
                    2 => Status::Unknown,
                    _ => Status::Sent,
                };
                assert_eq!(state.status(&addr(t, i)), Some(want), "{}", addr(t, i));
            }
        }
        // Every attempt precedes its outcome in the file.
        let mut attempted = std::collections::HashSet::new();
        for line in &lines(&path)[1..] {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let rcpt = v["rcpt"].as_str().unwrap().to_owned();
            if v["t"] == "attempt" {
                attempted.insert(rcpt);
            } else {
                assert!(
                    attempted.contains(&rcpt),
                    "outcome before attempt for {rcpt}"
                );
            }
        }
    }

    #[test]
    fn a_large_journal_resumes() {
        const N: usize = 50_000;
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        {
            let (journal, _) = open(&path);
            for i in 0..N {
                let rcpt = format!("user{i}@example.nl");
                journal.record_attempt(&rcpt, &format!("<{i}@x>")).unwrap();
                if i % 1_000 == 0 {
                    journal.commit().unwrap();
                }
                if i % 3 != 0 {
                    journal.record_sent(&rcpt, "250 2.0.0 OK").unwrap();
                }
            }
            journal.close().unwrap();
        }
        let (_journal, state) = open(&path);
        assert_eq!(state.records() as usize, N + N * 2 / 3);
        let counts = state.counts();
        assert_eq!((counts.sent, counts.unknown), (N * 2 / 3, N - N * 2 / 3));
        assert_eq!(state.status("user49999@example.nl"), Some(Status::Sent));
        assert_eq!(state.status("user49998@example.nl"), Some(Status::Unknown));
    }

    #[test]
    fn one_sync_covers_everything_appended_before_it() {
        // Group commit: a commit with nothing new since the last sync is free,
        // and one sync covers every record appended before it.
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        let (journal, _) = open(&path);
        for i in 0..100 {
            journal
                .record_attempt(&format!("u{i}@example.nl"), "<x>")
                .unwrap();
        }
        journal.commit().unwrap();
        assert_eq!(*journal.synced.lock().unwrap(), 100);
        journal.commit().unwrap();
        assert_eq!(lines(&path).len(), 101);
    }

    #[test]
    fn fingerprint_file_is_xxh3_128_hex() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recipients.csv");
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let want = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes));
        assert_eq!(fingerprint_file(&path).unwrap(), want);
        assert_eq!(want.len(), 32);
    }

    #[test]
    fn changed_lists_only_what_differs() {
        let a = fingerprints();
        assert!(a.changed(&a).is_empty());
        let mut b = a.clone();
        b.recipients = "77".repeat(16);
        assert_eq!(a.changed(&b), [Input::Recipients]);
        assert_eq!(
            describe_changed(&[Input::Campaign, Input::Draft, Input::Recipients]),
            "the campaign settings (outside [smtp]), the draft and the recipient list"
        );
    }
}
