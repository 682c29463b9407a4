//! Dates as recipient CSVs write them (SPEC §1.2).

use jiff::civil::{Date, Time};
use jiff::fmt::temporal::Pieces;

/// Parses an ISO 8601 date or date-time (with or without offset), a
/// Mailchimp `YYYY-MM-DD HH:MM:SS`, or a Dutch `DD-MM-YYYY`, to its calendar
/// date. Impossible dates (`2026-02-30`) do not parse.
///
/// - ISO 8601 / RFC 3339 goes through jiff's Temporal parser: `2027-03-01`,
///   `2027-03-01T10:00:00`, with fractional seconds, `Z` or `+01:00`, and a
///   space instead of `T` (Mailchimp). The date is taken as written, not
///   converted to UTC: `2027-03-01T23:30:00-05:00` is 1 March.
/// - Dutch day-first dates accept one or two digits for day and month, as
///   Dutch Excel writes them (`1-3-2027`, `01-03-2027`), optionally followed
///   by a time `H:MM` or `H:MM:SS`. The year must have four digits. Slashes
///   are refused: `01/03/2027` is 3 January to an American export.
///
/// Surrounding whitespace is ignored; anything else around the date fails.
pub fn parse_date(text: &str) -> Option<Date> {
    let text = super::trim(text);
    if text.is_empty() {
        return None;
    }
    if let Some(date) = parse_plain_iso(text)
        .or_else(|| parse_plain_dutch(text))
        .or_else(|| parse_plain_date_time(text))
    {
        return date;
    }
    // Only the Dutch shape has a `-` in second or third place.
    if text.as_bytes().get(1..3).is_some_and(|b| b.contains(&b'-'))
        && let Some(date) = parse_dutch(text)
    {
        return Some(date);
    }
    // Only the ISO shapes start with a four-digit year; this keeps jiff's
    // other Temporal forms (`+002027-…`, bare times) out.
    if !text.as_bytes().get(..4)?.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Pieces::parse(text).ok().map(|pieces| pieces.date())
}

/// The commonest form, `YYYY-MM-DD` and nothing else, without the general
/// parser: `Some(date)` or `Some(None)` (impossible) for that shape, `None`
/// for any other text.
fn parse_plain_iso(text: &str) -> Option<Option<Date>> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0i16, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + i16::from(d - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (month, day) = (i8::try_from(month).ok()?, i8::try_from(day).ok()?);
    Some(Date::new(year, month, day).ok())
}

/// The next commonest forms, `YYYY-MM-DD HH:MM:SS` (Mailchimp) and
/// `YYYY-MM-DDTHH:MM:SS` with or without `Z`, with a time that is plainly
/// valid: answered as jiff would, without it. `None` for anything else
/// (including a time jiff has rules for, such as a leap second).
fn parse_plain_date_time(text: &str) -> Option<Option<Date>> {
    let b = text.as_bytes();
    let zone_ok = match b.len() {
        19 => true,
        20 => b[19] == b'Z',
        _ => false,
    };
    if !zone_ok || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let two = |at: usize, max: u8| {
        let (t, u) = (b[at], b[at + 1]);
        (t.is_ascii_digit() && u.is_ascii_digit() && (t - b'0') * 10 + (u - b'0') <= max)
            .then_some(())
    };
    two(11, 23)?;
    two(14, 59)?;
    two(17, 59)?;
    parse_plain_iso(&text[..10])
}

/// The commonest Dutch form, `D-M-YYYY` to `DD-MM-YYYY` and nothing else,
/// answered as [`parse_dutch`] would (and [`parse_date`] after it), without
/// splitting: `Some(date)` or `Some(None)` (impossible) for that shape,
/// `None` for any other text.
fn parse_plain_dutch(text: &str) -> Option<Option<Date>> {
    let b = text.as_bytes();
    let dash_after = |at: usize| match (b.get(at + 1), b.get(at + 2)) {
        (Some(b'-'), _) => Some(at + 1),
        (_, Some(b'-')) => Some(at + 2),
        _ => None,
    };
    let first = dash_after(0)?;
    let second = dash_after(first + 1)?;
    if b.len() != second + 5 {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0i16, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + i16::from(d - b'0'))
        })
    };
    let (day, month) = (digits(0..first)?, digits(first + 1..second)?);
    let year = digits(second + 1..b.len())?;
    // Day and month have at most two digits: they fit an `i8`.
    let (day, month) = (i8::try_from(day).ok()?, i8::try_from(month).ok()?);
    Some(Date::new(year, month, day).ok())
}

