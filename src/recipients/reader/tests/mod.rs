//! Tests of the recipient reader on real files (tests/data) and written
//! ones: the file as text (`file`: dialects, encodings, lines, errors,
//! streaming) and what a row says (`fields`: mapping, presets, variables).

mod fields;
mod file;

use std::path::PathBuf;

use jiff::civil::date;

use super::*;
use crate::recipients::parse_date;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/recipients")
        .join(name)
}

/// Writes `bytes` to a file in `dir` and returns its path.
fn write(dir: &tempfile::TempDir, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join("recipients.csv");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn open(path: &Path) -> RecipientReader {
    RecipientReader::open(path, &[]).unwrap()
}

/// (line, email) of every row.
fn lines_and_emails(reader: &mut RecipientReader) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    while let Some(row) = reader.next_row().unwrap() {
        out.push((row.line(), row.get(Field::Email).to_owned()));
    }
    out
}

fn open_error(bytes: &[u8]) -> InputError {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, bytes);
    match RecipientReader::open(&path, &[]) {
        Ok(_) => panic!("opened {:?}", String::from_utf8_lossy(bytes)),
        Err(err) => err,
    }
}

/// The error reading the rows of a file that opens.
fn row_error(bytes: &[u8]) -> InputError {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, bytes);
    let mut reader = open(&path);
    loop {
        match reader.next_row() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("read {:?} to the end", String::from_utf8_lossy(bytes)),
            Err(err) => return err,
        }
    }
}

/// Every field of every row, read by `Row::get` (which takes the
/// column table for a plain list) and by the reader's own `field`
/// (which matches on the per-row values and reads the record through
/// another path): the quick path must not change a value.
fn assert_get_agrees_with_field(reader: &mut RecipientReader) -> usize {
    let mut rows = 0;
    while let Some(row) = reader.next_row().unwrap() {
        rows += 1;
        for field in Field::ALL {
            assert_eq!(
                row.get(field),
                row.reader.field(field),
                "line {} {field}",
                row.line()
            );
        }
    }
    rows
}

/// The test exports of tests/data, one per preset and encoding.
const EXPORTS: [&str; 4] = [
    "dutch-excel.csv",
    "listmonk.csv",
    "mailchimp.csv",
    "windows-1252.csv",
];
