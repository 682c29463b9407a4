//! `non-utf8`: the CSV is not UTF-8 and was read as Windows-1252.
//!
//! Decided by the CSV reader, which decodes a line that is not UTF-8 as
//! Windows-1252 and remembers the first such line
//! ([`crate::recipients::RecipientReader::first_non_utf8_line`]); reported
//! from here once the last row is read.

use crate::diagnostic::Finding;
use crate::recipients::Row;
use crate::rules::RuleId;
use crate::rules::list::{AfterLastRow, List, Rows, Scan};

crate::declare_rule! {
    name: "non-utf8",
    scope: list,
    default: warning,
    order: 50,
    summary: "the CSV is not UTF-8 and was read as Windows-1252",
    explain: "non_utf8.md",
}

/// Waits for the last row: only then has the reader seen every line.
pub fn check(_: &List<'_>, _: &mut Vec<Finding>) -> Option<Box<dyn Scan>> {
    Some(Box::new(NonUtf8))
}

struct NonUtf8;

impl Scan for NonUtf8 {
    fn rows(&self) -> Rows {
        Rows::None
    }

    fn row(&mut self, _: &Row<'_>) {}

    /// The list was read as Windows-1252 from its first such line on.
    fn finish(&self, list: &List<'_>, end: &AfterLastRow, out: &mut Vec<Finding>) {
        if let Some(line) = end.first_non_utf8_line {
            out.push(
                Finding::new(
                    RuleId::NonUtf8,
                    "the file is not UTF-8 and was read as Windows-1252; save it as UTF-8 \
                     (in Excel: \"CSV UTF-8\") to be sure names come out right",
                )
                .file(list.file)
                .line(line),
            );
        }
    }
}
