//! Which journal file a run uses, and the refusal to start a fresh one
//! while the campaign's own journal holds sent messages (SPEC §5).

use std::path::{Path, PathBuf};

use super::journal;
use super::plan::Shard;
use super::{SendError, SendOptions};
use crate::campaign::Campaign;

/// The journal a campaign's send uses by default: `<name>.journal.jsonl`
/// beside the campaign file, with the shard in the name.
pub fn default_journal(campaign_file: &Path, shard: Option<Shard>) -> PathBuf {
    let stem = campaign_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "campaign".to_owned());
    let name = match shard {
        Some(s) => format!("{stem}.shard-{}-of-{}.journal.jsonl", s.index, s.count),
        None => format!("{stem}.journal.jsonl"),
    };
    campaign_file.with_file_name(name)
}

/// Checks the journal the options choose before anything else happens (the
/// binary calls it before the lint): see
/// `refuse_a_fresh_journal_over_sent_messages`.
pub fn check_journal_choice(campaign: &Campaign, options: &SendOptions) -> Result<(), SendError> {
    match (&options.journal, &campaign.path, &options.dry_run) {
        (Some(chosen), Some(campaign_file), None) => refuse_a_fresh_journal_over_sent_messages(
            chosen,
            &default_journal(campaign_file, options.shard),
            options.confirmed,
        ),
        _ => Ok(()),
    }
}

/// SPEC §5: a fresh journal (`--journal F`, F new) while the campaign's own
/// journal holds sent messages would mail all of them again; that takes
/// `--yes`, and the refusal says so.
fn refuse_a_fresh_journal_over_sent_messages(
    chosen: &Path,
    default: &Path,
    confirmed: bool,
) -> Result<(), SendError> {
    if chosen.exists() || !default.exists() || confirmed {
        return Ok(());
    }
    let sent = journal::count_sent(default)?;
    if sent == 0 {
        return Ok(());
    }
    Err(SendError::Setup(format!(
        "{} is a new journal, but the campaign's journal {} records {sent} recipient(s) \
         already sent: a new journal knows nothing of them, so everyone would be mailed \
         again. To resume without mailing anyone twice, leave out --journal; to mail \
         everyone again on purpose, add --yes",
        chosen.display(),
        default.display()
    )))
}
