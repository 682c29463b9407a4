//! List-wide rules: `unused-column`, `special-category-data`, `national-id`
//! (`non-utf8` is reported by the lint from the reader).
//!
//! Column names are checked once, at the header; values are sampled from the
//! first [`SAMPLE_ROWS`] rows so the check costs nothing on a long list.

// The rule files of this scope (src/rules/list/), found by build.rs.
include!(concat!(env!("OUT_DIR"), "/rules/list.rs"));

use crate::diagnostic::Finding;
use std::collections::BTreeSet;

use crate::recipients::{Column, ColumnMap, Field, ListSource, Row};
use crate::rules::RuleId;

/// Distinct values of one column with their counts and first lines, for
/// the rules that name each odd value once (`unknown-customer-value`,
/// `unknown-list-source`). They look at every row, since each such row
/// changes a verdict; a row costs a comparison with the few values kept.
#[derive(Debug, Default)]
struct DistinctValues {
    /// In the order first seen: the value, its count and its first line.
    kept: Vec<(String, u64, u64)>,
    /// Rows with a value beyond the distinct values kept.
    others: u64,
}

/// Distinct values named one by one.
const DISTINCT_VALUES_KEPT: usize = 50;

impl DistinctValues {
    /// Counts `value` (compared ignoring ASCII case), first seen on `line`.
    fn add(&mut self, value: &str, line: u64) {
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
    fn findings(
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

/// `unknown-customer-value`: every `customer` value that is neither yes
/// nor no, with its count and first line.
#[derive(Debug, Default)]
pub struct CustomerValues {
    unknown: DistinctValues,
}

impl CustomerValues {
    /// Looks at one row's `customer` value.
    pub fn scan(&mut self, row: &Row<'_>) {
        let value = row.get(Field::Customer);
        if value.is_empty() || crate::judge::parse_yes_no(value).is_some() {
            return;
        }
        self.unknown.add(value, row.line());
    }

    /// The findings, after the last row: one per distinct value.
    pub fn finish(&self, file: &str, header: &str) -> Vec<Finding> {
        self.unknown.findings(
            RuleId::UnknownCustomerValue,
            file,
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
        )
    }
}

/// `unknown-list-source`: every `list_source` value that is neither own
/// nor purchased (SPEC §1.2), with its count and first line. The judge
/// treats such rows as purchased.
#[derive(Debug, Default)]
pub struct ListSourceValues {
    unknown: DistinctValues,
}

impl ListSourceValues {
    /// Looks at one row's `list_source` value.
    pub fn scan(&mut self, row: &Row<'_>) {
        let value = row.get(Field::ListSource);
        // The usual empty or `own` cell is answered by the first test.
        if value.is_empty()
            || crate::recipients::list_source::classify(value) != ListSource::Unknown
        {
            return;
        }
        self.unknown.add(value, row.line());
    }

    /// The findings, after the last row: one per distinct value.
    pub fn finish(&self, file: &str, header: &str) -> Vec<Finding> {
        self.unknown.findings(
            RuleId::UnknownListSource,
            file,
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
        )
    }
}

/// The fewest non-empty values, all passing the eleven-test, that make a
/// column `national-id` by its values.
const NATIONAL_ID_MIN_VALUES: u64 = 6;

/// Rows whose values are looked at for list-wide rules.
pub const SAMPLE_ROWS: u64 = 10_000;

/// Word stems in a column name that indicate GDPR art. 9 data (nl, en),
/// distinctive enough to be looked for anywhere in the header, so that Dutch
/// compounds (`Voedselallergie`, `Gezondheidsklachten`) are found too.
const SPECIAL_NAME_STEMS: &[&str] = &[
    "medic",
    "diagnos",
    "allerg",
    "disabilit",
    "handicap",
    "religi",
    "geloof",
    "ethnic",
    "etnic",
    "etnisch",
    "vakbond",
    "sexual",
    "seksu",
    "geaardheid",
    "biometri",
    "genetic",
    "genetisch",
    "gezondheid",
    "ziekte",
    "illness",
    "politic",
    "politiek",
    "zwanger",
    "pregnan",
];

/// Short words that indicate GDPR art. 9 data only as a word of their own:
/// `Health`, `health_status` and `HealthCare` are, but `Healthy snacks`,
/// `bracelet`, `racefiets` and `reunion` are not.
const SPECIAL_NAME_WORDS: &[&str] = &[
    "health",
    "healthcare",
    "race",
    "union",
    "unions",
    "faith",
    "orientation",
];

/// Whole words in a value that indicate GDPR art. 9 data (nl, en).
const SPECIAL_VALUE_WORDS: &[&str] = &[
    "diagnose",
    "diagnosis",
    "diabetes",
    "astma",
    "asthma",
    "allergie",
    "allergy",
    "kanker",
    "cancer",
    "depressie",
    "depression",
    "hiv",
    "zwanger",
    "pregnant",
    "medicatie",
    "medication",
    "medisch",
    "medical",
    "gezondheid",
    "health",
    "epilepsie",
    "epilepsy",
    "religie",
    "religion",
    "geloof",
    "katholiek",
    "catholic",
    "protestant",
    "moslim",
    "muslim",
    "islamitisch",
    "islamic",
    "joods",
    "jewish",
    "hindoe",
    "hindu",
    "boeddhist",
    "buddhist",
    "etniciteit",
    "ethnicity",
    "vakbond",
    "vakbondslid",
    "fnv",
    "cnv",
    "homoseksueel",
    "homosexual",
    "lesbisch",
    "lesbian",
    "biseksueel",
    "bisexual",
    "transgender",
];

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

/// The special-category word or stem a column name contains, if any.
fn special_name(header: &str) -> Option<&'static str> {
    let name = normalise_header(header);
    SPECIAL_NAME_STEMS
        .iter()
        .find(|stem| name.contains(*stem))
        .or_else(|| {
            header_words(header).find_map(|word| SPECIAL_NAME_WORDS.iter().find(|w| **w == word))
        })
        .copied()
}

/// Whether a column name says it holds national identification numbers.
fn national_id_name(header: &str) -> bool {
    NATIONAL_ID_NAMES.contains(&normalise_header(header).as_str())
}

/// The words of a header, lower case: split at anything that is not a
/// letter or digit and where a lower-case letter meets an upper-case one
/// (`HealthStatus` → `health`, `status`).
fn header_words(header: &str) -> impl Iterator<Item = String> + '_ {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in header.chars() {
        let boundary = !c.is_alphanumeric() || (previous_lower && c.is_uppercase());
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            crate::normalise::push_folded(c, &mut word);
        }
        previous_lower = c.is_lowercase();
    }
    if !word.is_empty() {
        words.push(word);
    }
    words.into_iter()
}

