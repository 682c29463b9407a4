//! Dates as recipient CSVs write them (SPEC §1.2).

use jiff::civil::Date;

/// Parses an ISO 8601 date or date-time (with or without offset), a
/// Mailchimp `YYYY-MM-DD HH:MM:SS`, or a Dutch `DD-MM-YYYY`, to its calendar
/// date. Impossible dates (`2026-02-30`) do not parse.
pub fn parse_date(text: &str) -> Option<Date> {
    let _ = text;
    todo!()
}
