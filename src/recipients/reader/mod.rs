//! The streamed reader: one reused record, one borrowed [`Row`] per data line.
//!
//! Most fields are a column read as is. The presets derive a few per row,
//! in [`RecipientReader::next_row`], so that [`Row::get`] stays a lookup:
//! - Mailchimp: `consent_at` is `CONFIRM_TIME` when non-empty, else
//!   `OPTIN_TIME`; `consent_source` is `mailchimp`, with the IP of that
//!   opt-in step when there is one (`mailchimp (confirm ip 1.2.3.4)`), and
//!   only when `consent_at` is non-empty — Mailchimp's record is the source
//!   of a consent, not a consent by itself.
//! - listmonk: `unsubscribed_at` is `blocklisted` when `status` is; the
//!   `attributes` JSON object supplies every field no column holds, and its
//!   keys are template variables.
//!
//! The reader itself (opening, the header, the per-row checks) is here; the
//! per-row derivations of the presets are in `presets`, and the borrowed
//! [`Row`] view the judge and the templates read is in `row`.

use std::collections::BTreeSet;
use std::path::Path;

use super::csv::{AheadColumns, ReadAhead, Records};
use super::headers::{self, Listmonk, Mailchimp};
use super::{ColumnMap, Field, InputError, Preset};
use crate::hash::FastHashMap;

mod presets;
mod row;
#[cfg(test)]
mod tests;

pub use row::Row;

const FIELDS: usize = Field::ALL.len();
/// A column index no record reaches: `Record::get` answers `None`, so a
/// field no column holds reads as `""` without a branch of its own.
const NO_COLUMN: usize = usize::MAX;

/// Reads a recipient CSV row by row (SPEC §1.2).
pub struct RecipientReader {
    /// Number of columns the header names.
    header_fields: usize,
    /// The data rows, parsed on a second thread (see [`ReadAhead`]).
    records: ReadAhead,
    columns: ColumnMap,
    preset: Preset,
    header_line: u64,
    /// Where each field's value is for the current row.
    values: [Value; FIELDS],
    /// `values` as the header alone decides them, before per-row presets.
    base: [Value; FIELDS],
    /// For a plain list (no preset derives a field per row): the column of
    /// each field, [`NO_COLUMN`] for a field no column holds. [`Row::get`]
    /// reads this instead of matching on `values`: the judge reads about ten
    /// fields of every row.
    plain_columns: Option<[usize; FIELDS]>,
    /// Template variable name → what provides it.
    vars: FastHashMap<String, Var>,
    mailchimp: Option<Mailchimp>,
    listmonk: Option<Listmonk>,
    /// Mailchimp's derived consent source for the current row.
    consent_source: String,
    /// listmonk attributes of the current row, as text.
    attributes: Vec<(String, String)>,
    attributes_error: Option<String>,
    attribute_keys: BTreeSet<String>,
}

/// Where a field's value comes from for the current row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Value {
    Empty,
    Column(usize),
    Text(&'static str),
    /// `RecipientReader::consent_source`.
    ConsentSource,
    /// `RecipientReader::attributes[i]`.
    Attribute(usize),
}

/// A template variable looked up by name once
/// ([`RecipientReader::resolve_var`]), to read from every row with
/// [`Row::var_at`] without looking the name up again.
#[derive(Clone, Copy, Debug)]
pub struct VarRef(Option<Var>);

#[derive(Clone, Copy, Debug)]
enum Var {
    Field(Field),
    Column(usize),
}

impl RecipientReader {
    /// Opens the file, skips a BOM, sniffs the delimiter, reads and maps the
    /// header line. `overrides` are the campaign's `[columns]` entries.
    pub fn open(path: &Path, overrides: &[(Field, String)]) -> Result<Self, InputError> {
        let mut records = Records::open(path, "recipient list")?;
        if !records.next()? {
            return Err(InputError::new(
                path,
                None,
                "the recipient list is empty; it needs a header line naming the columns \
                 (at least `email`) and a line per recipient"
                    .to_owned(),
            ));
        }
        let header_line = records.line();
        if records.len() > crate::limits::MAX_COLUMNS {
            return Err(InputError::new(
                path,
                Some(header_line),
                format!(
                    "the header names {} columns, more than a spreadsheet holds ({}); is this \
                     the right file?",
                    records.len(),
                    crate::limits::MAX_COLUMNS,
                ),
            ));
        }
        let headers: Vec<String> = (0..records.len())
            .map(|i| records.get(i).trim().to_owned())
            .collect();
        let mapping = headers::map_header(&headers, overrides)
            .map_err(|message| InputError::new(path, Some(header_line), message))?;

        let mut base = [Value::Empty; FIELDS];
        for (slot, column) in base.iter_mut().zip(mapping.plain) {
            if let Some(i) = column {
                *slot = Value::Column(i);
            }
        }
        let mut vars = FastHashMap::default();
        for column in &mapping.columns.columns {
            let var = match column.field {
                Some(field) => Var::Field(field),
                None => Var::Column(column.index),
            };
            vars.entry(column.var.clone()).or_insert(var);
        }
        // A mapped column's own header name gives the column's own value
        // (for a preset's derived field, the cell rather than the field).
        for column in &mapping.columns.columns {
            if let Some(name) = &column.header_var {
                vars.entry(name.clone())
                    .or_insert(Var::Column(column.index));
            }
        }
        let column_of = |field: Field| match base[field.index()] {
            Value::Column(i) => Some(i),
            _ => None,
        };
        let mut reader = RecipientReader {
            header_fields: headers.len(),
            // What `Row` reads from these columns is the column itself on
            // every row (no preset derives the address or the list source
            // per row), so what the reading thread works out for them
            // holds.
            records: records.read_ahead(AheadColumns {
                email: column_of(Field::Email),
                list_source: column_of(Field::ListSource),
            }),
            columns: mapping.columns,
            preset: mapping.preset,
            header_line,
            values: base,
            base,
            plain_columns: (mapping.preset == Preset::Plain).then(|| {
                base.map(|value| match value {
                    Value::Column(i) => i,
                    _ => NO_COLUMN,
                })
            }),
            vars,
            mailchimp: mapping.mailchimp,
            listmonk: mapping.listmonk,
            consent_source: String::new(),
            attributes: Vec::new(),
            attributes_error: None,
            attribute_keys: BTreeSet::new(),
        };
        let places = super::header_cells::header_cells(path, header_line, reader.delimiter());
        for (column, place) in reader.columns.columns.iter_mut().zip(places) {
            column.place = place;
        }
        Ok(reader)
    }

