//! `special-category-data`: a column holds GDPR art. 9 special-category data (health, religion, ...).
//!
//! Decided by the column's name (at the header) and by its values: a whole
//! word such as `diabetes` or `katholiek` in one of the first
//! [`SAMPLE_ROWS`](super::SAMPLE_ROWS) rows.

use crate::diagnostic::Finding;
use crate::recipients::Row;
use crate::rules::RuleId;
use crate::rules::list::{AfterLastRow, List, Rows, Scan, value_columns};

crate::declare_rule! {
    name: "special-category-data",
    scope: list,
    default: error,
    order: 10,
    summary: "a column holds GDPR art. 9 special-category data (health, religion, ...)",
    explain: "special_category_data.md",
}

/// Reports the columns named like special-category data, and samples the
/// values of the others.
pub fn check(list: &List<'_>, out: &mut Vec<Finding>) -> Option<Box<dyn Scan>> {
    let mut named = Vec::new();
    for column in &list.columns.columns {
        if let Some(stem) = special_name(&column.header) {
            named.push(column.index);
            out.push(list.at_header(
                column,
                Finding::new(
                    RuleId::SpecialCategoryData,
                    format!(
                        "column `{}` looks like special-category data (\"{stem}\"), which a \
                         mailing never needs; remove the column",
                        column.header
                    ),
                ),
            ));
        }
    }
    // A column named so is reported once, from its name.
    let columns: Vec<usize> = value_columns(list.columns)
        .map(|c| c.index)
        .filter(|i| !named.contains(i))
        .collect();
    let found = vec![None; list.columns.columns.len()];
    Some(Box::new(SpecialValues { columns, found }))
}

/// The first special-category word seen in each sampled column.
struct SpecialValues {
    /// The columns sampled, by index.
    columns: Vec<usize>,
    /// By column index: the line and the word first seen.
    found: Vec<Option<(u64, &'static str)>>,
}

impl Scan for SpecialValues {
    fn rows(&self) -> Rows {
        Rows::Sample
    }

    fn row(&mut self, row: &Row<'_>) {
        for &index in &self.columns {
            if self.found[index].is_some() {
                continue;
            }
            let value = row.value(index).trim();
            if let Some(word) = (!value.is_empty()).then(|| special_word(value)).flatten() {
                self.found[index] = Some((row.line(), word));
            }
        }
    }

    fn finish(&self, list: &List<'_>, _: &AfterLastRow, out: &mut Vec<Finding>) {
        for (index, found) in self.found.iter().enumerate() {
            let Some((line, word)) = *found else { continue };
            let header = &list.columns.columns[index].header;
            out.push(
                Finding::new(
                    RuleId::SpecialCategoryData,
                    format!(
                        "column `{header}` holds special-category data (\"{word}\"); \
                         remove it from the mailing list"
                    ),
                )
                .file(list.file)
                .line(line)
                .field(header),
            );
        }
    }
}

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

/// The special-category word or stem a column name contains, if any.
fn special_name(header: &str) -> Option<&'static str> {
    let name = crate::normalise::header_letters(header);
    SPECIAL_NAME_STEMS
        .iter()
        .find(|stem| name.contains(*stem))
        .or_else(|| {
            header_words(header).find_map(|word| SPECIAL_NAME_WORDS.iter().find(|w| **w == word))
        })
        .copied()
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
