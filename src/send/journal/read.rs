//! Reading a journal file back, line by line: its header, its records, a
//! torn last line to cut off, and damage before it.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use super::error::{JournalError, io_error};
use super::format::{
    FORMAT_VERSION, HeaderLine, JournalHeader, OLDEST_READ_VERSION, Record, header_line,
};
use super::state::JournalState;
use crate::recipients::address_key;

/// How many recipients a journal records as sent, read without opening it
/// for a run (no lock, nothing written). Lines that do not parse are
/// skipped: this only counts.
pub fn count_sent(path: &Path) -> Result<usize, JournalError> {
    let file = File::open(path).map_err(|e| io_error(path, "open", e))?;
    let mut sent = std::collections::HashSet::new();
    for line in BufReader::new(file).split(b'\n') {
        let line = line.map_err(|e| io_error(path, "read", e))?;
        if let Ok(Record::Sent(outcome)) = serde_json::from_slice::<Record<'_>>(&line) {
            sent.insert(address_key(&outcome.rcpt).into_owned());
        }
    }
    Ok(sent.len())
}

/// What [`read`] found to fix before appending.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Repair {
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
    pub(super) fn apply(
        &self,
        path: &Path,
        file: &File,
        header: &JournalHeader,
    ) -> Result<(), JournalError> {
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
pub(super) fn read(
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
