//! Where an address came from (SPEC §1.2 "List source values"): the
//! sender's own list, a bought or rented one, or something mailgate does
//! not know — which is judged as bought, since soft opt-in may never rest
//! on an address of unknown origin. The words are data
//! (`list_source.toml`), read once.

use std::sync::LazyLock;

use serde::Deserialize;

/// What a `list_source` value says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListSource {
    /// Empty, `own`, `eigen`, `own:…`, `eigen:…`.
    Own,
    /// A value whose first word is a purchase word (`purchased:LeadsNL`,
    /// `ingekocht bij LeadsNL`, `purchased list`).
    Purchased,
    /// Anything else: judged as purchased, and reported by
    /// `unknown-list-source`.
    Unknown,
}

impl ListSource {
    /// Whether the judgement treats the address as bought (soft opt-in
    /// never covers it).
    pub fn judged_as_purchased(self) -> bool {
        self != ListSource::Own
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Words {
    own: Vec<String>,
    purchased: Vec<String>,
}

static WORDS: LazyLock<Words> = LazyLock::new(|| {
    // The file is part of the binary and checked by a test.
    toml::from_str(include_str!("list_source.toml"))
        .unwrap_or_else(|e| panic!("src/recipients/list_source.toml: {e}"))
});

/// Classifies a `list_source` value (trimmed or not).
pub fn classify(value: &str) -> ListSource {
    let value = super::trim(value);
    if value.is_empty() {
        return ListSource::Own;
    }
    let end = value
        .bytes()
        .position(|b| !b.is_ascii_alphanumeric())
        .unwrap_or(value.len());
    let (word, rest) = value.split_at(end);
    let is = |words: &[String]| words.iter().any(|w| w.eq_ignore_ascii_case(word));
    // Own first: the usual non-empty value (`own`), two words to compare.
    let rest = super::trim(rest);
    if (rest.is_empty() || rest.starts_with(':')) && is(&WORDS.own) {
        return ListSource::Own;
    }
    if is(&WORDS.purchased) {
        return ListSource::Purchased;
    }
    ListSource::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_file_reads() {
        assert!(WORDS.own.iter().any(|w| w == "own"));
        assert!(WORDS.purchased.iter().any(|w| w == "ingekocht"));
        for word in WORDS.own.iter().chain(&WORDS.purchased) {
            assert!(
                !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase()),
                "`{word}`: one lower-case ASCII word, as the first word is compared"
            );
        }
    }

    #[test]
    fn own_values() {
        for value in [
            "",
            " ",
            "own",
            "OWN",
            " Own ",
            "eigen",
            "Eigen",
            "own:webshop",
            "eigen: beurs 2026",
            "own : x",
            "own:",
        ] {
            assert_eq!(classify(value), ListSource::Own, "{value:?}");
        }
    }

    #[test]
    fn purchased_values() {
        for value in [
            "purchased",
            "Purchased",
            "purchased:LeadsNL",
            "purchased list",
            "Purchased List",
            "purchase",
            "bought",
            "rented",
            "rental: AdresBank",
            "Gekocht",
            "gekocht:LeadsNL",
            "ingekocht bij LeadsNL",
            "Ingekocht bij LeadsNL",
            "gehuurd",
            "huur (adressenbestand)",
            "leads",
            "Lead",
            "leads-nl",
            " purchased ",
            "PURCHASED:LeadsDirect",
        ] {
            assert_eq!(classify(value), ListSource::Purchased, "{value:?}");
        }
    }

    #[test]
    fn anything_else_is_unknown_and_judged_as_purchased() {
        for value in [
            "beurs 2026",
            "webshop",
            "own list",
            "eigen klanten",
            "ownership",
            "purchasedx",
            "boughtx:y",
            ":purchased",
            "klant",
            "?",
            "Zoë's lijst",
            "nieuwsbrief-formulier",
        ] {
            let source = classify(value);
            assert_eq!(source, ListSource::Unknown, "{value:?}");
            assert!(source.judged_as_purchased());
        }
        assert!(!ListSource::Own.judged_as_purchased());
        assert!(ListSource::Purchased.judged_as_purchased());
    }
}