/// `D-M-YYYY` or `DD-MM-YYYY`, optionally followed by ` H:MM[:SS]`.
///
/// Works on the bytes (every character it accepts is ASCII): this runs for
/// a date cell of most rows of a list.
fn parse_dutch(text: &str) -> Option<Date> {
    let (date, time) = match text.bytes().position(|b| b == b' ') {
        Some(space) => (&text[..space], Some(text[space + 1..].trim_start())),
        None => (text, None),
    };
    let (date, time) = (date.as_bytes(), time.map(str::as_bytes));
    let mut parts = date.split(|&b| b == b'-');
    let day = number(parts.next()?, 1..=2)?;
    let month = number(parts.next()?, 1..=2)?;
    let year = number(parts.next()?, 4..=4)?;
    if parts.next().is_some() {
        return None;
    }
    if let Some(time) = time {
        let mut parts = time.split(|&b| b == b':');
        let hour = number(parts.next()?, 1..=2)?;
        let minute = number(parts.next()?, 2..=2)?;
        let second = parts.next().map_or(Some(0), |s| number(s, 2..=2))?;
        if parts.next().is_some() {
            return None;
        }
        Time::new(
            i8::try_from(hour).ok()?,
            i8::try_from(minute).ok()?,
            i8::try_from(second).ok()?,
            0,
        )
        .ok()?;
    }
    Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()
}

