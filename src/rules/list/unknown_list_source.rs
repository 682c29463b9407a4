//! `unknown-list-source`: a `list_source` value that is neither own nor purchased (such rows are judged as purchased).
//!
//! Decided over every row (each such row is judged as purchased, so each
//! changes a verdict), with the classification the judge uses
//! ([`crate::recipients::list_source`], SPEC §1.2): every distinct value is
//! named once, with its count and first line.

use crate::diagnostic::Finding;
use crate::recipients::list_source::ListSource;
use crate::recipients::{Field, Row};
use crate::rules::RuleId;
use crate::rules::list::{AfterLastRow, DistinctValues, List, Rows, Scan};

crate::declare_rule! {
    name: "unknown-list-source",
    scope: list,
    default: warning,
    order: 30,
    summary: "a `list_source` value that is neither own nor purchased (such rows are judged as purchased)",
    explain: "unknown_list_source.md",
}

/// Tallies the odd values over every row.
pub fn check(_: &List<'_>, _: &mut Vec<Finding>) -> Option<Box<dyn Scan>> {
    Some(Box::new(ListSourceValues::default()))
}

/// Every `list_source` value that is neither own nor purchased, with its
/// count and first line.
#[derive(Debug, Default)]
struct ListSourceValues {
    unknown: DistinctValues,
}

impl Scan for ListSourceValues {
    fn rows(&self) -> Rows {
        Rows::Every
    }

    fn row(&mut self, row: &Row<'_>) {
        let value = row.get(Field::ListSource);
        // The usual empty or `own` cell is answered by the first test.
        // The reading thread classified it already (see `Row::list_source`).
        if value.is_empty() || row.list_source() != ListSource::Unknown {
            return;
        }
        self.unknown.add(value, row.line());
    }

    /// One finding per distinct value.
    fn finish(&self, list: &List<'_>, _: &AfterLastRow, out: &mut Vec<Finding>) {
        let header = list.columns.header_of(Field::ListSource).unwrap_or("list_source");
        out.extend(self.unknown.findings(
            RuleId::UnknownListSource,
            list.file,
            header,
            |header, value, rows, line| {
                format!(
                    "`{header}` value `{value}` ({rows}, first on line {line}) is neither own \
                     nor purchased, so these rows are judged as purchased: only recorded \
                     consent lets them be mailed, never soft opt-in; write `own` (or \
                     `own:<where>`) for your own customers and sign-ups, or \
                     `purchased:<supplier>`"
                )
            },
            |header, others| {
                format!(
                    "{others} more rows hold other `{header}` values that are neither own nor \
                     purchased (judged as purchased)"
                )
            },
        ));
    }
}
