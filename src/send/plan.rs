//! Who is sent this run: a sendable recipient's first row, in this
//! machine's `--shard`, that the journal does not already settle (sent,
//! failed for good, or unknown without `--resend-unknown`).

use xxhash_rust::xxh3::xxh3_64;

use super::gate::Gate;
use super::journal::{self, Status};
use super::{SendError, SendOptions};
use crate::campaign::Campaign;
use crate::lint::LintError;
use crate::recipients::{Field, RecipientReader, address_key};

/// `--shard K/N`: this machine's share of the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u32,
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a shard: write K/N with 1 ≤ K ≤ N, e.g. 2/4");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// True when the address (any case) belongs to this shard. The hash is
    /// xxh3 of the lower-case address: stable across machines and versions.
    pub fn holds(&self, address: &str) -> bool {
        xxh3_64(address_key(address).as_bytes()) % u64::from(self.count)
            == u64::from(self.index - 1)
    }
}

/// What this run does with one row of the list.
pub(super) enum ThisRun {
    /// Not sendable, not the address's first row, or another shard's.
    Skip,
    AlreadySent,
    Failed,
    /// Unknown, and no `--resend-unknown`.
    Unknown,
    Send,
}

pub(super) fn this_run(
    gate: &Gate,
    options: &SendOptions,
    state: Option<&journal::JournalState>,
    address: &str,
    line: u64,
) -> ThisRun {
    if !gate.addresses.sends_row(address, line) {
        return ThisRun::Skip;
    }
    if options.shard.is_some_and(|s| !s.holds(address)) {
        return ThisRun::Skip;
    }
    match state.and_then(|s| s.status(address)) {
        Some(Status::Sent) => ThisRun::AlreadySent,
        Some(Status::Failed) => ThisRun::Failed,
        Some(Status::Unknown) if !options.resend_unknown => ThisRun::Unknown,
        _ => ThisRun::Send,
    }
}

/// How many messages this run will hand over (for the progress bar, which
/// knows its total from the start): one quick read of the list.
pub(super) fn count_this_run(
    campaign: &Campaign,
    gate: &Gate,
    options: &SendOptions,
    state: Option<&journal::JournalState>,
) -> Result<u64, SendError> {
    let mut reader =
        RecipientReader::open(&campaign.recipients, &campaign.columns).map_err(LintError::from)?;
    let mut count = 0u64;
    while let Some(row) = reader.next_row().map_err(LintError::from)? {
        if let ThisRun::Send = this_run(gate, options, state, row.get(Field::Email), row.line()) {
            count += 1;
        }
    }
    Ok(options.limit.map_or(count, |limit| count.min(limit)))
}
