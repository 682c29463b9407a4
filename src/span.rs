//! Where on its line a diagnostic points: a CSV header cell, a TOML key or
//! value, a draft header.
//!
//! A leaf module: the inputs (campaign file, list, draft) make spans, the
//! diagnostics carry them and the reports render them; it uses nothing.

use std::ops::Range;

/// The byte columns, on one line of a file, of what a diagnostic is about
/// (0-based, end exclusive), counted in the file's own bytes from the start
/// of the line's text. A UTF-8 byte-order mark at the start of a file is no
/// part of its first line.
///
/// Columns on the line rather than an absolute offset in the file: a
/// diagnostic already names its line, and a report must be able to show it
/// by reading that line alone — for a list, only its header line is ever
/// read back, never the gigabytes before a row deep inside it. The producer
/// has the text in memory (the campaign file, the draft's header block, the
/// list's header line) and converts an offset once, with [`Span::locate`].
/// Bytes, not characters, because that is what every producer has; the
/// reports turn them into what they need (a terminal's character columns,
/// SARIF's UTF-16 code units).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

/// A line and a span on it: where in a file something was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Place {
    /// 1-based line.
    pub line: u64,
    pub span: Span,
}

/// The UTF-8 byte-order mark, which some editors write at the start of a
/// file; no part of its first line.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

impl Span {
    /// The columns `start..end` (an end before the start is taken as the
    /// start; columns past `u32::MAX` are cut there).
    pub fn new(start: usize, end: usize) -> Span {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span {
            start: clamp(start),
            end: clamp(end.max(start)),
        }
    }

    /// The columns as a range of byte positions on the line.
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Where `range`, byte offsets into the whole of `text`, is: the line of
    /// its start and its columns on that line, cut at the line's end (a
    /// folded header or a multi-line TOML value is shown by its first line).
    pub fn locate(text: &[u8], range: Range<usize>) -> Place {
        let start = range.start.min(text.len());
        let end = range.end.clamp(start, text.len());
        let before = &text[..start];
        let line = newlines(before) + 1;
        let mut line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        if line_start == 0 && text.starts_with(UTF8_BOM) {
            line_start = UTF8_BOM.len().min(start);
        }
        let line_end = text[start..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map_or(text.len(), |i| start + i);
        Place {
            line,
            span: Span::new(start - line_start, end.min(line_end) - line_start),
        }
    }
}

fn newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// A line's text as a report reads it back: without its line break, and on
/// line 1 without a UTF-8 byte-order mark (see [`Span`]).
pub fn line_text(raw: &[u8], line: u64) -> &[u8] {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    if line == 1 {
        raw.strip_prefix(UTF8_BOM).unwrap_or(raw)
    } else {
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_gives_line_and_columns_on_it() {
        let text = b"[smtp]\nhost = \"x\"\r\ntls = \"none\"\n";
        let at = |needle: &str| {
            let start = text
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
                .unwrap();
            Span::locate(text, start..start + needle.len())
        };
        assert_eq!(
            at("tls"),
            Place {
                line: 3,
                span: Span::new(0, 3)
            }
        );
        assert_eq!(
            at("\"x\""),
            Place {
                line: 2,
                span: Span::new(7, 10)
            }
        );
    }

    #[test]
    fn locate_cuts_at_the_line_end_and_skips_a_bom() {
        let text = "\u{feff}From: a@b.example\n c@d.example\n".as_bytes();
        let value = 3 + "From:".len()..text.len();
        let place = Span::locate(text, value);
        assert_eq!(place.line, 1);
        assert_eq!(place.span, Span::new(5, 17));
        let line = line_text(&text[..text.iter().position(|&b| b == b'\n').unwrap()], 1);
        assert_eq!(&line[place.span.range()], b" a@b.example");
    }
}
