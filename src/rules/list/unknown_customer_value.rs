//! `unknown-customer-value`: a `customer` value that is not yes/no (such rows are judged as non-customers).
//!
//! Decided over every row (each such row is judged a non-customer, so each
//! changes a verdict): every distinct value is named once, with its count
//! and first line.

use crate::diagnostic::Finding;
use crate::recipients::{Field, Row};
use crate::rules::RuleId;
use crate::rules::list::{AfterLastRow, DistinctValues, List, Rows, Scan};

crate::declare_rule! {
    name: "unknown-customer-value",
    scope: list,
    default: warning,
    order: 60,
    summary: "a `customer` value that is not yes/no (such rows are judged as non-customers)",
    explain: "unknown_customer_value.md",
}

/// Tallies the odd values over every row.
pub fn check(_: &List<'_>, _: &mut Vec<Finding>) -> Option<Box<dyn Scan>> {
    Some(Box::new(CustomerValues::default()))
}

/// Every `customer` value that is neither yes nor no, with its count and
/// first line.
#[derive(Debug, Default)]
struct CustomerValues {
    unknown: DistinctValues,
}

impl Scan for CustomerValues {
    fn rows(&self) -> Rows {
        Rows::Every
    }

    fn row(&mut self, row: &Row<'_>) {
        let value = row.get(Field::Customer);
        if value.is_empty() || crate::recipients::yes_no::parse_yes_no(value).is_some() {
            return;
        }
        self.unknown.add(value, row.line());
    }

    /// One finding per distinct value.
    fn finish(&self, list: &List<'_>, _: &AfterLastRow, out: &mut Vec<Finding>) {
        let header = list.columns.header_of(Field::Customer).unwrap_or("customer");
        out.extend(self.unknown.findings(
            RuleId::UnknownCustomerValue,
            list.file,
            header,
            |header, value, rows, _| {
                format!(
                    "`{header}` value `{value}` ({rows}) is neither yes nor no, so these rows \
                     are judged as non-customers (no soft opt-in); write yes or no, or leave \
                     the cell empty"
                )
            },
            |header, others| {
                format!(
                    "{others} more rows hold other `{header}` values that are neither yes nor no"
                )
            },
        ));
    }
}
