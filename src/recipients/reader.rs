//! The streamed reader: one reused record, one borrowed [`Row`] per data line.

use std::path::Path;

use super::{ColumnMap, Field, InputError, Preset};

/// Reads a recipient CSV row by row (SPEC §1.2).
pub struct RecipientReader {
    _private: (),
}

impl RecipientReader {
    /// Opens the file, skips a BOM, sniffs the delimiter, reads and maps the
    /// header line. `overrides` are the campaign's `[columns]` entries.
    pub fn open(path: &Path, overrides: &[(Field, String)]) -> Result<Self, InputError> {
        let _ = (path, overrides);
        todo!()
    }

    /// The path as given to [`RecipientReader::open`].
    pub fn path(&self) -> &Path {
        todo!()
    }

    /// The header, mapped to logical fields and template variable names.
    pub fn columns(&self) -> &ColumnMap {
        todo!()
    }

    /// Which export the header was recognised as.
    pub fn preset(&self) -> Preset {
        todo!()
    }

    /// The next data row, `Ok(None)` at the end of the file. Blank lines are
    /// skipped. An error means the file cannot be read further at all
    /// (I/O error, unbalanced quote running to the end, binary data).
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, InputError> {
        todo!()
    }

    /// Every listmonk attribute key seen so far.
    pub fn attribute_keys(&self) -> &std::collections::BTreeSet<String> {
        todo!()
    }

    /// The physical line of the first row that was not valid UTF-8 and was
    /// decoded as Windows-1252, if any.
    pub fn first_non_utf8_line(&self) -> Option<u64> {
        todo!()
    }
}

/// One data row, borrowed from the reader until the next call to `next_row`.
pub struct Row<'r> {
    _reader: &'r RecipientReader,
}

impl<'r> Row<'r> {
    /// The 1-based physical line where the row starts (the header is line 1).
    pub fn line(&self) -> u64 {
        todo!()
    }

    /// The value of a logical field, trimmed; `""` when the column is absent
    /// or empty. Preset fields (Mailchimp's `consent_at` from CONFIRM_TIME else
    /// OPTIN_TIME, listmonk's `blocklisted` status …) are resolved here.
    pub fn get(&self, field: Field) -> &str {
        let _ = field;
        todo!()
    }

    /// The value of a template variable by name: a logical field name, a
    /// column's snake_case name, or a listmonk attribute key. `None` when no
    /// column or attribute has that name.
    pub fn var(&self, name: &str) -> Option<&str> {
        let _ = name;
        todo!()
    }

    /// The raw (decoded, untrimmed) value of column `index`; `""` for a
    /// missing trailing cell.
    pub fn value(&self, index: usize) -> &str {
        let _ = index;
        todo!()
    }
}
