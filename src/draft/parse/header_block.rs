//! The top-level header block, scanned by hand: what is not a message is
//! refused with the line at fault, and each header keeps its name as written,
//! its raw value and where it starts.

use std::borrow::Cow;
use std::ops::Range;

use mail_parser::HeaderValue;
use mail_parser::parsers::MessageStream;

use super::lines::{LineIndex, trim_line_end};
use crate::draft::HeaderLine;
use crate::span::Span;

/// Bytes to skip before the header block: a UTF-8 byte order mark (some
/// editors add one) and an mbox `From ` envelope line (some clients keep it
/// when saving a message). Neither is a header.
pub(super) fn envelope_len(raw: &[u8]) -> usize {
    let mut start = 0;
    if raw.starts_with(b"\xEF\xBB\xBF") {
        start = 3;
    }
    if raw[start..].starts_with(b"From ") {
        start = raw[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |i| start + i + 1);
    }
    start
}

/// One top-level header as found by [`scan_header_block`].
pub(super) struct RawHeader {
    pub(super) name: String,
    /// Offset where the header's line starts.
    pub(super) start: usize,
    /// The raw value after the colon, including folded lines.
    pub(super) value: Range<usize>,
}

impl RawHeader {
    /// The header's value as far as its first line goes, without the
    /// white space around it, or its name when that is empty: in columns
    /// of the header's line (which starts at [`RawHeader::start`]).
    pub(super) fn span(&self, raw: &[u8]) -> Span {
        let value = raw.get(self.value.clone()).unwrap_or_default();
        let first_line = value
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map_or(value, |end| &value[..end]);
        let trimmed = first_line.trim_ascii();
        let columns = |start: usize, len: usize| {
            let start = start.saturating_sub(self.start);
            Span::new(start, start + len)
        };
        if trimmed.is_empty() {
            columns(self.start, self.name.len())
        } else {
            let lead = first_line.len() - first_line.trim_ascii_start().len();
            columns(self.value.start + lead, trimmed.len())
        }
    }
}

pub(super) struct HeaderBlock {
    pub(super) headers: Vec<RawHeader>,
    /// Offset just past the empty line that ends the headers; `None` when the
    /// file ends inside the header block.
    pub(super) body_start: Option<usize>,
}

/// The draft's header records, in file order: each header's name as
/// written, its value unfolded and decoded, and its line. (The one place
/// a [`HeaderLine`] is made: what a record carries is filled in here.)
pub(super) fn header_lines(raw: &[u8], block: &HeaderBlock, lines: &LineIndex) -> Vec<HeaderLine> {
    block
        .headers
        .iter()
        .map(|h| HeaderLine {
            name: h.name.clone(),
            value: decode_header_value(&raw[h.value.clone()]),
            line: lines.line_of(h.start),
            span: h.span(raw),
        })
        .collect()
}

/// Reads the top-level header block line by line. An error carries the
/// offset of the offending line and a message saying what to do.
pub(super) fn scan_header_block(raw: &[u8], start: usize) -> Result<HeaderBlock, (usize, String)> {
    let mut headers: Vec<RawHeader> = Vec::new();
    let mut pos = start;
    while pos < raw.len() {
        let end = raw[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |i| pos + i + 1);
        let line = trim_line_end(&raw[pos..end]);
        if line.is_empty() {
            return Ok(HeaderBlock {
                headers,
                body_start: Some(end),
            });
        }
        if line.contains(&0) {
            return Err((pos, not_a_message(raw, start)));
        }
        if matches!(line[0], b' ' | b'\t') {
            match headers.last_mut() {
                Some(last) => last.value.end = end,
                None => return Err((pos, not_a_message(raw, start))),
            }
        } else {
            match header_name(line) {
                Some(name) => headers.push(RawHeader {
                    name,
                    start: pos,
                    value: pos + line.iter().position(|&b| b == b':').unwrap_or(0) + 1..end,
                }),
                None if headers.is_empty() => return Err((pos, not_a_message(raw, start))),
                None => {
                    return Err((
                        pos,
                        "this line is neither a header (`Name: value`) nor the continuation of \
                         one; is the empty line between the headers and the body missing?"
                            .to_string(),
                    ));
                }
            }
        }
        pos = end;
    }
    Ok(HeaderBlock {
        headers,
        body_start: None,
    })
}

/// The field name of a header line (RFC 5322 §2.2: printable ASCII except
/// `:`), or `None` when the line is not a header. Whitespace before the colon
/// (obsolete syntax) is tolerated.
fn header_name(line: &[u8]) -> Option<String> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = line[..colon].trim_ascii_end();
    if name.is_empty() || !name.iter().all(|&b| (33..=126).contains(&b)) {
        return None;
    }
    Some(String::from_utf8_lossy(name).into_owned())
}

/// What to say about a file that does not start with a header block, with a
/// guess at what it is instead.
fn not_a_message(raw: &[u8], start: usize) -> String {
    let head = &raw[start..];
    let first_line = trim_line_end(
        &head[..head
            .iter()
            .position(|&b| b == b'\n')
            .map_or(head.len(), |i| i + 1)],
    );
    let looks_like = if head.starts_with(b"\x89PNG") {
        " (it looks like a PNG image)"
    } else if head.starts_with(b"\xFF\xD8\xFF") {
        " (it looks like a JPEG image)"
    } else if head.starts_with(b"GIF8") {
        " (it looks like a GIF image)"
    } else if head.starts_with(b"%PDF") {
        " (it looks like a PDF)"
    } else if head.starts_with(b"PK\x03\x04") {
        " (it looks like a ZIP archive, such as an .xlsx or .docx file)"
    } else if head.iter().take(1024).any(|&b| b == 0) {
        " (it holds binary data)"
    } else if head.trim_ascii_start().starts_with(b"<") {
        " (it looks like an HTML file; a draft needs headers and an empty line before the HTML)"
    } else if !first_line.contains(&b':') && first_line.iter().any(|b| b",;\t".contains(b)) {
        " (it looks like a CSV file; is this the recipient list?)"
    } else {
        ""
    };
    format!(
        "this is not an e-mail message{looks_like}; the draft must be an .eml file: headers such \
         as `From:` and `Subject:`, an empty line, then the body (save the e-mail from your mail \
         client as .eml)"
    )
}

/// Unfolds a raw header value and decodes RFC 2047 encoded words.
fn decode_header_value(raw: &[u8]) -> String {
    // mail-parser's unstructured parser stops at the line break that ends
    // the header, so the value needs one.
    let mut value: Cow<'_, [u8]> = Cow::Borrowed(raw);
    if !value.ends_with(b"\n") {
        value.to_mut().push(b'\n');
    }
    match MessageStream::new(&value).parse_unstructured() {
        HeaderValue::Text(text) => text.trim().to_string(),
        _ => String::new(),
    }
}
