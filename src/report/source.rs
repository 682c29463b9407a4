//! The lines that reports show under a diagnostic — of the draft, the
//! campaign file, and a list's header — read back once each, and what of a
//! line a diagnostic's [`Span`] points at, in the units each report needs.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;

use crate::diagnostic::{Scope, Span};
use crate::escape;
use crate::span::line_text;

/// Lines of the draft, the campaign file and a list's header, read once
/// when a diagnostic first points into them.
#[derive(Debug, Default)]
pub(super) struct SourceLines {
    /// Each file's first lines, or `None` when it cannot be read.
    files: HashMap<String, Option<Head>>,
}

/// The first lines of a file, as read.
#[derive(Debug)]
struct Head {
    /// Raw bytes, line breaks and a leading byte-order mark removed.
    lines: Vec<Vec<u8>>,
    /// How many lines were asked for (the file may have had fewer).
    asked: usize,
}

/// A line split around what a diagnostic points at, decoded.
struct Pieces<'a> {
    before: Cow<'a, str>,
    within: Cow<'a, str>,
    after: Cow<'a, str>,
}

impl SourceLines {
    /// Lines read of a draft or a campaign file.
    const LIMIT: usize = 5_000;
    /// Bytes read of any file: a list's header line is at most a record
    /// long (the reader refuses longer ones).
    const MAX_BYTES: u64 = crate::limits::MAX_RECORD_BYTES + Self::LIMIT as u64 * 1_000;

    /// The raw text of the line a diagnostic of `scope` at `file:line`
    /// points at. Only small files are read back: the draft, the campaign
    /// file, and a list's header line — never a row deep inside a long
    /// list. (A list diagnostic with a span points at a header cell; the
    /// header is on line 1 unless blank lines come before it.)
    fn raw(&mut self, scope: Scope, file: &str, line: u64, span: Option<Span>) -> Option<&[u8]> {
        let list_header = line == 1 || span.is_some();
        if scope == Scope::Recipient || (scope == Scope::List && !list_header) {
            return None;
        }
        let limit = match scope {
            Scope::List => usize::try_from(line).ok()?,
            _ => Self::LIMIT,
        };
        let read =
            |asked| read_head(file, asked, Self::MAX_BYTES).map(|lines| Head { lines, asked });
        let cached = self
            .files
            .entry(file.to_owned())
            .or_insert_with(|| read(limit));
        // A list's header read first, then a line below it (the header
        // after blank lines): read again, as far as now needed.
        if cached.as_ref().is_some_and(|head| head.asked < limit) {
            *cached = read(limit);
        }
        cached
            .as_ref()?
            .lines
            .get(usize::try_from(line).ok()?.checked_sub(1)?)
            .map(Vec::as_slice)
    }

    /// The line as shown to a reader (decoded, control characters escaped)
    /// and the byte range of that text to underline: `span`, or without one
    /// the whole line but its indentation.
    pub(super) fn shown(
        &mut self,
        scope: Scope,
        file: &str,
        line: u64,
        span: Option<Span>,
    ) -> Option<(String, Range<usize>)> {
        let raw = self.raw(scope, file, line, span)?;
        let (raw, span) = match secret_value(raw).filter(|_| scope == Scope::Campaign) {
            Some(at) => concealed(raw, at, span),
            None => (Cow::Borrowed(raw), span),
        };
        let pieces = pieces(&raw, span);
        let before = shown_text(&pieces.before);
        let within = shown_text(&pieces.within);
        let after = shown_text(&pieces.after);
        let range = before.len()..before.len() + within.len();
        Some(([before, within, after].concat(), range))
    }

    /// SARIF's `startColumn` and `endColumn` of `span` on the line: 1-based,
    /// in UTF-16 code units (the unit a SARIF run declares by default), the
    /// end exclusive. `None` when the line is not one that is read back.
    pub(super) fn utf16_columns(
        &mut self,
        scope: Scope,
        file: &str,
        line: u64,
        span: Option<Span>,
    ) -> Option<(i64, i64)> {
        let pieces = pieces(self.raw(scope, file, line, span)?, span);
        let units = |text: &str| text.encode_utf16().count() as i64;
        let start = units(&pieces.before) + 1;
        Some((start, start + units(&pieces.within)))
    }
}