fn normalise_header(header: &str) -> String {
    crate::normalise::header_letters(header)
}

/// Headers that a preset reads although they map to no logical field.
const PRESET_USED: &[&str] = &["optinip", "confirmip", "cleantime", "attributes", "status"];

/// Whether a rule consults `column` or a template uses its variable (under
/// either name). `used_by_templates` is `None` when that is not known (a
/// template did not compile): then every column counts as used.
pub fn column_is_used(column: &Column, used_by_templates: Option<&BTreeSet<String>>) -> bool {
    let used_by_rules = matches!(
        column.field,
        Some(f) if !matches!(f, Field::FirstName | Field::LastName | Field::Name)
    ) || PRESET_USED.contains(&normalise_header(&column.header).as_str());
    used_by_rules
        || used_by_templates.is_none_or(|used| {
            used.contains(&column.var)
                || column.header_var.as_ref().is_some_and(|v| used.contains(v))
        })
}

/// The rules that need only the header. `used_by_templates` is `None` when
/// it is not known (a template did not compile): then no column is called
/// unused, rather than every column that only the broken template uses.
pub fn check_header(
    columns: &ColumnMap,
    used_by_templates: Option<&BTreeSet<String>>,
    file: &str,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    // An export's own bookkeeping columns left unused: one finding for all.
    let mut bookkeeping: Vec<&Column> = Vec::new();
    for column in &columns.columns {
        let locate = |f: Finding| f.file(file).line(1).at(column.place).field(&column.header);
        if national_id_name(&column.header) {
            findings.push(locate(Finding::new(
                RuleId::NationalId,
                format!(
                    "column `{}` holds national identification numbers, which a mailing \
                     never needs; remove the column",
                    column.header
                ),
            )));
        }
        if let Some(stem) = special_name(&column.header) {
            findings.push(locate(Finding::new(
                RuleId::SpecialCategoryData,
                format!(
                    "column `{}` looks like special-category data (\"{stem}\"), which a \
                     mailing never needs; remove the column",
                    column.header
                ),
            )));
        }
        let used = column_is_used(column, used_by_templates);
        if !used && columns.is_bookkeeping(column) {
            bookkeeping.push(column);
        } else if !used {
            // A header that looks like a logical field no column holds is
            // likely meant to be it: say how to map it.
            let hint = crate::recipients::likely_field(&column.header)
                .filter(|&f| column.field.is_none() && !columns.has(f))
                .map(|f| {
                    format!(
                        "; if it holds {f}, map it in the campaign file: [columns] {f} = \"{}\"",
                        column.header
                    )
                })
                .unwrap_or_default();
            findings.push(locate(Finding::new(
                RuleId::UnusedColumn,
                format!(
                    "column `{}` is used by no template and no rule; leave it out of the \
                     export (data minimisation){hint}",
                    column.header
                ),
            )));
        }
    }
    if let Some(first) = bookkeeping.first() {
        let names: Vec<String> = bookkeeping
            .iter()
            .map(|c| format!("`{}`", c.header))
            .collect();
        findings.push(
            Finding::new(
                RuleId::UnusedColumn,
                format!(
                    "{} of Mailchimp's bookkeeping columns ({}) are used by no template and \
                     no rule; export the audience without them, or delete them before the \
                     list is shared (data minimisation)",
                    names.len(),
                    names.join(", ")
                ),
            )
            .file(file)
            .line(1)
            .at(first.place)
            .field(&first.header),
        );
    }
    findings
}

