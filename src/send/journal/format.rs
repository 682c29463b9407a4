//! The journal's lines as stored: the header (first line) with its format
//! version, and the records after it. Changing what is written here changes
//! the file format: raise [`FORMAT_VERSION`] and keep reading the old ones.

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::fingerprint::{Fingerprints, Input};

/// The journal format this code writes. Version 2 added the `session`,
/// `data-end` and `change` records, which a mailgate that knows only
/// version 1 would take for damage; it now says the journal is newer.
pub const FORMAT_VERSION: u64 = 2;

/// The oldest format this code reads: a version 1 journal has no `session`
/// records, so its attempts without an outcome count as after a reboot
/// (unknown), the safe reading.
pub(super) const OLDEST_READ_VERSION: u64 = 1;

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
pub(super) struct HeaderLine<'a> {
    pub(super) journal: u64,
    #[serde(flatten)]
    pub(super) header: Cow<'a, JournalHeader>,
}

/// A line after the header.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub(super) enum Record<'a> {
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
    Sent(Outcome<'a>),
    /// Not delivered this time: a 4xx reply, a timeout or a dropped connection.
    Deferred(Outcome<'a>),
    /// Refused permanently (5xx); not to be retried.
    Failed(Outcome<'a>),
    /// The end of DATA was written but the reply never came (a broken
    /// connection, a timeout): the server may have the message.
    Unknown(Outcome<'a>),
}

/// What an outcome record says, whichever outcome it is: the recipient,
/// the server's reply (or what happened instead), and when. Stored in the
/// record's own line (`{"t":"sent","rcpt":…,"reply":…,"at":…}`), as before
/// the four records shared this type.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Outcome<'a> {
    pub(super) rcpt: Cow<'a, str>,
    pub(super) reply: Cow<'a, str>,
    #[serde(default)]
    pub(super) at: u64,
}

impl<'a> Outcome<'a> {
    /// An outcome for `rcpt` that happens now.
    pub(super) fn now(rcpt: &'a str, reply: &'a str) -> Self {
        Outcome {
            rcpt: rcpt.into(),
            reply: reply.into(),
            at: unix_now(),
        }
    }
}

pub(super) fn header_line(header: &JournalHeader) -> Vec<u8> {
    let mut line = serde_json::to_vec(&HeaderLine {
        journal: FORMAT_VERSION,
        header: Cow::Borrowed(header),
    })
    .expect("a journal header serialises");
    line.push(b'\n');
    line
}

pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
