//! `mailgate send` (SPEC §5): the gate, SMTP transport, the journal, and
//! progress; the messages are rendered by [`crate::message`].
//!
//! The flow: [`gate`] runs the whole lint and decides whether sending may
//! start; [`run`] then reads the list once more, renders one message per
//! sendable recipient on the calling thread, and hands them to
//! `connections` worker threads, each holding one SMTP session. Workers take
//! small batches: record the batch's attempts, commit the journal once
//! (one fsync for the batch), then run the transactions and record the
//! outcomes, which ride along with the next commit.
//!
//! # Where each part lives
//!
//! - `gate.rs`: the lint's verdict, and whether sending may start.
//! - `plan.rs`: who is sent this run (`--shard`, the journal's statuses,
//!   `--resend-unknown`).
//! - `run.rs`: the producer (reads the list, applies `--limit`, renders)
//!   and the worker threads it feeds.
//! - `worker.rs`: one worker's loop: a batch journaled, then delivered.
//! - `retry.rs`: one message's delivery with retries, and a relay that is
//!   down.
//! - `summary.rs`: the live counters and the run's summary.
//! - `journal_choice.rs`: which journal file a run uses.
//! - `test_to.rs`: `--test-to`, one message to the user's own inbox.
//! - [`journal`], [`transport`], `rate.rs`, `dry_run.rs`: the journal, the
//!   SMTP sessions, the rate limit, and `--dry-run`'s directory.

mod dry_run;
mod gate;
pub mod journal;
mod journal_choice;
mod plan;
mod rate;
mod retry;
mod run;
mod summary;
mod test_to;
pub mod transport;
mod worker;

use std::io;
use std::path::PathBuf;

use crate::lint::LintError;
use journal::JournalError;
use transport::TransportError;

pub use gate::{Gate, gate};
pub use journal_choice::{check_journal_choice, default_journal};
pub use plan::Shard;
pub use run::run;
pub use summary::{Counters, NOT_BUILT_SHOWN, SendSummary};
pub use test_to::{TestSent, test_send};

/// What the user asked `send` to do.
#[derive(Clone, Debug, Default)]
pub struct SendOptions {
    /// Write messages to this directory instead of sending.
    pub dry_run: Option<PathBuf>,
    pub skip_blocked: bool,
    /// Send at most this many messages in this run.
    pub limit: Option<u64>,
    pub resend_unknown: bool,
    pub shard: Option<Shard>,
    /// The journal file, instead of the default beside the campaign.
    pub journal: Option<PathBuf>,
    /// Permit `tls = "none"` to a host that is not loopback.
    pub allow_plaintext: bool,
    /// `--accept-changes`: go on with the journal although the draft, list,
    /// suppression lists or campaign settings changed.
    pub accept_changes: bool,
    /// `--yes`: the user confirmed (needed, among others, to start a fresh
    /// journal while the campaign's journal holds sent messages).
    pub confirmed: bool,
    /// The relay password, when the user typed it in (else `password_env`).
    pub password: Option<transport::Password>,
    /// Count this run's messages before sending ([`Counters::total`]), for
    /// a progress bar.
    pub progress: bool,
}

/// Why `send` did not send (or stopped).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Exit 2: an input could not be read.
    #[error(transparent)]
    Lint(#[from] LintError),
    /// Exit 1: lint errors stand.
    #[error("{0}")]
    Refused(String),
    /// Exit 2: settings that make sending impossible.
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Exit 1: the relay became unusable in the middle of the run.
    #[error("{0}")]
    Transport(#[from] TransportError),
    /// Exit 2: the relay could not be used at the start (cannot connect,
    /// TLS fails, login refused); nothing was sent or recorded as deferred.
    #[error("{0}")]
    Relay(TransportError),
    #[error("{0}")]
    Io(#[from] io::Error),
}