#[derive(Default, Clone)]
struct ColumnStats {
    /// The column's name already says it holds national IDs or special
    /// categories (reported from the header): its values are not reported
    /// again.
    named_national_id: bool,
    named_special: bool,
    /// An export's bookkeeping column (Mailchimp's `LEID`, `EUID`, …):
    /// its ids are never national ids.
    bookkeeping: bool,
    non_empty: u64,
    bsn_like: u64,
    first_bsn_line: Option<u64>,
    special: Option<(u64, &'static str)>,
}

/// Samples values for `special-category-data` and `national-id`.
pub struct ValueScan {
    headers: Vec<String>,
    /// Columns whose values are looked at (not the logical fields that hold
    /// addresses, dates and product names).
    scanned: Vec<usize>,
    stats: Vec<ColumnStats>,
    rows: u64,
}

impl ValueScan {
    pub fn new(columns: &ColumnMap) -> Self {
        let scanned = columns
            .columns
            .iter()
            .filter(|c| {
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
            .map(|c| c.index)
            .collect();
        let stats = columns
            .columns
            .iter()
            .map(|c| ColumnStats {
                named_national_id: national_id_name(&c.header),
                named_special: special_name(&c.header).is_some(),
                bookkeeping: columns.is_bookkeeping(c),
                ..ColumnStats::default()
            })
            .collect();
        ValueScan {
            headers: columns.columns.iter().map(|c| c.header.clone()).collect(),
            scanned,
            stats,
            rows: 0,
        }
    }

    /// Looks at one row (only the first [`SAMPLE_ROWS`] are sampled).
    pub fn scan(&mut self, row: &Row<'_>) {
        self.rows += 1;
        if self.rows > SAMPLE_ROWS {
            return;
        }
        for &index in &self.scanned {
            let value = row.value(index).trim();
            if value.is_empty() {
                continue;
            }
            let stats = &mut self.stats[index];
            stats.non_empty += 1;
            if passes_eleven_test(value) {
                stats.bsn_like += 1;
                stats.first_bsn_line.get_or_insert(row.line());
            }
            if stats.special.is_none()
                && let Some(word) = special_word(value)
            {
                stats.special = Some((row.line(), word));
            }
        }
    }

    /// The findings, after the last row.
    pub fn finish(&self, file: &str) -> Vec<Finding> {
        let mut findings = Vec::new();
        for (index, stats) in self.stats.iter().enumerate() {
            let header = &self.headers[index];
            // Every value, and enough of them: a random 9-digit id passes
            // with p ≈ 1/11, so six that all pass are a false alarm below
            // one in a million (SPEC §3), where "most of a few" is not.
            if !stats.named_national_id
                && !stats.bookkeeping
                && stats.non_empty >= NATIONAL_ID_MIN_VALUES
                && stats.bsn_like == stats.non_empty
            {
                findings.push(
                    Finding::new(
                        RuleId::NationalId,
                        format!(
                            "column `{header}` holds 9-digit numbers that pass the BSN \
                             eleven-test ({} of {} values): citizen service numbers may \
                             not be used for a mailing (UAVG art. 46); remove the column",
                            stats.bsn_like, stats.non_empty
                        ),
                    )
                    .file(file)
                    .line(stats.first_bsn_line)
                    .field(header),
                );
            }
            if let Some((line, word)) = stats.special.filter(|_| !stats.named_special) {
                findings.push(
                    Finding::new(
                        RuleId::SpecialCategoryData,
                        format!(
                            "column `{header}` holds special-category data (\"{word}\"); \
                             remove it from the mailing list"
                        ),
                    )
                    .file(file)
                    .line(line)
                    .field(header),
                );
            }
        }
        findings
    }
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

fn special_word(value: &str) -> Option<&'static str> {
    let lower = value.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .find_map(|word| SPECIAL_VALUE_WORDS.iter().find(|w| **w == word).copied())
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

    #[test]
    fn special_column_names() {
        for header in [
            "Allergie",
            "Voedselallergie",
            "Geloof",
            "Religion",
            "Gezondheidsklachten",
            "Health",
            "health_status",
            "HealthStatus",
            "Race",
            "Vakbondslid",
            "Etnische afkomst",
            "Seksuele geaardheid",
        ] {
            assert!(special_name(header).is_some(), "{header}");
        }
        for header in [
            "Interesse healthy snacks",
            "HealthySnacks",
            "racefiets",
            "Bracelet size",
            "reunion",
            "Voornaam",
        ] {
            assert_eq!(special_name(header), None, "{header}");
        }
    }

    #[test]
    fn special_words_are_whole_words() {
        assert_eq!(special_word("Allergie: noten"), Some("allergie"));
        assert_eq!(special_word("lid FNV"), Some("fnv"));
        assert_eq!(special_word("healthy snacks fan"), None);
        assert_eq!(special_word("Christmas"), None);
    }
}
