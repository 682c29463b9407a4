//! Reading the cells the judgement needs: list cells (`purchased`,
//! `consent_scope`), yes/no cells (`customer`), and dates as messages quote
//! them.

use std::fmt::Write as _;

use jiff::ToSpan;
use jiff::civil::Date;

use crate::recipients::trim;

/// `date` as jiff writes it (`2027-03-01`), quicker for the usual year.
#[cfg(test)]
pub(super) fn iso_date(date: Date) -> String {
    let mut text = String::new();
    push_iso_date(&mut text, date);
    text
}

/// Appends `date` as jiff writes it (`2027-03-01`), quicker for the usual
/// year.
#[inline]
pub(super) fn push_iso_date(text: &mut String, date: Date) {
    let year = date.year();
    if !(0..=9999).contains(&year) {
        let _ = write!(text, "{date}");
        return;
    }
    // Every value is non-negative and below 10 000: digits fit a `u8`.
    let digit = |n: i16| char::from(b'0' + (n % 10) as u8);
    let (month, day) = (i16::from(date.month()), i16::from(date.day()));
    for c in [
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        '-',
        digit(month / 10),
        digit(month),
        '-',
        digit(day / 10),
        digit(day),
    ] {
        text.push(c);
    }
}

/// `date` minus `months`, or `None` when that is out of jiff's range.
pub(super) fn months_before(date: Date, months: u32) -> Option<Date> {
    date.checked_sub(i64::from(months).months()).ok()
}

/// Splits a list cell (`purchased`, `consent_scope`) on `|`, `;` and `,`;
/// the items come trimmed, and empty ones are left out.
#[inline]
pub(super) fn list_items(cell: &str) -> ListItems<'_> {
    ListItems { rest: Some(cell) }
}

/// The iterator of [`list_items`]: a plain byte loop, much quicker on a
/// short cell than `str::split` with a pattern of two chars (or a chain of
/// iterator adapters). The separators are ASCII, so the pieces are valid
/// UTF-8.
pub(super) struct ListItems<'c> {
    /// What is left after the last separator; `None` after the last item.
    rest: Option<&'c str>,
}

impl<'c> Iterator for ListItems<'c> {
    type Item = &'c str;

    #[inline]
    fn next(&mut self) -> Option<&'c str> {
        loop {
            let text = self.rest?;
            let item = match text.bytes().position(|b| matches!(b, b'|' | b';' | b',')) {
                Some(at) => {
                    self.rest = Some(&text[at + 1..]);
                    &text[..at]
                }
                None => {
                    self.rest = None;
                    text
                }
            };
            let item = trim(item);
            if !item.is_empty() {
                return Some(item);
            }
        }
    }
}

/// [`Judge::is_customer`] from the row's `customer`, `purchased` and
/// `last_purchase_at`. A `customer` value that is neither yes nor no
/// (`maybe`) shows no purchase: the row is judged as a non-customer, and
/// `unknown-customer-value` says so.
#[inline]
pub(super) fn customer(customer: &str, purchased: &str, last_purchase_at: &str) -> bool {
    match parse_yes_no(customer) {
        Some(said) => said,
        None if trim(customer).is_empty() => !purchased.is_empty() || !last_purchase_at.is_empty(),
        None => false,
    }
}

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
