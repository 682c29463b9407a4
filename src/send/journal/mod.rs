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
//!
//! # Where each part lives
//!
//! - `format.rs`: the header and record lines, and the format versions
//!   (version 1 is still read).
//! - `fingerprint.rs`: the fingerprints that tie a journal to its inputs.
//! - `open.rs`: creating, locking, reading back, repairing, and starting a
//!   session.
//! - `read.rs`: reading the file line by line; torn lines and corruption.
//! - `state.rs`: what the records say about each recipient.
//! - `boot.rs`: the boot rule for attempts without an outcome.
//! - `writer.rs`: appending records, and the group commit.
//! - `error.rs`: what can go wrong, in words for the user.

mod boot;
mod error;
mod fingerprint;
mod format;
mod open;
mod read;
mod state;
mod writer;

#[cfg(test)]
mod tests;

pub use boot::machine_boot_id;
pub use error::JournalError;
pub use fingerprint::{Fingerprints, Input, fingerprint_campaign_settings, fingerprint_file};
pub use format::{FORMAT_VERSION, JournalHeader};
pub use read::count_sent;
pub use state::{JournalState, RecipientHistory, Status, StatusCounts};
pub use writer::Journal;
