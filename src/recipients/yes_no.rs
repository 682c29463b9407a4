//! Yes/no cells (SPEC §1.2: `customer` is yes/no/true/false/1/0/ja/nee,
//! case-insensitive): read by the judge (who is a customer) and by the
//! `unknown-customer-value` tally (which values are neither).

use super::trim;

/// Interprets a yes/no cell; `None` for empty or unrecognised values.
#[inline]
pub fn parse_yes_no(value: &str) -> Option<bool> {
    // No word is longer than six bytes: the value, lower-cased (ASCII only,
    // as the words are), fits one integer, and one `match` on it decides.
    let value = trim(value).as_bytes();
    if value.len() > 6 {
        return None;
    }
    let lower = value.iter().map(u8::to_ascii_lowercase);
    match packed_word(lower, value.len()) {
        YES_Y | YES_1 | YES_J | YES_JA | YES_YES | YES_TRUE | YES_WAAR => Some(true),
        NO_N | NO_0 | NO_NO | NO_NEE | NO_FALSE | NO_ONWAAR => Some(false),
        _ => None,
    }
}

/// A word of at most six bytes as one integer: its bytes, and its length
/// above them (so that a word with leading zero bytes is not another).
const fn packed(word: &[u8]) -> u64 {
    let mut key = 0;
    let mut i = 0;
    while i < word.len() {
        key = key << 8 | word[i] as u64;
        i += 1;
    }
    key | (word.len() as u64) << 56
}

/// [`packed`] of the bytes `word`, `len` of them.
fn packed_word(word: impl Iterator<Item = u8>, len: usize) -> u64 {
    word.fold(0, |key, b| key << 8 | u64::from(b)) | (len as u64) << 56
}

const YES_Y: u64 = packed(b"y");
const YES_1: u64 = packed(b"1");
const YES_J: u64 = packed(b"j");
const YES_JA: u64 = packed(b"ja");
const YES_YES: u64 = packed(b"yes");
const YES_TRUE: u64 = packed(b"true");
const YES_WAAR: u64 = packed(b"waar");
const NO_N: u64 = packed(b"n");
const NO_0: u64 = packed(b"0");
const NO_NO: u64 = packed(b"no");
const NO_NEE: u64 = packed(b"nee");
const NO_FALSE: u64 = packed(b"false");
const NO_ONWAAR: u64 = packed(b"onwaar");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_no_answers_as_word_lists_do() {
        fn yes_no(value: &str) -> Option<bool> {
            const YES: [&str; 7] = ["yes", "y", "true", "1", "ja", "j", "waar"];
            const NO: [&str; 6] = ["no", "n", "false", "0", "nee", "onwaar"];
            let value = value.trim();
            if YES.iter().any(|w| w.eq_ignore_ascii_case(value)) {
                Some(true)
            } else if NO.iter().any(|w| w.eq_ignore_ascii_case(value)) {
                Some(false)
            } else {
                None
            }
        }
        let words = [
            "",
            " ",
            "yes",
            "YES",
            "Yes ",
            " y",
            "Y",
            "true",
            "TRUE",
            "tru",
            "truee",
            "1",
            "01",
            "ja",
            "Ja",
            "JA",
            "j",
            "waar",
            "WAAR",
            "no",
            "No",
            "n",
            "false",
            "FALSE",
            "0",
            "nee",
            "NEE",
            "onwaar",
            "Onwaar",
            "onwaarr",
            "x",
            "jä",
            "ñ",
            "\u{a0}ja",
            "ja\t",
            "purchased",
            "Purchased",
            "PURCHASED:LeadsDirect",
            " purchased :x",
            "gekocht",
            "Gekocht:",
            "bought",
            "bought:",
            "boughtx",
            "own",
            "eigen",
            "purchase",
            ":purchased",
            "purchased\u{a0}",
            "bought ",
            "  bought",
            "purchasedx:y",
        ];
        for word in words {
            assert_eq!(parse_yes_no(word), yes_no(word), "{word:?}");
        }
    }
}
