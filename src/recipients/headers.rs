//! Header mapping: aliases, `[columns]` overrides, snake_case variable names,
//! and recognition of the Mailchimp and listmonk exports.

use super::Field;

/// Which known export the header was recognised as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    Plain,
    Mailchimp,
    Listmonk,
}

/// One column of the CSV.
#[derive(Clone, Debug)]
pub struct Column {
    /// 0-based position in the record.
    pub index: usize,
    /// The header as written in the file.
    pub header: String,
    /// The template variable name: the logical field's name when the column
    /// maps to one, otherwise the header in snake_case.
    pub var: String,
    /// The logical field the column maps to, if any.
    pub field: Option<Field>,
}

/// The header of a recipient CSV, mapped.
#[derive(Clone, Debug)]
pub struct ColumnMap {
    pub columns: Vec<Column>,
}

impl ColumnMap {
    /// The header (as written in the file) of the column that holds `field`,
    /// if one does. For a preset field that comes from several columns, the
    /// first of them.
    pub fn header_of(&self, field: Field) -> Option<&str> {
        let _ = field;
        todo!()
    }

    /// True when some column (or preset source) provides `field`.
    pub fn has(&self, field: Field) -> bool {
        self.header_of(field).is_some()
    }
}
