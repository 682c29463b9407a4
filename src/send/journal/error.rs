//! Why a journal cannot be opened or written, in words for the user.

use std::io;
use std::path::{Path, PathBuf};

use super::fingerprint::Input;
use super::format::FORMAT_VERSION;

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

pub(super) fn describe_changed(changed: &[Input]) -> String {
    let names: Vec<&str> = changed.iter().map(|i| i.describe()).collect();
    match names.as_slice() {
        [] => "nothing".to_owned(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

pub(super) fn io_error(path: &Path, action: &'static str, source: io::Error) -> JournalError {
    JournalError::Io {
        path: path.to_owned(),
        action,
        source,
    }
}