/// `text` with its control characters shown escaped, but for tabs: in a
/// source line they are indentation, which the snippet renderer lays out
/// (and counts as one column in `--> file:line:column`).
fn shown_text(text: &str) -> Cow<'_, str> {
    if !text.contains('\t') {
        return escape::control_chars(text);
    }
    let parts: Vec<Cow<'_, str>> = text.split('\t').map(escape::control_chars).collect();
    Cow::Owned(parts.join("\t"))
}

/// What a concealed value is shown as.
const CONCEALED: &[u8] = b"********";

/// Where on a campaign-file line a secret's value starts, if the line sets
/// one: a key naming a password (`wachtwoord` in Dutch, or misspelt as
/// `pasword`), secret, token or credential (not `password_env`,
/// which names a variable). A line shown under a diagnostic — about that
/// key, or a typo in it, or TOML that does not parse there — must not
/// print the secret to a terminal or a CI log.
fn secret_value(line: &[u8]) -> Option<usize> {
    let lower = line.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = [
        "pass",
        "pasw",
        "pwd",
        "wachtwoord",
        "secret",
        "token",
        "credential",
    ]
    .iter()
    .filter_map(|word| {
        let found = lower[from..]
            .windows(word.len())
            .position(|w| w == word.as_bytes())?;
        Some(from + found)
    })
    .min()
    {
        // The rest of the key, up to `=`: key characters, quotes, spaces.
        let key_end = lower[at..]
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')))
            .map_or(lower.len(), |i| at + i);
        let rest = &lower[key_end..];
        let equals = rest
            .iter()
            .position(|&b| !matches!(b, b' ' | b'\t' | b'"' | b'\''))
            .filter(|&i| rest[i] == b'=');
        if let Some(equals) = equals
            && !lower[at..key_end].ends_with(b"_env")
        {
            let value = key_end + equals + 1;
            return Some(value + (line.len() - value - line[value..].trim_ascii_start().len()));
        }
        from = at + 1;
    }
    None
}

/// `line` with everything from `at` on shown as [`CONCEALED`], and `span`
/// moved to match (a span inside the secret covers its stand-in).
fn concealed(line: &[u8], at: usize, span: Option<Span>) -> (Cow<'_, [u8]>, Option<Span>) {
    let mut shown = line[..at].to_vec();
    shown.extend_from_slice(CONCEALED);
    let end = shown.len();
    let span = span.map(|s| {
        let start = (s.start as usize).min(at);
        let stop = if s.end as usize > at {
            end
        } else {
            s.end as usize
        };
        Span::new(start, stop)
    });
    (Cow::Owned(shown), span)
}

/// `line` split at `span`, each piece decoded as the reader decodes it
/// (UTF-8, or Windows-1252 for a line that is not UTF-8). Without a span,
/// or with one that does not fit the line, the whole line but its leading
/// and trailing white space is the middle piece.
fn pieces(line: &[u8], span: Option<Span>) -> Pieces<'_> {
    let utf8 = std::str::from_utf8(line).ok();
    let fits = |range: &Range<usize>| match utf8 {
        Some(text) => {
            range.end <= text.len()
                && text.is_char_boundary(range.start)
                && text.is_char_boundary(range.end)
        }
        None => range.end <= line.len(),
    };
    let range = span.map(Span::range).filter(fits).unwrap_or_else(|| {
        let start = line.len() - line.trim_ascii_start().len();
        start..line.trim_ascii_end().len().max(start)
    });
    let utf8 = utf8.is_some();
    Pieces {
        before: decode(&line[..range.start], utf8),
        within: decode(&line[range.clone()], utf8),
        after: decode(&line[range.end..], utf8),
    }
}

/// `bytes` of a line that is UTF-8 (`utf8`) or else Windows-1252, as text.
fn decode(bytes: &[u8], utf8: bool) -> Cow<'_, str> {
    if utf8 {
        String::from_utf8_lossy(bytes)
    } else {
        encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
    }
}

