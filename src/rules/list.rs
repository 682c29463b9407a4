//! List-wide rules (SPEC §3): each a file of `src/rules/list/` whose
//! `pub fn check` (of the [`Check`] signature) looks at the list's header
//! once and may return a [`Scan`] that follows the rows it asks for
//! ([`Rows`]) and gives its findings after the last row. [`ListChecks`]
//! runs them all, in the registry's order: one pass, shared with the
//! judgement.
//!
//! What several list rules share lives here: [`DistinctValues`] (each odd
//! value named once, with its count and first line), the columns whose
//! values are sampled ([`value_columns`]) and how many rows are
//! ([`SAMPLE_ROWS`]). Two list rules are decided by a reader and only
//! reported from it: `non-utf8` (the CSV reader) and
//! `unreadable-suppression-line` (the suppression reader).

use std::collections::BTreeSet;

use crate::diagnostic::Finding;
use crate::recipients::{Column, ColumnMap, Field, Row};
use crate::rules::RuleId;

/// The list as a check sees it before the first row.
pub struct List<'a> {
    pub columns: &'a ColumnMap,
    /// The variables the templates (and the unsubscribe URL) use; `None`
    /// when that is not known (a template did not compile).
    pub used_by_templates: Option<&'a BTreeSet<String>>,
    /// The list's file as messages name it.
    pub file: &'a str,
}

impl List<'_> {
    /// `finding` located at `column`'s cell in the header (line 1 when the
    /// reader did not record where the cell was).
    pub fn at_header(&self, column: &Column, finding: Finding) -> Finding {
        finding
            .file(self.file)
            .line(1)
            .at(column.place)
            .field(&column.header)
    }
}

/// What is known only after the last row.
#[derive(Clone, Copy, Debug, Default)]
pub struct AfterLastRow {
    /// The first line the reader decoded as Windows-1252 (the list is not
    /// UTF-8 from there on).
    pub first_non_utf8_line: Option<u64>,
}

/// Which rows a [`Scan`] looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rows {
    /// None: it only finishes.
    None,
    /// The first [`SAMPLE_ROWS`]: values that show what a column holds.
    Sample,
    /// Every row: a tally whose every row may change a verdict.
    Every,
}

