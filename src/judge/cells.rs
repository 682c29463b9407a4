//! Reading the cells the judgement needs: list cells (`purchased`,
//! `consent_scope`), who is a customer (the yes/no cell itself is read by
//! [`crate::recipients::yes_no`]), and dates as messages quote them.

use std::fmt::Write as _;

use jiff::ToSpan;
use jiff::civil::Date;

use crate::recipients::trim;
use crate::recipients::yes_no::parse_yes_no;

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
