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

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value as Json;

use super::csv::{ReadAhead, Record, Records};
use super::headers::{self, Listmonk, Mailchimp};
use super::{ColumnMap, Field, InputError, Preset};
use crate::hash::FastHashMap;

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
        Ok(RecipientReader {
            header_fields: headers.len(),
            records: records.read_ahead(match base[Field::Email.index()] {
                Value::Column(i) => Some(i),
                _ => None,
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
        })
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

    fn resolve_presets(&mut self) {
        self.values = self.base;
        if let Some(m) = self.mailchimp {
            self.resolve_mailchimp(m);
        }
        if let Some(l) = self.listmonk {
            self.resolve_listmonk(l);
        }
    }

    fn resolve_mailchimp(&mut self, m: Mailchimp) {
        let confirmed = !self.cell(m.confirm_time).is_empty();
        if m.derive_consent_at {
            let time = if confirmed {
                m.confirm_time
            } else {
                m.optin_time
            };
            self.values[Field::ConsentAt.index()] = match time {
                Some(i) if !self.cell(time).is_empty() => Value::Column(i),
                _ => Value::Empty,
            };
        }
        if m.derive_consent_source {
            let has_consent = !self.field(Field::ConsentAt).is_empty();
            // The IP of the step the consent date comes from, else the other.
            let steps = if confirmed {
                [("confirm", m.confirm_ip), ("optin", m.optin_ip)]
            } else {
                [("optin", m.optin_ip), ("confirm", m.confirm_ip)]
            };
            let ip = steps
                .into_iter()
                .find(|&(_, column)| !self.cell(column).is_empty());
            self.consent_source.clear();
            if has_consent {
                self.consent_source.push_str("mailchimp");
                if let Some((step, Some(column))) = ip {
                    let ip = self.records.get(column).trim();
                    let _ = write!(self.consent_source, " ({step} ip {ip})");
                }
            }
            self.values[Field::ConsentSource.index()] = Value::ConsentSource;
        }
    }

    fn resolve_listmonk(&mut self, l: Listmonk) {
        self.attributes.clear();
        self.attributes_error = None;
        let json = self.cell(l.attributes);
        if !json.is_empty() {
            match serde_json::from_str::<serde_json::Map<String, Json>>(json) {
                Ok(object) => {
                    for (key, value) in object {
                        let mut text = String::new();
                        attribute_text(&value, &mut text);
                        if !self.attribute_keys.contains(&key) {
                            self.attribute_keys.insert(key.clone());
                        }
                        self.attributes.push((key, text));
                    }
                }
                Err(err) => {
                    self.attributes_error =
                        Some(format!("the attributes are not a JSON object ({err})"));
                }
            }
        }
        for (i, (key, _)) in self.attributes.iter().enumerate() {
            if let Some(field) = headers::field_for_attribute(key)
                && self.base[field.index()] == Value::Empty
            {
                self.values[field.index()] = Value::Attribute(i);
            }
        }
        if l.status.is_some() {
            // Otherwise an `unsubscribed_at` attribute, if any, decides.
            if self.cell(l.status).eq_ignore_ascii_case("blocklisted") {
                self.values[Field::UnsubscribedAt.index()] = Value::Text("blocklisted");
            }
        }
    }
}

/// A JSON attribute as a template value: strings as they are, booleans as
/// `true`/`false`, numbers as written, arrays joined with `|` (as lists in
/// a cell are), `null` as nothing, an object as its JSON text.
fn attribute_text(value: &Json, out: &mut String) {
    match value {
        Json::Null => {}
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Json::String(s) => out.push_str(s),
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                attribute_text(item, out);
            }
        }
        Json::Object(_) => {
            let _ = write!(out, "{value}");
        }
    }
}

/// One data row, borrowed from the reader until the next call to `next_row`.
pub struct Row<'r> {
    reader: &'r RecipientReader,
    /// The row's record, looked up once (the judge reads a dozen fields).
    record: Option<Record<'r>>,
}

impl<'r> Row<'r> {
    fn new(reader: &'r RecipientReader) -> Self {
        Row {
            reader,
            record: reader.records.record(),
        }
    }