/// What a list check keeps while the rows go by.
pub trait Scan {
    /// The rows it is given.
    fn rows(&self) -> Rows;
    /// Looks at one row.
    fn row(&mut self, row: &Row<'_>);
    /// Its findings, after the last row.
    fn finish(&self, list: &List<'_>, end: &AfterLastRow, out: &mut Vec<Finding>);
}

/// The check of a list rule: looks at the header (its findings go to
/// `out` at once) and returns what follows the rows, if anything does.
pub type Check = fn(&List<'_>, &mut Vec<Finding>) -> Option<Box<dyn Scan>>;

// The rule files of this scope (src/rules/list/) and `CHECKS`, the checks
// among them, found by build.rs.
include!(concat!(env!("OUT_DIR"), "/rules/list.rs"));

/// Rows whose values are looked at for list-wide rules that sample.
pub const SAMPLE_ROWS: u64 = 10_000;

/// Every list check of one run: started at the header, given the rows each
/// asks for, finished after the last row. It also keeps which columns a
/// `special-category-data` or `national-id` finding named: those never go
/// into the cleaned list, whatever the rule's level.
pub struct ListChecks {
    every_row: Vec<Box<dyn Scan>>,
    sampled: Vec<Box<dyn Scan>>,
    at_end: Vec<Box<dyn Scan>>,
    /// Rows still to give the sampling scans.
    sample_left: u64,
    sensitive: Vec<String>,
}

impl ListChecks {
    /// Runs every list check on the header; returns them and the header's
    /// findings.
    pub fn start(list: &List<'_>) -> (Self, Vec<Finding>) {
        let mut checks = ListChecks {
            every_row: Vec::new(),
            sampled: Vec::new(),
            at_end: Vec::new(),
            sample_left: SAMPLE_ROWS,
            sensitive: Vec::new(),
        };
        let mut findings = Vec::new();
        for check in CHECKS {
            if let Some(scan) = check(list, &mut findings) {
                match scan.rows() {
                    Rows::Every => checks.every_row.push(scan),
                    Rows::Sample => checks.sampled.push(scan),
                    Rows::None => checks.at_end.push(scan),
                }
            }
        }
        checks.note_sensitive(&findings);
        (checks, findings)
    }

    /// Gives one row to the scans that want it: once past the sample, only
    /// the tallies over every row cost anything per row.
    #[inline]
    pub fn row(&mut self, row: &Row<'_>) {
        for scan in &mut self.every_row {
            scan.row(row);
        }
        if self.sample_left > 0 {
            self.sample_left -= 1;
            for scan in &mut self.sampled {
                scan.row(row);
            }
        }
    }

    /// The findings known after the last row, in the registry's order.
    pub fn finish(&mut self, list: &List<'_>, end: &AfterLastRow) -> Vec<Finding> {
        let mut scans: Vec<&dyn Scan> = Vec::new();
        scans.extend(self.every_row.iter().map(|s| s.as_ref()));
        scans.extend(self.sampled.iter().map(|s| s.as_ref()));
        scans.extend(self.at_end.iter().map(|s| s.as_ref()));
        let mut findings = Vec::new();
        for scan in scans {
            scan.finish(list, end, &mut findings);
        }
        findings.sort_by_key(|f| f.rule);
        self.note_sensitive(&findings);
        findings
    }

    /// The columns of the cleaned list (`--sendable-out`), by index: those
    /// a template or a rule uses (data minimisation), never one that holds
    /// special-category data or national ids.
    pub fn kept_columns(&self, list: &List<'_>) -> Vec<usize> {
        list.columns
            .columns
            .iter()
            .filter(|c| unused_column::column_is_used(c, list.used_by_templates))
            .filter(|c| !self.sensitive.contains(&c.header))
            .map(|c| c.index)
            .collect()
    }

    /// Keeps the columns that `special-category-data` and `national-id`
    /// findings name.
    fn note_sensitive(&mut self, findings: &[Finding]) {
        for finding in findings {
            if matches!(
                finding.rule,
                RuleId::SpecialCategoryData | RuleId::NationalId
            ) && let Some(header) = &finding.field
            {
                self.sensitive.push(header.clone());
            }
        }
    }
}

/// The columns whose values the sampling rules look at: every column but
/// those of the logical fields that hold addresses, dates and yes/no.
pub fn value_columns(columns: &ColumnMap) -> impl Iterator<Item = &Column> {
    columns.columns.iter().filter(|c| {
        !matches!(
            c.field,
            Some(
                Field::Email
                    | Field::ConsentAt
                    | Field::LastPurchaseAt
                    | Field::UnsubscribedAt
                    | Field::Customer
            )
        )
    })
}

/// Distinct values of one column with their counts and first lines, for
/// the rules that name each odd value once (`unknown-customer-value`,
/// `unknown-list-source`). They look at every row, since each such row
/// changes a verdict; a row with an odd value costs a comparison with the
/// few values kept.
#[derive(Debug, Default)]
pub struct DistinctValues {
    /// In the order first seen: the value, its count and its first line.
    kept: Vec<(String, u64, u64)>,
    /// Rows with a value beyond the distinct values kept.
    others: u64,
}

/// Distinct values named one by one.
const DISTINCT_VALUES_KEPT: usize = 50;

impl DistinctValues {
    /// Counts `value` (compared ignoring ASCII case), first seen on `line`.
    pub fn add(&mut self, value: &str, line: u64) {
        let value = crate::recipients::trim(value);
        if let Some(entry) = self
            .kept
            .iter_mut()
            .find(|(v, ..)| v.eq_ignore_ascii_case(value))
        {
            entry.1 += 1;
        } else if self.kept.len() < DISTINCT_VALUES_KEPT {
            self.kept.push((value.to_owned(), 1, line));
        } else {
            self.others += 1;
        }
    }

    /// One finding of `rule` per value kept, worded by `each(header, value,
    /// rows, line)`, and one for the rows beyond them, worded by
    /// `rest(header, rows)`.
    pub fn findings(
        &self,
        rule: RuleId,
        file: &str,
        header: &str,
        each: impl Fn(&str, &str, &str, u64) -> String,
        rest: impl Fn(&str, u64) -> String,
    ) -> Vec<Finding> {
        let mut findings: Vec<Finding> = self
            .kept
            .iter()
            .map(|(value, count, line)| {
                Finding::new(rule, each(header, value, &rows(*count), *line))
                    .file(file)
                    .line(*line)
                    .field(header)
            })
            .collect();
        if self.others > 0 {
            findings.push(
                Finding::new(rule, rest(header, self.others))
                    .file(file)
                    .field(header),
            );
        }
        findings
    }
}

/// "1 row" or "N rows".
fn rows(count: u64) -> String {
    format!("{count} row{}", if count == 1 { "" } else { "s" })
}
