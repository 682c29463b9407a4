//! The journal's tests: written through [`Journal`], read back through
//! [`JournalState`], as `send` uses them. One file per concern: the lines
//! written (`records`), resuming (`resume`), the boot rule (`boot`), torn
//! and damaged files and other versions (`damage`), changed inputs and
//! fingerprints (`changes`), and several threads or processes (`threads`).
//! This file holds what they share.

use std::borrow::Cow;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::describe_changed;
use super::format::{Record, header_line};
use super::*;

mod boot;
mod changes;
mod damage;
mod records;
mod resume;
mod threads;

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