/// The first `limit` lines of a file (at most `max_bytes` of it), each
/// without its line break and the first without a byte-order mark, or
/// `None` when it cannot be read.
fn read_head(path: &str, limit: usize, max_bytes: u64) -> Option<Vec<Vec<u8>>> {
    let file = std::fs::File::open(path).ok()?;
    let reader = BufReader::new(file.take(max_bytes));
    let mut lines = Vec::new();
    for (i, raw) in reader.split(b'\n').take(limit).enumerate() {
        let raw = raw.ok()?;
        lines.push(line_text(&raw, i as u64 + 1).to_vec());
    }
    Some(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns_of(line: &str, span: Option<Span>) -> (i64, i64) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("campaign.toml");
        std::fs::write(&path, format!("{line}\n")).unwrap();
        let mut sources = SourceLines::default();
        let path = path.to_str().unwrap();
        sources
            .utf16_columns(Scope::Campaign, path, 1, span)
            .unwrap()
    }

    #[test]
    fn utf16_columns_count_code_units_not_bytes() {
        // `é` is two bytes and one UTF-16 unit; `🍓` four bytes and two units.
        let line = "product = \"crème 🍓\" # x";
        let at = line.find("🍓").unwrap();
        let span = Span::new(at, at + "🍓".len());
        assert_eq!(columns_of(line, Some(span)), (18, 20));
        // Without a span: the line but its indentation.
        assert_eq!(columns_of("  a = 1", None), (3, 8));
    }

    #[test]
    fn a_span_that_does_not_fit_the_line_underlines_the_line() {
        let line = "naïve = 1";
        // Inside `ï`, and past the end.
        assert_eq!(columns_of(line, Some(Span::new(3, 4))), (1, 10));
        assert_eq!(columns_of(line, Some(Span::new(2, 40))), (1, 10));
    }

    #[test]
    fn a_secret_on_a_campaign_line_is_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("campaign.toml");
        std::fs::write(
            &path,
            "password = \"hunter2\"\n\
             passwrd = \"hunter2\"\n\
             smtp = { host = \"h\", \"api-token\" = \"hunter2\" }\n\
             password = hunter2 oops\n\
             password_env = \"SMTP_PASSWORD\"\n\
             \tpasword = \"hunter2\"\n",
        )
        .unwrap();
        let mut sources = SourceLines::default();
        let path = path.to_str().unwrap();
        let shown = |sources: &mut SourceLines, line, span| {
            let (text, range) = sources.shown(Scope::Campaign, path, line, span).unwrap();
            (text.clone(), text[range].to_owned())
        };
        assert_eq!(
            shown(&mut sources, 1, Some(Span::new(0, 8))),
            ("password = ********".to_owned(), "password".to_owned())
        );
        assert_eq!(
            shown(&mut sources, 1, Some(Span::new(11, 20))),
            ("password = ********".to_owned(), "********".to_owned())
        );
        assert_eq!(shown(&mut sources, 2, None).0, "passwrd = ********");
        assert_eq!(
            shown(&mut sources, 3, None).0,
            "smtp = { host = \"h\", \"api-token\" = ********"
        );
        assert_eq!(shown(&mut sources, 4, None).0, "password = ********");
        assert_eq!(
            shown(&mut sources, 5, None).0,
            "password_env = \"SMTP_PASSWORD\""
        );
        // A misspelt key too; the tab before it stays a tab.
        assert_eq!(shown(&mut sources, 6, None).0, "\tpasword = ********");
    }

    #[test]
    fn shown_escapes_controls_and_keeps_the_span_on_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.csv");
        // Windows-1252 `é` (0xE9) and a tab before the cell pointed at.
        std::fs::write(&path, b"\xEF\xBB\xBFcaf\xE9\x1bemail;email\r\nx\n").unwrap();
        let mut sources = SourceLines::default();
        let path = path.to_str().unwrap();
        let (text, range) = sources
            .shown(Scope::List, path, 1, Some(Span::new(11, 16)))
            .unwrap();
        assert_eq!(text, "café\\x1bemail;email");
        assert_eq!(&text[range], "email");
        // Rows are never read back; a header cell below line 1 is.
        assert!(sources.shown(Scope::List, path, 2, None).is_none());
        let (text, range) = sources
            .shown(Scope::List, path, 2, Some(Span::new(0, 1)))
            .unwrap();
        assert_eq!(&text[range], "x");
    }
}