/// An unsigned decimal of a digit count in `digits` (at most 4).
fn number(text: &[u8], digits: std::ops::RangeInclusive<usize>) -> Option<u32> {
    if !digits.contains(&text.len()) {
        return None;
    }
    text.iter().try_fold(0, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_plain_dutch_shape_is_read_as_parse_dutch_reads_it() {
        let days = [
            "1", "01", "9", "29", "30", "31", "32", "0", "00", "123", "", "x", "1 ",
        ];
        let years = ["2027", "2024", "2100", "0000", "999", "20270", "2o27"];
        let mut shapes = 0;
        for day in days {
            for month in days {
                for year in years {
                    for sep in ["-", "/", "--"] {
                        let text = format!("{day}{sep}{month}{sep}{year}");
                        if let Some(date) = parse_plain_dutch(&text) {
                            shapes += 1;
                            assert_eq!(date, parse_dutch(&text), "{text}");
                        }
                        // And the whole parser answers as it did.
                        let dutch = text.as_bytes().get(1..3).is_some_and(|b| b.contains(&b'-'));
                        let expected = if dutch { parse_dutch(&text) } else { None };
                        let expected = expected.or_else(|| {
                            text.as_bytes()
                                .get(..4)
                                .filter(|b| b.iter().all(u8::is_ascii_digit))
                                .and_then(|_| Pieces::parse(&text).ok())
                                .map(|pieces| pieces.date())
                        });
                        if !text.contains(' ') {
                            assert_eq!(parse_date(&text), expected, "{text}");
                        }
                    }
                }
            }
        }
        assert!(shapes > 100, "{shapes}");
    }

    #[test]
    fn iso_dates_and_date_times() {
        let march_first = Some(date(2027, 3, 1));
        for text in [
            "2027-03-01",
            " 2027-03-01 ",
            "2027-03-01T10:00:00",
            "2027-03-01T10:00",
            "2027-03-01T10:00:00Z",
            "2027-03-01T10:00:00+01:00",
            "2027-03-01T10:00:00.123456+01:00",
            "2027-03-01T10:00:00.5Z",
        ] {
            assert_eq!(parse_date(text), march_first, "{text}");
        }
    }

    #[test]
    fn offset_date_time_keeps_the_date_as_written() {
        // 04:30 UTC on 2 March, but 1 March where it was recorded.
        assert_eq!(
            parse_date("2027-03-01T23:30:00-05:00"),
            Some(date(2027, 3, 1))
        );
        assert_eq!(
            parse_date("2027-03-02T00:30:00+01:00"),
            Some(date(2027, 3, 2))
        );
    }

    #[test]
    fn the_quick_iso_path_agrees_with_jiff() {
        for year in [0, 1, 999, 1999, 2024, 2027, 9999] {
            for month in 0..=13 {
                for day in 0..=32 {
                    let text = format!("{year:04}-{month:02}-{day:02}");
                    let jiff = Pieces::parse(&text).ok().map(|p| p.date());
                    assert_eq!(parse_plain_iso(&text), Some(jiff), "{text}");
                }
            }
        }
        for text in [
            "2027-3-01",
            "2027-03-1 ",
            "2027/03/01",
            "+02027-03-01",
            "2027-0a-01",
        ] {
            assert_eq!(parse_plain_iso(text), None, "{text}");
        }
    }

    #[test]
    fn the_quick_date_time_path_agrees_with_jiff() {
        for date in ["2027-03-01", "2026-02-30", "2028-02-29", "2027-13-01"] {
            for time in [
                "00:00:00",
                "23:59:59",
                "24:00:00",
                "23:60:00",
                "23:59:60",
                "9:05:00",
                "10:00",
                "10:0a:00",
                "10:00:00.5",
            ] {
                for (sep, zone) in [
                    (" ", ""),
                    ("T", ""),
                    ("T", "Z"),
                    (" ", "Z"),
                    ("T", "+01:00"),
                ] {
                    let text = format!("{date}{sep}{time}{zone}");
                    let jiff = Pieces::parse(&text).ok().map(|p| p.date());
                    if let Some(quick) = parse_plain_date_time(&text) {
                        assert_eq!(quick, jiff, "{text}");
                    }
                    assert_eq!(parse_date(&text), jiff, "{text}");
                }
            }
        }
    }

    #[test]
    fn mailchimp_date_time() {
        assert_eq!(parse_date("2026-11-23 14:05:09"), Some(date(2026, 11, 23)));
    }

    #[test]
    fn dutch_day_first_dates() {
        assert_eq!(parse_date("01-03-2027"), Some(date(2027, 3, 1)));
        assert_eq!(parse_date("1-3-2027"), Some(date(2027, 3, 1)));
        assert_eq!(parse_date("31-12-2026"), Some(date(2026, 12, 31)));
        assert_eq!(parse_date("1-3-2027 9:05"), Some(date(2027, 3, 1)));
        assert_eq!(parse_date("01-03-2027 09:05:59"), Some(date(2027, 3, 1)));
        assert_eq!(parse_date("1-3-2027 \u{a0}9:05"), Some(date(2027, 3, 1)));
    }

    #[test]
    fn impossible_dates_do_not_parse() {
        for text in [
            "2026-02-30",
            "2027-02-29",
            "2027-13-01",
            "2027-00-10",
            "30-02-2026",
            "29-02-2027",
            "32-01-2027",
            "01-13-2027",
            "2027-03-01T24:30:00",
            "01-03-2027 25:00",
        ] {
            assert_eq!(parse_date(text), None, "{text}");
        }
        assert_eq!(parse_date("29-02-2028"), Some(date(2028, 2, 29)));
    }

    #[test]
    fn garbage_does_not_parse() {
        for text in [
            "",
            "   ",
            "ja",
            "gisteren",
            "2027",
            "2027-03",
            "2027-03-01garbage",
            "01/03/2027",
            "1.3.2027",
            "01-03-27",
            "001-03-2027",
            "1-3-2027 9",
            "1-3-2027-4",
            "+002027-03-01",
            "10:00:00",
            "2027-03-01 10:00:00 tomorrow",
        ] {
            assert_eq!(parse_date(text), None, "{text:?}");
        }
    }
}