    /// Column `index`, untrimmed; `""` for a missing trailing cell.
    #[inline]
    fn cell(&self, index: usize) -> &'r str {
        self.record.and_then(|r| r.get(index)).unwrap_or("")
    }

    /// The 1-based physical line where the row starts (the header is line 1).
    pub fn line(&self) -> u64 {
        self.reader.records.line()
    }

    /// The value of a logical field, trimmed; `""` when the column is absent
    /// or empty. Preset fields (Mailchimp's `consent_at` from CONFIRM_TIME else
    /// OPTIN_TIME, listmonk's `blocklisted` status …) are resolved here.
    // Always inlined: the judge reads about ten fields per row, each from
    // a call site that knows the field, and a call costs as much as the
    // lookup.
    #[inline(always)]
    pub fn get(&self, field: Field) -> &'r str {
        let reader = self.reader;
        if let Some(columns) = &reader.plain_columns {
            return super::trim(self.cell(columns[field.index()]));
        }
        match reader.values[field.index()] {
            Value::Empty => "",
            Value::Column(i) => super::trim(self.cell(i)),
            Value::Text(text) => text,
            Value::ConsentSource => &reader.consent_source,
            Value::Attribute(i) => super::trim(&reader.attributes[i].1),
        }
    }

    /// The value of a template variable by name: a logical field name, a
    /// column's snake_case name, or a listmonk attribute key. `None` when no
    /// column or attribute has that name.
    ///
    /// Values are trimmed. A field name a column maps to gives the field's
    /// (possibly derived) value. A column wins over an attribute of the same
    /// name. An attribute key missing from this row but seen on an earlier
    /// one gives `""`.
    pub fn var(&self, name: &str) -> Option<&'r str> {
        let reader = self.reader;
        match reader.vars.get(name) {
            Some(Var::Field(field)) => return Some(self.get(*field)),
            Some(Var::Column(i)) => return Some(super::trim(self.cell(*i))),
            None => {}
        }
        if let Some((_, value)) = reader.attributes.iter().find(|(key, _)| key == name) {
            return Some(value.trim());
        }
        if let Some(field) = Field::from_name(name)
            && reader.values[field.index()] != Value::Empty
        {
            return Some(self.get(field));
        }
        reader.attribute_keys.contains(name).then_some("")
    }

    /// [`Row::var`] of the variable `name`, resolved beforehand as `var`.
    pub fn var_at(&self, var: VarRef, name: &str) -> Option<&'r str> {
        match var.0 {
            Some(Var::Field(field)) => Some(self.get(field)),
            Some(Var::Column(i)) => Some(super::trim(self.cell(i))),
            None => self.var(name),
        }
    }

    /// The raw (decoded, untrimmed) value of column `index`; `""` for a
    /// missing trailing cell.
    pub fn value(&self, index: usize) -> &'r str {
        self.cell(index)
    }

    /// Every raw value of the row, as many as the line holds (which may be
    /// fewer or more than there are columns).
    pub fn values(&self) -> impl Iterator<Item = &'r str> + use<'r> {
        self.record.into_iter().flat_map(|r| r.iter())
    }

    /// The [`super::address_hash`] of the row's address (computed on the
    /// reading thread, which has the time).
    pub fn address_hash(&self) -> u64 {
        self.reader
            .records
            .address_hash()
            .unwrap_or_else(|| super::address_hash(self.get(Field::Email)))
    }

    /// True when the row's address ([`Row::get`] of [`Field::Email`])
    /// [`super::address::is_deliverable`]: worked out on the reading thread
    /// (which has the time), or here when it was not.
    pub fn address_is_deliverable(&self) -> bool {
        // The reading thread works it out for the column `Row::get` reads
        // the address from, trimmed the same way (see `RecipientReader::open`).
        self.reader
            .records
            .address_ok()
            .unwrap_or_else(|| super::address::is_deliverable(self.get(Field::Email)))
    }

    /// The value of the export's own bounce record (a Mailchimp export's
    /// `CLEAN_TIME`, trimmed): non-empty when the address bounced; `""`
    /// for other lists.
    pub fn bounced(&self) -> &'r str {
        match self.reader.mailchimp.as_ref().and_then(|m| m.clean_time) {
            Some(column) => super::trim(self.cell(column)),
            None => "",
        }
    }

    /// The address hashes of the rows after this one that are already read,
    /// in order: some or none of the rest, for a caller that prepares for
    /// them (the lint fetches their address book slots ahead).
    pub fn hashes_ahead(&self) -> impl Iterator<Item = u64> + use<'r> {
        self.reader.records.hashes_ahead()
    }

    /// True when this row was not UTF-8 and was read as Windows-1252.
    pub fn is_windows_1252(&self) -> bool {
        self.reader.records.is_decoded()
    }

    /// Why this row's listmonk `attributes` could not be read (the row then
    /// has no attributes); `None` when they were read, or there are none.
    pub fn attributes_error(&self) -> Option<&'r str> {
        self.reader.attributes_error.as_deref()
    }

    /// This row's listmonk attributes (key, value as text), in key order.
    pub fn attributes(&self) -> impl Iterator<Item = (&'r str, &'r str)> + use<'r> {
        self.reader
            .attributes
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn row_get_reads_what_the_field_mapping_says() {
        for name in EXPORTS {
            let mut reader = open(&data(name));
            assert!(assert_get_agrees_with_field(&mut reader) > 0, "{name}");
        }
        // Short and long rows, cells with spaces, an unmapped header, and a
        // `[columns]` override.
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            b"Mail,klant,extra,purchased, consent_at \n\
              jan@example.nl , ja ,x, bbq|e-bikes ,2026-01-01\n\
              piet@example.nl\n\
              kees@example.nl,nee,,,,, \n\
              \"anna@example.nl\",\" \",\"\",\"\xc2\xa0Zo\xc3\xab\",\t2026-02-30\t\n",
        );
        let mut reader =
            RecipientReader::open(&path, &[(Field::Email, "Mail".to_owned())]).unwrap();
        assert_eq!(reader.preset(), Preset::Plain);
        assert_eq!(assert_get_agrees_with_field(&mut reader), 4);
        let mut reader =
            RecipientReader::open(&path, &[(Field::Email, "Mail".to_owned())]).unwrap();
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::Email), "jan@example.nl");
        assert_eq!(row.get(Field::Customer), "ja");
        assert_eq!(row.get(Field::Purchased), "bbq|e-bikes");
        assert_eq!(row.get(Field::ConsentAt), "2026-01-01");
        assert_eq!(row.get(Field::LastName), "");
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::Email), "piet@example.nl");
        assert_eq!(row.get(Field::ConsentAt), "");
    }

    #[test]
    fn dutch_excel_export_with_bom_semicolons_and_crlf() {
        let mut reader = open(&data("dutch-excel.csv"));
        assert_eq!(reader.delimiter(), b';');
        assert_eq!(reader.preset(), Preset::Plain);
        let columns = reader.columns();
        // The BOM is not part of the first header.
        assert_eq!(columns.columns[0].header, "E-mailadres");
        assert_eq!(columns.header_of(Field::Email), Some("E-mailadres"));
        assert_eq!(columns.header_of(Field::ConsentAt), Some("Toestemming"));
        assert_eq!(columns.columns[3].var, "klant_nummer");
        assert_eq!(columns.columns[11].var, "bedrag");

        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.line(), 2);
        assert_eq!(row.get(Field::Email), "jan@example.nl");
        assert_eq!(row.get(Field::FirstName), "Jan");
        assert_eq!(row.get(Field::LastName), "de Vries");
        assert_eq!(row.get(Field::Customer), "ja");
        assert_eq!(row.get(Field::Purchased), "garden-furniture|bbq");
        assert_eq!(
            parse_date(row.get(Field::LastPurchaseAt)),
            Some(date(2026, 3, 1))
        );
        assert_eq!(row.get(Field::ListSource), "eigen");
        assert_eq!(row.var("klant_nummer"), Some("1001"));
        assert_eq!(row.var("bedrag"), Some("12,50"));
        assert_eq!(row.var("first_name"), Some("Jan"));
        assert_eq!(row.var("nope"), None);

        // Line 3 is an empty Excel row (only semicolons): skipped.
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.line(), 4);
        assert_eq!(row.get(Field::Email), "Piet@Example.NL");
        assert_eq!(row.get(Field::ConsentAt), "15-01-2027");
        assert_eq!(
            row.get(Field::ConsentSource),
            "https://shop.example/aanmelden"
        );
        assert_eq!(row.var("bedrag"), Some("3;00"));
        assert_eq!(row.get(Field::ConsentScope), "");

        // Line 5 is empty.
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.line(), 6);
        assert_eq!(row.get(Field::UnsubscribedAt), "2027-02-01");
        assert!(reader.next_row().unwrap().is_none());
        assert_eq!(reader.first_non_utf8_line(), None);
    }

    #[test]
    fn tab_separated() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            b"Email\tFirst Name\tnotes, free text\na@example.nl\tAnn\tx, y\n",
        );
        let mut reader = open(&path);
        assert_eq!(reader.delimiter(), b'\t');
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::Email), "a@example.nl");
        assert_eq!(row.get(Field::FirstName), "Ann");
        assert_eq!(row.var("notes_free_text"), Some("x, y"));
    }

    #[test]
    fn windows_1252_rows_are_decoded_and_the_first_is_remembered() {
        let mut reader = open(&data("windows-1252.csv"));
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::FirstName), "Anna");
        assert!(!row.is_windows_1252());
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.line(), 3);
        assert_eq!(row.get(Field::FirstName), "José");
        assert_eq!(row.var("plaats"), Some("Koög € 5"));
        assert!(row.is_windows_1252());
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::FirstName), "Zoë", "a UTF-8 row stays UTF-8");
        assert!(reader.next_row().unwrap().is_none());
        assert_eq!(reader.first_non_utf8_line(), Some(3));
    }

    #[test]
    fn windows_1252_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, b"email;Pr\xe9nom\na@example.nl;Ren\xe9\n");
        let mut reader = open(&path);
        assert_eq!(reader.columns().columns[1].header, "Prénom");
        assert_eq!(reader.columns().columns[1].var, "prenom");
        assert_eq!(reader.first_non_utf8_line(), Some(1));
        assert_eq!(
            reader.next_row().unwrap().unwrap().var("prenom"),
            Some("René")
        );
    }

    #[test]
    fn quoted_newlines_keep_the_following_line_numbers_right() {
        let dir = tempfile::tempdir().unwrap();
        let text = "email,address,note\n\
                    a@example.nl,\"Dorpsstraat 1\n1234 AB Ergens\",x\n\
                    b@example.nl,\"line 1\r\nline 2\r\nline 3\",\"y\"\n\
                    \n\
                    c@example.nl,short\n\
                    d@example.nl,\"last\nrow\"";
        let path = write(&dir, text.as_bytes());
        let mut reader = open(&path);
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.var("address"), Some("Dorpsstraat 1\n1234 AB Ergens"));
        assert_eq!(
            lines_and_emails(&mut reader),
            [
                (4, "b@example.nl".to_owned()),
                (8, "c@example.nl".to_owned()),
                (9, "d@example.nl".to_owned()),
            ]
        );
    }

    #[test]
    fn line_numbers_with_crlf_lone_cr_blank_lines_and_no_final_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, b"\r\n\r\nemail\r\na@x.nl\r\n\r\n\r\nb@x.nl\rc@x.nl");
        let mut reader = open(&path);
        assert_eq!(reader.header_line(), 3);
        assert_eq!(
            lines_and_emails(&mut reader),
            [
                (4, "a@x.nl".to_owned()),
                (7, "b@x.nl".to_owned()),
                (8, "c@x.nl".to_owned()),
            ]
        );
    }

    #[test]
    fn short_rows_and_empty_values_past_the_header_are_not_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, b"email,first name,last name\na@x.nl\nb@x.nl,B,C,, \n");
        let mut reader = open(&path);
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::LastName), "");
        assert_eq!(row.value(2), "");
        assert_eq!(row.values().count(), 1);
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::LastName), "C");
        assert_eq!(row.values().collect::<Vec<_>>().len(), 5);
        assert!(reader.next_row().unwrap().is_none());
    }

    #[test]
    fn a_value_past_the_header_is_refused_at_its_line() {
        // An unquoted comma splits a name in two: every value after it sits
        // one column on, under the wrong header.
        let err = row_error(
            b"email,last name,consent_at,consent_source\n\
              a@x.nl,Jansen,2026-01-01,form\n\
              b@x.nl,de Vries, Piet,2026-01-01,form\n",
        );
        assert_eq!(err.line, Some(3));
        let message = err.to_string();
        assert!(
            message.contains("5 values but the header names 4 columns"),
            "{message}"
        );
        assert!(message.contains("value 5 is `form`"), "{message}");
        assert!(message.contains("double quotes"), "{message}");
    }

    #[test]
    fn values_are_trimmed_by_get_and_raw_by_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, b"email,naam\n  a@x.nl , Ann \n");
        let mut reader = open(&path);
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::Email), "a@x.nl");
        assert_eq!(row.value(0), "  a@x.nl ");
        assert_eq!(row.var("name"), Some("Ann"));
    }

    #[test]
    fn mailchimp_export() {
        let mut reader = open(&data("mailchimp.csv"));
        assert_eq!(reader.preset(), Preset::Mailchimp);
        assert_eq!(
            reader.columns().header_of(Field::ConsentAt),
            Some("CONFIRM_TIME")
        );
        assert_eq!(
            reader.columns().header_of(Field::Email),
            Some("Email Address")
        );

        // Confirmed (double opt-in): CONFIRM_TIME and CONFIRM_IP.
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::Email), "anna@example.nl");
        assert_eq!(row.get(Field::FirstName), "Anna");
        assert_eq!(row.get(Field::ConsentAt), "2026-05-01 09:05:00");
        assert_eq!(
            row.get(Field::ConsentSource),
            "mailchimp (confirm ip 192.0.2.7)"
        );
        assert_eq!(row.var("consent_at"), Some("2026-05-01 09:05:00"));
        assert_eq!(row.var("member_rating"), Some("2"));
        assert_eq!(row.get(Field::UnsubscribedAt), "");

        // Single opt-in: OPTIN_TIME and OPTIN_IP.
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::ConsentAt), "2026-06-01 10:00:00");
        assert_eq!(
            row.get(Field::ConsentSource),
            "mailchimp (optin ip 198.51.100.4)"
        );

        // No IP recorded.
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::ConsentAt), "2026-07-01 11:00:00");
        assert_eq!(row.get(Field::ConsentSource), "mailchimp");

        // Imported without opt-in: no consent, and no source either.
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::ConsentAt), "");
        assert_eq!(row.get(Field::ConsentSource), "");
        assert_eq!(row.var("notes"), Some("imported, no opt-in"));

        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::UnsubscribedAt), "2026-12-24 18:00:00");
        assert_eq!(row.line(), 6);
        assert!(reader.next_row().unwrap().is_none());
    }

    #[test]
    fn mailchimp_with_consent_at_override_reads_only_that_column() {
        let overrides = [(Field::ConsentAt, "CONFIRM_TIME".to_owned())];
        let mut reader = RecipientReader::open(&data("mailchimp.csv"), &overrides).unwrap();
        reader.next_row().unwrap();
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::Email), "bert@example.nl");
        assert_eq!(row.get(Field::ConsentAt), "", "no fallback to OPTIN_TIME");
        assert_eq!(row.get(Field::ConsentSource), "");
        assert_eq!(row.var("optin_time"), Some("2026-06-01 10:00:00"));
    }

    #[test]
    fn listmonk_export() {
        let mut reader = open(&data("listmonk.csv"));
        assert_eq!(reader.preset(), Preset::Listmonk);

        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::Email), "anna@example.nl");
        assert_eq!(row.get(Field::Name), "Anna Bakker");
        assert_eq!(row.get(Field::Customer), "true");
        assert_eq!(row.get(Field::Purchased), "bicycles|e-bikes");
        assert_eq!(row.get(Field::LastPurchaseAt), "2026-09-01");
        assert_eq!(row.get(Field::UnsubscribedAt), "");
        assert_eq!(row.var("city"), Some("Utrecht"));
        assert_eq!(row.var("visits"), Some("12"));
        assert_eq!(row.var("created_at"), Some("2026-01-01 10:00:00"));
        assert_eq!(row.attributes_error(), None);
        assert_eq!(row.attributes().count(), 5);

        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::UnsubscribedAt), "blocklisted");
        assert_eq!(row.get(Field::ConsentAt), "2026-03-03T12:00:00Z");
        assert_eq!(row.get(Field::ConsentSource), "https://shop.example/form");
        assert_eq!(row.get(Field::FirstName), "Bertje");
        assert_eq!(
            row.get(Field::Customer),
            "",
            "not carried over from the last row"
        );
        assert_eq!(row.var("first_name"), Some("Bertje"));
        assert_eq!(row.var("city"), Some(""), "seen on an earlier row");

        let row = reader.next_row().unwrap().unwrap();
        assert!(row.attributes_error().unwrap().contains("JSON"));
        assert_eq!(row.get(Field::FirstName), "");
        assert_eq!(row.get(Field::Email), "carla@example.nl");

        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.attributes_error(), None);
        assert_eq!(
            row.get(Field::UnsubscribedAt),
            "",
            "disabled is not opted out"
        );
        assert!(reader.next_row().unwrap().is_none());

        let keys: Vec<_> = reader.attribute_keys().iter().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "city",
                "consent_at",
                "consent_source",
                "customer",
                "first_name",
                "last_purchase_at",
                "purchased",
                "visits",
            ]
        );
    }

    #[test]
    fn columns_override_maps_an_unaliased_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, b"Contact,Opt-in datum\na@x.nl,2027-01-01\n");
        let overrides = [
            (Field::Email, "contact".to_owned()),
            (Field::ConsentAt, "Opt-in Datum".to_owned()),
        ];
        let mut reader = RecipientReader::open(&path, &overrides).unwrap();
        assert_eq!(
            reader.columns().header_of(Field::ConsentAt),
            Some("Opt-in datum")
        );
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.get(Field::Email), "a@x.nl");
        assert_eq!(row.get(Field::ConsentAt), "2027-01-01");
        assert_eq!(row.var("consent_at"), Some("2027-01-01"));
    }

    #[test]
    fn override_of_a_missing_header_is_an_error_on_the_header_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, b"email,naam\na@x.nl,A\n");
        let overrides = [(Field::ConsentAt, "Toestemming datum".to_owned())];
        let Err(err) = RecipientReader::open(&path, &overrides) else {
            panic!("opened");
        };
        assert_eq!(err.line, Some(1));
        assert_eq!(err.path, path);
        let text = err.to_string();
        assert!(
            text.contains("recipients.csv:1: [columns] consent_at"),
            "{text}"
        );
        assert!(text.contains("\"email\", \"naam\""), "{text}");
    }

    #[test]
    fn missing_email_column_is_an_error() {
        let err = open_error(b"naam;telefoon\nJan;0612345678\n");
        assert_eq!(err.line, Some(1));
        assert!(err.message.contains("no email column"), "{}", err.message);
        assert!(
            err.message.contains("\"naam\", \"telefoon\""),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("[columns] email = "),
            "{}",
            err.message
        );
    }

    #[test]
    fn unbalanced_quote_reports_the_line_it_opened_on() {
        let err = row_error(b"email,name\na@x.nl,A\nb@x.nl,\"Bee\nc@x.nl,C\nd@x.nl,D\n");
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("never closed"), "{}", err.message);
        // The quote opens on the second line of a record.
        let err = row_error(b"email,a,b\nx@x.nl,\"1\n2\",\"open\ny@x.nl,1,2\n");
        assert_eq!(err.line, Some(3));
        // In the header itself.
        let err = open_error(b"email,\"name\na@x.nl,A\n");
        assert_eq!(err.line, Some(1));
        assert!(err.message.contains("never closed"), "{}", err.message);
    }

    #[test]
    fn a_quote_opened_at_the_very_end_is_never_closed() {
        // The opening quote is the last thing in the file but its line end.
        let err = row_error(b"email,name\na@x.nl,A\nx@example.nl,\"\n");
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("never closed"), "{}", err.message);
        // ... or the very last thing, or `;`-delimited.
        let err = row_error(b"email,name\na@x.nl,A\nx@example.nl,\"");
        assert_eq!(err.line, Some(3));
        let err = row_error(b"email;name\na@x.nl;A\nx@example.nl;\"\r\n");
        assert_eq!(err.line, Some(3));
        // A doubled quote inside the open field is not its closing quote.
        let err = row_error(b"email,name\na@x.nl,\"A\nb@x.nl,B\"\"\n");
        assert_eq!(err.line, Some(2));
        // In the header, as its only line.
        let err = open_error(b"email,\"\n");
        assert_eq!(err.line, Some(1));
        assert!(err.message.contains("never closed"), "{}", err.message);
    }

    #[test]
    fn a_closed_quote_at_the_very_end_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        for (text, note) in [
            (&b"email,note\na@x.nl,\"b\""[..], "b"),
            (b"email,note\na@x.nl,\"b\"\n", "b"),
            (
                b"email,note\na@x.nl,\"he said \"\"hi\"\"\"",
                "he said \"hi\"",
            ),
            (
                b"email,note\na@x.nl,\"he said \"\"hi\"\"\"\n",
                "he said \"hi\"",
            ),
            (b"email,note\na@x.nl,\"line\n\"\"\"\n", "line\n\""),
            (b"email,note\na@x.nl,\"\"", ""),
        ] {
            let path = write(&dir, text);
            let mut reader = open(&path);
            let row = reader.next_row().unwrap().unwrap();
            assert_eq!(row.var("note"), Some(note));
            assert_eq!(row.line(), 2);
            assert!(reader.next_row().unwrap().is_none());
        }
    }

    #[test]
    fn a_closed_multi_line_field_at_the_end_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, b"email,note\na@x.nl,\"two\nlines\"\r\n\r\n");
        let mut reader = open(&path);
        let row = reader.next_row().unwrap().unwrap();
        assert_eq!(row.var("note"), Some("two\nlines"));
        assert!(reader.next_row().unwrap().is_none());
    }

    #[test]
    fn binary_data_is_not_a_csv_file() {
        let mut garbage = b"email,name\n".to_vec();
        garbage.extend((0..2000u32).map(|i| (i * 7919 % 251) as u8));
        let err = open_error(&garbage);
        assert!(err.message.contains("not a CSV file"), "{}", err.message);

        let err = open_error(b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml");
        assert!(err.message.contains(".xlsx"), "{}", err.message);

        let err = open_error(b"\xff\xfee\x00m\x00a\x00i\x00l\x00\n\x00");
        assert!(err.message.contains("UTF-16"), "{}", err.message);

        let err = open_error(b"email\na@x.nl\nb@x.nl\x00\x00\n");
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("NUL"), "{}", err.message);
    }

    #[test]
    fn nul_bytes_past_the_sniffed_prefix_are_an_error_on_their_line() {
        let mut text = b"email\n".to_vec();
        for i in 0..2000 {
            text.extend(format!("user{i}@example.nl\n").as_bytes());
        }
        text.extend(b"bad\x00row@example.nl\n");
        assert!(text.len() > 16 * 1024);
        let err = row_error(&text);
        assert_eq!(err.line, Some(2002));
        assert!(err.message.contains("binary"), "{}", err.message);
    }

    #[test]
    fn empty_missing_and_directory_files_are_errors() {
        let err = open_error(b"");
        assert!(err.message.contains("is empty"), "{}", err.message);
        let err = open_error(b"\xef\xbb\xbf\r\n  \r\n;;;\r\n");
        assert!(err.message.contains("is empty"), "{}", err.message);

        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.csv");
        let Err(err) = RecipientReader::open(&missing, &[]) else {
            panic!("opened a missing file");
        };
        assert!(err.to_string().contains("nope.csv: cannot open"), "{err}");
        assert!(err.message.contains("no such file"), "{}", err.message);

        let Err(err) = RecipientReader::open(dir.path(), &[]) else {
            panic!("opened a directory");
        };
        assert!(err.message.contains("directory"), "{}", err.message);
    }

    #[test]
    fn header_only_file_has_no_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, b"email,naam\n");
        let mut reader = open(&path);
        assert!(reader.next_row().unwrap().is_none());
        assert!(reader.next_row().unwrap().is_none(), "stays at the end");
    }

    #[test]
    fn variables_resolved_once_read_as_by_name() {
        for file in ["mailchimp.csv", "listmonk.csv", "windows-1252.csv"] {
            let mut reader = open(&data(file));
            let mut names: Vec<String> = reader
                .columns()
                .columns
                .iter()
                .map(|c| c.var.clone())
                .collect();
            names.extend(["city", "first_name", "consent_source", "nope"].map(String::from));
            let resolved: Vec<VarRef> = names.iter().map(|n| reader.resolve_var(n)).collect();
            while let Some(row) = reader.next_row().unwrap() {
                for (name, var) in names.iter().zip(&resolved) {
                    assert_eq!(row.var_at(*var, name), row.var(name), "{file}: {name}");
                }
            }
        }
    }

    /// For every row of `reader`: the reading thread worked out whether
    /// the address is deliverable (`expect_precomputed`), and its answer is
    /// `is_deliverable` of the address the judge reads. Returns how many
    /// rows had a deliverable address and how many had not.
    fn assert_precomputed_deliverable(
        reader: &mut RecipientReader,
        expect_precomputed: bool,
    ) -> (usize, usize) {
        let (mut yes, mut no) = (0, 0);
        while let Some(row) = reader.next_row().unwrap() {
            let email = row.get(Field::Email);
            let expected = crate::recipients::address::is_deliverable(email);
            assert_eq!(
                row.reader.records.address_ok(),
                expect_precomputed.then_some(expected),
                "line {} {email:?}",
                row.line()
            );
            assert_eq!(
                row.address_is_deliverable(),
                expected,
                "line {} {email:?}",
                row.line()
            );
            if expected {
                yes += 1;
            } else {
                no += 1;
            }
        }
        (yes, no)
    }

    #[test]
    fn the_reading_threads_deliverable_answer_is_the_judges() {
        // Addresses valid, invalid, padded with spaces, tabs and no-break
        // spaces, empty, missing, quoted (with a delimiter and a quote
        // inside), in Windows-1252 rows, and in the second column; repeated
        // so that they fall in several batches and at their edges.
        let edge_rows: &[&[u8]] = &[
            b"x,jan@example.nl,a\n",
            b"x,  piet@example.nl  ,a\n",
            b"x,\tkees@example.nl\t,a\n",
            b"x,\xc2\xa0anna@example.nl\xc2\xa0,a\n",
            b"x,,a\n",
            b"x,   ,a\n",
            b"x\n",
            b"x,not an address,a\n",
            b"x,jan@example.nl.,a\n",
            b"x,jan@@example.nl,a\n",
            b"x,\"quoted@example.nl\",a\n",
            b"x,\" spaced@example.nl \",a\n",
            b"x,\"\"\"jan,piet\"\"@example.nl\",a\n",
            b"x,\"a,b@example.nl\",a\n",
            b"x,jos\xe9@example.nl,a\n",
            b"x,\xa0ren\xe9@example.nl\xa0,a\n",
            b"x,zo\xc3\xab@example.nl,a\n",
            b"x,jan@exampl\xe9.nl,Ren\xe9\n",
            b"x,JAN@Example.NL,a\n",
        ];
        let mut text = b"name,email,note\n".to_vec();
        let mut rows = 0;
        while rows < 3000 {
            for row in edge_rows {
                text.extend_from_slice(row);
                rows += 1;
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, &text);
        let mut reader = open(&path);
        assert!(reader.first_non_utf8_line().is_none());
        let (yes, no) = assert_precomputed_deliverable(&mut reader, true);
        assert_eq!(yes + no, rows);
        // Both answers turn up, so the comparison means something.
        assert!(yes > 0 && no > 0, "{yes} deliverable, {no} not");
        assert!(reader.first_non_utf8_line().is_some());

        // The exports the presets read, whose address is a column as well.
        for name in EXPORTS {
            let mut reader = open(&data(name));
            let (yes, no) = assert_precomputed_deliverable(&mut reader, true);
            assert!(yes + no > 0, "{name}");
        }
    }

    #[test]
    fn rows_read_ahead_in_batches_come_out_as_written() {
        // Several batches of the reading thread, with the awkward rows far
        // from the start: a quoted line break, a Windows-1252 row, and a
        // UTF-8 character split by a delimiter (each half invalid alone).
        let dir = tempfile::tempdir().unwrap();
        let mut text = b"email;naam;note\n".to_vec();
        for i in 0..5000 {
            match i {
                1500 => text.extend(b"a1500@x.nl;\"Jan\nJansen\";n\n"),
                3000 => text.extend(b"a3000@x.nl;Ren\xe9;n\n"),
                4000 => text.extend(b"a4000@x.nl;x\xc3;\xa9y\n"),
                _ => text.extend(format!("a{i}@x.nl;Zo\u{eb};n\n").as_bytes()),
            }
        }
        let path = write(&dir, &text);
        let mut reader = open(&path);
        let mut line = 2;
        for i in 0..5000 {
            let row = reader.next_row().unwrap().unwrap();
            assert_eq!(row.line(), line, "row {i}");
            assert_eq!(row.get(Field::Email), format!("a{i}@x.nl"));
            assert_eq!(
                row.address_hash(),
                super::super::address_hash(row.get(Field::Email))
            );
            for (j, hash) in row.hashes_ahead().enumerate() {
                let email = format!("A{}@X.nl", i + 1 + j);
                assert_eq!(hash, super::super::address_hash(&email), "{email}");
            }
            match i {
                1500 => assert_eq!(row.get(Field::Name), "Jan\nJansen"),
                3000 => {
                    assert_eq!(row.get(Field::Name), "René");
                    assert!(row.is_windows_1252());
                }
                4000 => {
                    assert_eq!(row.get(Field::Name), "xÃ");
                    assert_eq!(row.var("note"), Some("©y"));
                    assert!(row.is_windows_1252());
                }
                _ => {
                    assert_eq!(row.get(Field::Name), "Zoë");
                    assert!(!row.is_windows_1252());
                }
            }
            assert_eq!(row.values().count(), 3);
            line += if i == 1500 { 2 } else { 1 };
        }
        assert!(reader.next_row().unwrap().is_none());
        assert!(reader.next_row().unwrap().is_none());
        assert_eq!(reader.first_non_utf8_line(), Some(3003));
    }

    #[test]
    fn an_error_after_many_rows_comes_after_those_rows() {
        let mut text = b"email,name\n".to_vec();
        for i in 0..3000 {
            text.extend(format!("u{i}@x.nl,n\n").as_bytes());
        }
        text.extend(b"bad@x.nl,\"never closed\nz@x.nl,z\n");
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, &text);
        let mut reader = open(&path);
        for _ in 0..3000 {
            assert!(reader.next_row().unwrap().is_some());
        }
        let Err(err) = reader.next_row() else {
            panic!("read past an unclosed quote");
        };
        assert_eq!(err.line, Some(3002));
        assert!(reader.next_row().unwrap().is_none(), "stays at the end");
    }

    #[test]
    fn a_long_file_streams_with_correct_lines() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("email;note\n");
        for i in 0..50_000 {
            if i % 1000 == 0 {
                text.push_str(&format!("u{i}@x.nl;\"multi\nline\"\n"));
            } else {
                text.push_str(&format!("u{i}@x.nl;n\n"));
            }
        }
        let path = write(&dir, text.as_bytes());
        let mut reader = open(&path);
        let mut expected_line = 2;
        let mut count = 0;
        while let Some(row) = reader.next_row().unwrap() {
            assert_eq!(row.line(), expected_line, "{}", row.get(Field::Email));
            expected_line += if row.var("note") == Some("n") { 1 } else { 2 };
            count += 1;
        }
        assert_eq!(count, 50_000);
    }
}
