//! Header mapping (SPEC §1.2): which column holds which logical field, and
//! under which template variable names every column is known.
//!
//! The mapped header, [`ColumnMap`], is here; how it is worked out is in
//! the submodules, one concern each:
//! - `aliases`: the header names of each field, matched as SPEC §1.2 says;
//! - `presets`: recognising a Mailchimp or listmonk export, and the
//!   columns of theirs the reader derives fields from;
//! - `map`: mapping a header line (aliases, presets, `[columns]`
//!   overrides) and its error messages;
//! - `names`: the template variable name of every column.

use super::Field;
use crate::span::Place;

mod aliases;
mod map;
mod names;
mod presets;
#[cfg(test)]
mod tests;

pub(super) use aliases::field_for_attribute;
pub use aliases::likely_field;
use aliases::normalized_eq;
pub(super) use map::map_header;
use presets::MAILCHIMP_BOOKKEEPING;
pub(super) use presets::{Listmonk, Mailchimp};

/// Which known export the header was recognised as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Any other CSV: columns map by alias or `[columns]` only.
    Plain,
    /// A Mailchimp audience export (`Email Address`, `OPTIN_TIME`,
    /// `CONFIRM_TIME`, …): consent is derived from its opt-in record.
    Mailchimp,
    /// A listmonk subscriber export (`uuid`, `email`, `name`, `attributes`,
    /// `status`, …): fields may come from the `attributes` JSON.
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
    /// For a column that maps to a logical field, its header in snake_case
    /// as a second variable name (`Voornaam` is `first_name` and
    /// `voornaam`), when that differs from `var` and no other column has it.
    pub header_var: Option<String>,
    /// The logical field the column maps to, if any.
    pub field: Option<Field>,
    /// Where the header cell is in the file, for diagnostics about the
    /// column (set by the reader, which knows the file).
    pub place: Option<Place>,
}

/// The header of a recipient CSV, mapped.
///
/// Usually one column holds a field. A preset may derive one field from
/// several columns; they all carry that field (and its name as `var`):
/// Mailchimp's `CONFIRM_TIME` and `OPTIN_TIME` are `consent_at`, its
/// `CONFIRM_IP` and `OPTIN_IP` are `consent_source`. listmonk's `status`
/// column is `unsubscribed_at` (it is `blocklisted` or not).
#[derive(Clone, Debug)]
pub struct ColumnMap {
    pub columns: Vec<Column>,
    /// The export the header was recognised as, found once: asked for
    /// every column, it was found again each time (4,000 columns took a
    /// minute).
    preset: Preset,
}

impl ColumnMap {
    /// The header (as written in the file) of the column that holds `field`,
    /// if one does.
    ///
    /// For a preset field derived from several columns, the one that takes
    /// precedence: Mailchimp's `CONFIRM_TIME` over `OPTIN_TIME` for
    /// `consent_at`, `CONFIRM_IP` over `OPTIN_IP` for `consent_source` (and,
    /// in an export without IP columns, the `consent_at` column, since the
    /// source is then just "mailchimp" recorded with that time). For a
    /// listmonk export, a field no column holds may come from the JSON, so
    /// it is `attributes`.
    pub fn header_of(&self, field: Field) -> Option<&str> {
        if let Some(column) = self.column(field) {
            return Some(&column.header);
        }
        match (self.preset(), field) {
            (Preset::Mailchimp, Field::ConsentSource) => self.header_of(Field::ConsentAt),
            (Preset::Listmonk, _) => self
                .columns
                .iter()
                .find(|c| normalized_eq(&c.header, "attributes"))
                .map(|c| c.header.as_str()),
            _ => None,
        }
    }

    /// True when some column (or preset source) provides `field`.
    pub fn has(&self, field: Field) -> bool {
        self.header_of(field).is_some()
    }

    /// The column that holds `field` (see [`ColumnMap::header_of`] for which
    /// one when a preset derives it from several). `None` when the field
    /// comes from no column, including a listmonk attribute.
    pub fn column(&self, field: Field) -> Option<&Column> {
        let mut best: Option<&Column> = None;
        for column in self.columns.iter().filter(|c| c.field == Some(field)) {
            match best {
                Some(b) if precedence(&b.header) >= precedence(&column.header) => {}
                _ => best = Some(column),
            }
        }
        best
    }

    /// Which export the header is, recognised from the header names alone.
    pub fn preset(&self) -> Preset {
        self.preset
    }

    /// Whether `column` is one of an export's own bookkeeping columns
    /// (Mailchimp's `MEMBER_RATING`, `LEID`, `TAGS`, …) rather than the
    /// sender's data.
    pub fn is_bookkeeping(&self, column: &Column) -> bool {
        self.preset() == Preset::Mailchimp
            && column.field.is_none()
            && MAILCHIMP_BOOKKEEPING
                .iter()
                .any(|name| normalized_eq(&column.header, name))
    }

    /// Every template variable the columns provide, each once, in column
    /// order (a preset's shared field name appears once), then the mapped
    /// columns' header names. listmonk attributes are not included: see
    /// `RecipientReader::attribute_keys`.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(i, c)| !self.columns[..*i].iter().any(|p| p.var == c.var))
            .map(|(_, c)| c.var.as_str())
            .chain(self.columns.iter().filter_map(|c| c.header_var.as_deref()))
    }

    /// The column a template variable names: by its `var` or `header_var`.
    pub fn column_of_var(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.var == name || c.header_var.as_deref() == Some(name))
    }
}

/// Mailchimp's confirmation (double opt-in) outranks its first opt-in.
fn precedence(header: &str) -> u8 {
    u8::from(normalized_eq(header, "confirmtime") || normalized_eq(header, "confirmip"))
}
