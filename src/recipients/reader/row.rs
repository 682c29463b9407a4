//! [`Row`]: one data row, borrowed from the reader, as the judge, the
//! rules and the templates read it.

use super::{RecipientReader, Value, Var, VarRef};
use crate::recipients::Field;
use crate::recipients::csv::Record;
use crate::recipients::list_source::{self, ListSource};

/// One data row, borrowed from the reader until the next call to `next_row`.
pub struct Row<'r> {
    pub(super) reader: &'r RecipientReader,
    /// The row's record, looked up once (the judge reads a dozen fields).
    pub(super) record: Option<Record<'r>>,
}

impl<'r> Row<'r> {
    pub(super) fn new(reader: &'r RecipientReader) -> Self {
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
            return crate::recipients::trim(self.cell(columns[field.index()]));
        }
        match reader.values[field.index()] {
            Value::Empty => "",
            Value::Column(i) => crate::recipients::trim(self.cell(i)),
            Value::Text(text) => text,
            Value::ConsentSource => &reader.consent_source,
            Value::Attribute(i) => crate::recipients::trim(&reader.attributes[i].1),
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
            Some(Var::Column(i)) => return Some(crate::recipients::trim(self.cell(*i))),
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
            Some(Var::Column(i)) => Some(crate::recipients::trim(self.cell(i))),
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

    /// The [`crate::recipients::address_hash`] of the row's address (computed on the
    /// reading thread, which has the time).
    pub fn address_hash(&self) -> u64 {
        self.reader
            .records
            .address_hash()
            .unwrap_or_else(|| crate::recipients::address_hash(self.get(Field::Email)))
    }

    /// True when the row's address ([`Row::get`] of [`Field::Email`])
    /// [`crate::recipients::address::is_deliverable`]: worked out on the reading thread
    /// (which has the time), or here when it was not.
    pub fn address_is_deliverable(&self) -> bool {
        // The reading thread works it out for the column `Row::get` reads
        // the address from, trimmed the same way (see `RecipientReader::open`).
        self.reader
            .records
            .address_ok()
            .unwrap_or_else(|| crate::recipients::address::is_deliverable(self.get(Field::Email)))
    }

    /// The value of the export's own bounce record (a Mailchimp export's
    /// `CLEAN_TIME`, trimmed): non-empty when the address bounced; `""`
    /// for other lists.
    pub fn bounced(&self) -> &'r str {
        match self.reader.mailchimp.as_ref().and_then(|m| m.clean_time) {
            Some(column) => crate::recipients::trim(self.cell(column)),
            None => "",
        }
    }

    /// The row's `list_source` value ([`Row::get`] of [`Field::ListSource`])
    /// [`list_source::classify`]d: worked out on the reading thread (which
    /// has the time), or here when it was not. The judge and the
    /// `unknown-list-source` tally both ask.
    #[inline]
    pub fn list_source(&self) -> ListSource {
        self.reader
            .records
            .list_source()
            .unwrap_or_else(|| list_source::classify(self.get(Field::ListSource)))
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
