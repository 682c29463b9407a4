//! What a run counts: live, for the progress bar, and at the end, for the
//! summary line and SPEC §5's JSON.

use std::sync::atomic::AtomicU64;

use serde::Serialize;

/// SPEC §5's JSON summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SendSummary {
    pub recipients: u64,
    pub sendable: u64,
    pub blocked: u64,
    /// Sent in this run (written, for a dry run).
    pub sent: u64,
    /// Sent by earlier runs of the same journal.
    pub already_sent: u64,
    /// Refused permanently (this run or earlier).
    pub failed: u64,
    /// Still to be retried: 4xx, dropped sessions, interrupted.
    pub deferred: u64,
    /// Attempts whose outcome no run recorded (not re-sent without
    /// `--resend-unknown`).
    pub unknown: u64,
    /// Left for a later run by `--limit` (not deferred: never tried).
    pub not_yet_sent: u64,
    /// Recipients of this run whose message could not be built from their
    /// row (a merge value with a line break for a header), each as
    /// `file:line: address: why`, the first [`NOT_BUILT_SHOWN`] of them.
    /// They count as `failed`; not part of SPEC's JSON.
    #[serde(skip)]
    pub not_built: Vec<String>,
    /// How many recipients of this run could not be built, all told.
    #[serde(skip)]
    pub not_built_total: u64,
    /// The inputs whose change this run went on with (`--accept-changes`),
    /// in words; not part of SPEC's JSON (the journal records them).
    #[serde(skip)]
    pub accepted_changes: Vec<&'static str>,
}

/// How many unbuildable recipients [`SendSummary::not_built`] names.
pub const NOT_BUILT_SHOWN: usize = 20;

impl SendSummary {
    /// True when nothing of this run is left in doubt or to retry: none
    /// failed, deferred or unknown (recipients left by `--limit` are not
    /// yet sent, which is what the user asked for).
    pub fn complete(&self) -> bool {
        self.failed == 0 && self.deferred == 0 && self.unknown == 0
    }

    /// The one-line summary `send` prints, counts with thousands separators
    /// as in the lint summary. `written` for a dry run.
    pub fn human_line(&self, dry_run: bool) -> String {
        use crate::report::thousands;
        let what = if dry_run { "written" } else { "sent" };
        let mut line = format!(
            "{} recipients, {} sendable, {} blocked: {} {what}, {} already sent, {} failed, \
             {} deferred, {} unknown",
            thousands(self.recipients),
            thousands(self.sendable),
            thousands(self.blocked),
            thousands(self.sent),
            thousands(self.already_sent),
            thousands(self.failed),
            thousands(self.deferred),
            thousands(self.unknown),
        );
        if self.not_yet_sent > 0 {
            line.push_str(&format!(", {} not yet sent", thousands(self.not_yet_sent)));
        }
        line
    }
}

/// Live counters, shared with the progress display.
#[derive(Default, Debug)]
pub struct Counters {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    pub deferred: AtomicU64,
    /// Ended DATA without a reply this run.
    pub unknown: AtomicU64,
    /// Messages queued for this run so far.
    pub queued: AtomicU64,
    /// Messages this run will hand over, counted before the first one
    /// (with [`SendOptions::progress`](super::SendOptions::progress); 0 until then).
    pub total: AtomicU64,
}
