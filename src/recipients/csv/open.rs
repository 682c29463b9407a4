//! What is learnt when a list is opened: why it cannot be read, whether it
//! is text at all, and which delimiter it uses.

use std::io;
use std::path::Path;

use super::{DELIMITERS, InputError, SNIFF_RECORDS, count_newlines};

pub(super) fn io_error(path: &Path, what: &str, err: &io::Error) -> InputError {
    let message = match err.kind() {
        io::ErrorKind::NotFound => format!(
            "cannot open the {what}: no such file; check the path (paths in a campaign \
             file are relative to that file)"
        ),
        io::ErrorKind::PermissionDenied => {
            format!("cannot open the {what}: permission denied; check the file's permissions")
        }
        io::ErrorKind::IsADirectory => {
            format!("the {what} is a directory, not a CSV file; name the CSV file itself")
        }
        _ => format!("cannot read the {what}: {err}"),
    };
    InputError::new(path, None, message)
}

/// Refuses files that are plainly not CSV text: workbooks, UTF-16, binary.
pub(super) fn check_is_text(path: &Path, what: &str, prefix: &[u8]) -> Result<(), InputError> {
    const SAVE_AS: &str = "open it in Excel (or LibreOffice) and save it as \"CSV UTF-8\"";
    let refuse = |line: Option<u64>, why: String| Err(InputError::new(path, line, why));
    if prefix.starts_with(b"PK\x03\x04") {
        return refuse(
            None,
            format!("the {what} is a ZIP archive (an .xlsx workbook?), not a CSV file; {SAVE_AS}"),
        );
    }
    if prefix.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        return refuse(
            None,
            format!("the {what} is an Excel .xls workbook, not a CSV file; {SAVE_AS}"),
        );
    }
    let nuls = prefix.iter().filter(|&&b| b == 0).count();
    if prefix.starts_with(b"\xFF\xFE") || prefix.starts_with(b"\xFE\xFF") || nuls * 3 > prefix.len()
    {
        return refuse(
            None,
            format!(
                "the {what} is UTF-16 text (Excel's \"Unicode text\"?) or binary, not a CSV \
                 file; {SAVE_AS}"
            ),
        );
    }
    if let Some(at) = prefix.iter().position(|&b| b == 0) {
        let line = count_newlines(&prefix[..at]) + 1;
        return refuse(
            Some(line),
            format!("the {what} is not a CSV file: it holds binary data (a NUL byte); {SAVE_AS}"),
        );
    }
    // Text has next to no control characters besides tab and line breaks
    // (form feed and DOS's end-of-file mark turn up in old exports).
    let controls = prefix
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A)) || b == 0x7F)
        .count();
    if controls * 50 > prefix.len() {
        return refuse(
            None,
            format!(
                "the {what} is not a CSV file: it is mostly binary data (control characters); \
                 {SAVE_AS}"
            ),
        );
    }
    Ok(())
}

/// Picks the delimiter among `,` `;` and tab: the one the header line uses
/// most often outside quotes; on a tie, the one the following records use
/// the same number of times; then `,` over `;` over tab. A one-column file
/// (no delimiter at all) gets `,`.
pub(super) fn sniff_delimiter(prefix: &[u8]) -> u8 {
    let mut records: Vec<[usize; 3]> = Vec::new();
    let mut counts = [0; 3];
    let mut in_quotes = false;
    let mut blank = true;
    for &byte in prefix {
        match byte {
            b'"' => {
                in_quotes = !in_quotes;
                blank = false;
            }
            b'\n' | b'\r' if !in_quotes => {
                if !blank {
                    records.push(counts);
                    if records.len() == SNIFF_RECORDS {
                        break;
                    }
                }
                counts = [0; 3];
                blank = true;
            }
            _ => {
                if let Some(i) = DELIMITERS.iter().position(|&d| d == byte) {
                    if !in_quotes {
                        counts[i] += 1;
                    }
                    blank = false;
                } else if !byte.is_ascii_whitespace() {
                    blank = false;
                }
            }
        }
    }
    if records.is_empty() && !blank {
        // The whole prefix is one (header) line.
        records.push(counts);
    }
    let Some((header, rows)) = records.split_first() else {
        return DELIMITERS[0];
    };
    let score = |i: usize| {
        let consistent = rows.iter().filter(|row| row[i] == header[i]).count();
        (header[i], consistent)
    };
    let mut best = 0;
    for i in 1..DELIMITERS.len() {
        if score(i) > score(best) {
            best = i;
        }
    }
    if header[best] == 0 {
        DELIMITERS[0]
    } else {
        DELIMITERS[best]
    }
}