    /// The path as given to [`RecipientReader::open`].
    pub fn path(&self) -> &Path {
        self.records.path()
    }

    /// The header, mapped to logical fields and template variable names.
    pub fn columns(&self) -> &ColumnMap {
        &self.columns
    }

    /// Which export the header was recognised as.
    pub fn preset(&self) -> Preset {
        self.preset
    }

    /// The delimiter the file was sniffed to use (`,`, `;` or tab), e.g. to
    /// write a cleaned list in the same dialect.
    pub fn delimiter(&self) -> u8 {
        self.records.delimiter()
    }

    /// The physical line of the header (1 unless blank lines precede it).
    pub fn header_line(&self) -> u64 {
        self.header_line
    }

    /// Every listmonk attribute key seen in the rows read so far (read it
    /// after the last row for the whole file). Empty for other exports.
    pub fn attribute_keys(&self) -> &BTreeSet<String> {
        &self.attribute_keys
    }

    /// The next data row, `Ok(None)` at the end of the file. Blank lines are
    /// skipped. An error means the file cannot be read further at all
    /// (I/O error, unbalanced quote running to the end, binary data).
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, InputError> {
        if !self.records.next()? {
            return Ok(None);
        }
        if self.records.len() > self.header_fields {
            self.check_extra_values()?;
        }
        if self.preset != Preset::Plain {
            self.resolve_presets();
        }
        Ok(Some(Row::new(self)))
    }

    /// Resolves a template variable name for [`Row::var_at`].
    pub fn resolve_var(&self, name: &str) -> VarRef {
        VarRef(self.vars.get(name).copied())
    }

    /// The physical line of the first row that was not valid UTF-8 and was
    /// decoded as Windows-1252, if any.
    pub fn first_non_utf8_line(&self) -> Option<u64> {
        self.records.first_non_utf8_line()
    }

    /// The value of a logical field for the current row, trimmed.
    fn field(&self, field: Field) -> &str {
        match self.values[field.index()] {
            Value::Empty => "",
            Value::Column(i) => super::trim(self.records.get(i)),
            Value::Text(text) => text,
            Value::ConsentSource => &self.consent_source,
            Value::Attribute(i) => super::trim(&self.attributes[i].1),
        }
    }

    fn cell(&self, column: Option<usize>) -> &str {
        column.map_or("", |i| super::trim(self.records.get(i)))
    }

    /// Refuses a row with a value beyond the header's last column: its
    /// values are not where the header says (most often a value holding
    /// the delimiter without quotes, which splits it in two and moves every
    /// value after it one column on), so no verdict about it could be
    /// trusted. Empty values past the end, as some exports write, are fine.
    fn check_extra_values(&self) -> Result<(), InputError> {
        let fields = self.records.len();
        let Some(extra) =
            (self.header_fields..fields).find(|&i| !super::trim(self.records.get(i)).is_empty())
        else {
            return Ok(());
        };
        let delimiter = char::from(self.records.delimiter());
        // What the error shows of the value: a line's worth, on one line.
        let value: String = super::trim(self.records.get(extra))
            .chars()
            .take(40)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        Err(InputError::new(
            self.records.path(),
            Some(self.records.line()),
            format!(
                "this row has {fields} values but the header names {} columns (value {} is \
                 `{value}`), so its values are not under their headers; a value that holds \
                 the delimiter `{delimiter}` must be in double quotes (\"de Vries{delimiter} \
                 Jan\"): fix the row, or export the list again",
                self.header_fields,
                extra + 1,
            ),
        ))
    }
}
