//! `national-id`: a column holds national identification numbers (BSN, SSN).
//!
//! Decided by the column's name (at the header) and by its values: every
//! non-empty value of the first [`SAMPLE_ROWS`](super::SAMPLE_ROWS) rows,
//! at least six of them, passes the BSN eleven-test.

use crate::diagnostic::Finding;
use crate::recipients::Row;
use crate::rules::RuleId;
use crate::rules::list::{AfterLastRow, List, Rows, Scan, value_columns};

crate::declare_rule! {
    name: "national-id",
    scope: list,
    default: error,
    order: 20,
    summary: "a column holds national identification numbers (BSN, SSN)",
    explain: "national_id.md",
}

/// Reports the columns named like national ids, and samples the values of
/// the others.
pub fn check(list: &List<'_>, out: &mut Vec<Finding>) -> Option<Box<dyn Scan>> {
    let mut named = Vec::new();
    for column in &list.columns.columns {
        if national_id_name(&column.header) {
            named.push(column.index);
            out.push(list.at_header(
                column,
                Finding::new(
                    RuleId::NationalId,
                    format!(
                        "column `{}` holds national identification numbers, which a mailing \
                         never needs; remove the column",
                        column.header
                    ),
                ),
            ));
        }
    }
    let columns: Vec<NumberColumn> = value_columns(list.columns)
        // A column named so is reported once, from its name; an export's
        // bookkeeping column (Mailchimp's `LEID`, `EUID`, …) holds its own
        // ids, never national ids.
        .filter(|c| !named.contains(&c.index) && !list.columns.is_bookkeeping(c))
        .map(|c| NumberColumn {
            index: c.index,
            non_empty: 0,
            passing: 0,
            first_line: None,
        })
        .collect();
    Some(Box::new(NationalIdValues { columns }))
}

/// One sampled column's values.
struct NumberColumn {
    index: usize,
    non_empty: u64,
    /// Values that pass the eleven-test.
    passing: u64,
    /// The line of the first value that passes.
    first_line: Option<u64>,
}

/// Counts, per sampled column, the values that pass the eleven-test.
struct NationalIdValues {
    columns: Vec<NumberColumn>,
}

impl Scan for NationalIdValues {
    fn rows(&self) -> Rows {
        Rows::Sample
    }

    fn row(&mut self, row: &Row<'_>) {
        for column in &mut self.columns {
            let value = row.value(column.index).trim();
            if value.is_empty() {
                continue;
            }
            column.non_empty += 1;
            if passes_eleven_test(value) {
                column.passing += 1;
                column.first_line.get_or_insert(row.line());
            }
        }
    }

    fn finish(&self, list: &List<'_>, _: &AfterLastRow, out: &mut Vec<Finding>) {
        for column in &self.columns {
            // Every value, and enough of them: a random 9-digit id passes
            // with p ≈ 1/11, so six that all pass are a false alarm below
            // one in a million (SPEC §3), where "most of a few" is not.
            if column.non_empty < NATIONAL_ID_MIN_VALUES || column.passing != column.non_empty {
                continue;
            }
            let header = &list.columns.columns[column.index].header;
            out.push(
                Finding::new(
                    RuleId::NationalId,
                    format!(
                        "column `{header}` holds 9-digit numbers that pass the BSN \
                         eleven-test ({} of {} values): citizen service numbers may \
                         not be used for a mailing (UAVG art. 46); remove the column",
                        column.passing, column.non_empty
                    ),
                )
                .file(list.file)
                .line(column.first_line)
                .field(header),
            );
        }
    }
}

/// The fewest non-empty values, all passing the eleven-test, that make a
/// column `national-id` by its values.
const NATIONAL_ID_MIN_VALUES: u64 = 6;

/// Column names that hold national identification numbers.
const NATIONAL_ID_NAMES: &[&str] = &[
    "bsn",
    "burgerservicenummer",
    "sofinummer",
    "sofi",
    "ssn",
    "socialsecuritynumber",
    "nationalid",
    "nationalidnumber",
    "personalidnumber",
];

/// Whether a column name says it holds national identification numbers.
fn national_id_name(header: &str) -> bool {
    NATIONAL_ID_NAMES.contains(&crate::normalise::header_letters(header).as_str())
}

/// The BSN eleven-test: 9 digits d1..d9, 9·d1 + 8·d2 + … + 2·d8 − d9 ≡ 0 (mod 11),
/// and not all zeros. Dots, spaces and dashes between digits are ignored.
pub fn passes_eleven_test(value: &str) -> bool {
    let mut digits = [0u32; 9];
    let mut n = 0;
    for c in value.chars() {
        match c {
            '0'..='9' => {
                if n == 9 {
                    return false;
                }
                digits[n] = c as u32 - '0' as u32;
                n += 1;
            }
            '.' | ' ' | '-' => {}
            _ => return false,
        }
    }
    if n != 9 || digits.iter().all(|&d| d == 0) {
        return false;
    }
    let sum: i64 = digits[..8]
        .iter()
        .zip((2..=9).rev())
        .map(|(&d, w)| i64::from(d) * w)
        .sum::<i64>()
        - i64::from(digits[8]);
    sum % 11 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eleven_test() {
        // 111222333: 9+8+7+12+10+8+9+6 = 69, 69 - 3 = 66 = 6·11.
        assert!(passes_eleven_test("111222333"));
        assert!(passes_eleven_test("123456782"));
        assert!(passes_eleven_test("1234.56.782"));
        assert!(!passes_eleven_test("123456789"));
        assert!(!passes_eleven_test("000000000"));
        assert!(!passes_eleven_test("12345678"));
        assert!(!passes_eleven_test("1234567820"));
        assert!(!passes_eleven_test("06-12345678"));
    }
}
