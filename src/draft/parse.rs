//! Reading an `.eml` file into a [`Draft`] with mail-parser.
//!
//! mail-parser does the MIME work (multipart structure, transfer encodings,
//! charsets, which parts a reader sees). The top-level header block is also
//! scanned here by hand, for two reasons mail-parser does not serve: it is
//! lenient and will "parse" a PNG or a CSV into a message, and it does not keep
//! header names as written. The scan both rejects what is not a message (with
//! the line at fault) and yields each header's name, raw value and line.

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;

use mail_parser::parsers::MessageStream;
use mail_parser::{HeaderName, HeaderValue, MessageParser, MessagePart, MimeHeaders, PartType};

use super::{
    Attachment, BodyPart, DamagedEncoding, Draft, DraftError, HeaderLine, PartKind, lenient,
};

impl Draft {
    /// Reads and parses the draft at `path`. A file that is missing,
    /// unreadable or not an e-mail message (no header block, binary data) is a
    /// [`DraftError`] that says what to do.
    pub fn load(path: &Path) -> Result<Draft, DraftError> {
        use crate::limits::{MAX_DRAFT_BYTES, ReadError, megabytes, read_at_most};
        let raw = read_at_most(path, MAX_DRAFT_BYTES).map_err(|e| DraftError {
            path: path.to_path_buf(),
            line: None,
            message: match e {
                ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    "the draft file does not exist; check the `draft` path in the campaign file \
                     (relative to that file) or the --draft flag"
                        .to_string()
                }
                ReadError::Io(e) => format!("cannot read the draft: {e}"),
                ReadError::TooLarge { max } => format!(
                    "the draft is larger than {}, more than any mail provider accepts; is it \
                     the right file? Keep large files on a website and link to them",
                    megabytes(max)
                ),
            },
        })?;
        Draft::parse(path, raw)
    }

    /// Parses a draft that is already in memory. `path` is only used to name
    /// the file in errors and diagnostics.
    pub fn parse(path: &Path, raw: Vec<u8>) -> Result<Draft, DraftError> {
        let fail = |line: Option<u64>, message: String| DraftError {
            path: path.to_path_buf(),
            line,
            message,
        };
        if raw.iter().all(u8::is_ascii_whitespace) {
            return Err(fail(
                None,
                "the draft is empty; it must be an e-mail message saved as .eml: headers such as \
                 `From:` and `Subject:`, an empty line, then the body"
                    .to_string(),
            ));
        }
        let lines = LineIndex::new(&raw);
        let start = envelope_len(&raw);
        let block = scan_header_block(&raw, start)
            .map_err(|(offset, message)| fail(Some(lines.line_of(offset)), message))?;
        if block.body_start.is_none() {
            return Err(fail(
                None,
                "the draft has no body: its headers are not followed by an empty line and the \
                 text of the mailing"
                    .to_string(),
            ));
        }

        let headers: Vec<HeaderLine> = block
            .headers
            .iter()
            .map(|h| HeaderLine {
                name: h.name.clone(),
                value: decode_header_value(&raw[h.value.clone()]),
                line: lines.line_of(h.start),
            })
            .collect();
        let subject = headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("Subject"))
            .map(|h| h.value.clone());

        let Some(message) = MessageParser::default().parse(&raw[start..]) else {
            // The header scan above already accepted the block, so this is
            // not expected; still, never panic on user input.
            return Err(fail(
                Some(lines.line_of(start)),
                "mail-parser could not read this message; save it again from your mail client \
                 as .eml"
                    .to_string(),
            ));
        };
        // mail-parser's offsets are relative to the slice it was given.
        let at = |offset: u32| start + offset as usize;

        // A body whose transfer encoding is damaged is demoted by
        // mail-parser (to an attachment, or a text part holding the encoded
        // bytes), or decoded with bytes lost; every encoded body part is
        // therefore checked here, and a damaged one decoded leniently, as
        // mail clients do.
        let encoded_body =
            |part: &MessagePart<'_>| is_declared_body(part) && has_transfer_encoding(part);
        let mut body_ids: Vec<u32> = message
            .text_body
            .iter()
            .chain(&message.html_body)
            .copied()
            .chain((0..message.parts.len() as u32).filter(|&id| {
                message
                    .parts
                    .get(id as usize)
                    .is_some_and(|p| p.is_encoding_problem && encoded_body(p))
            }))
            .collect();
        body_ids.sort_unstable();
        body_ids.dedup();

        let mut parts = Vec::new();
        let mut repaired = Vec::new();
        for id in body_ids {
            let Some(part) = message.parts.get(id as usize) else {
                continue;
            };
            if encoded_body(part) {
                let body_start = at(part.offset_body);
                let body = raw.get(body_start..at(part.offset_end)).unwrap_or_default();
                let encoding = transfer_encoding(part)
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase();
                let decoded = if encoding == "base64" {
                    lenient::base64(body)
                } else {
                    Ok(lenient::quoted_printable(body))
                };
                let Ok((bytes, damage)) = decoded else {
                    return Err(fail(
                        Some(lines.line_of(body_start)),
                        format!(
                            "the {} body is declared as base64 but is not base64; save the \
                             draft again from your mail client",
                            content_type(part),
                        ),
                    ));
                };
                if damage.is_some() || part.is_encoding_problem {
                    let kind = if content_type(part) == "text/html" {
                        PartKind::Html
                    } else {
                        PartKind::Plain
                    };
                    repaired.push(id);
                    parts.push(BodyPart {
                        kind,
                        text: decode_charset(part, &bytes).replace("\r\n", "\n"),
                        line: lines.line_of(body_start),
                        damaged: Some(DamagedEncoding {
                            encoding,
                            line: lines
                                .line_of(body_start + damage.as_ref().map_or(0, |d| d.offset)),
                            what: damage.map_or("the encoding could not be read", |d| d.what),
                        }),
                    });
                    continue;
                }
            }
            let (kind, text) = match &part.body {
                PartType::Text(text) => (PartKind::Plain, text),
                PartType::Html(text) => (PartKind::Html, text),
                _ => continue,
            };
            parts.push(BodyPart {
                kind,
                // Line breaks as Rust strings have them; the sender writes
                // CRLF on the wire anyway.
                text: text.replace("\r\n", "\n"),
                line: lines.line_of(at(part.offset_body)),
                damaged: None,
            });
        }

        let attachments: Vec<Attachment> = message
            .attachments
            .iter()
            .filter(|id| !repaired.contains(id))
            .filter_map(|&id| message.parts.get(id as usize))
            .filter_map(|part| {
                let data = match &part.body {
                    PartType::Text(text) | PartType::Html(text) => text.as_bytes().to_vec(),
                    PartType::Binary(data) | PartType::InlineBinary(data) => data.to_vec(),
                    PartType::Message(_) => raw
                        .get(at(part.offset_body)..at(part.offset_end))
                        .unwrap_or_default()
                        .to_vec(),
                    PartType::Multipart(_) => return None,
                };
                Some(Attachment {
                    filename: part.attachment_name().map(str::to_string),
                    content_type: content_type(part),
                    data,
                    line: lines.line_of(skip_blank_lines(&raw, at(part.offset_header))),
                })
            })
            .collect();

        if parts.is_empty() {
            let found: Vec<String> = attachments.iter().map(|a| a.content_type.clone()).collect();
            let found = if found.is_empty() {
                String::new()
            } else {
                format!(" (it holds only {})", found.join(", "))
            };
            return Err(fail(
                None,
                format!(
                    "the draft has no body: no text/plain or text/html part{found}; write the \
                     mailing's text in the message itself, not in an attachment"
                ),
            ));
        }
        if parts.iter().all(|p| p.text.trim().is_empty()) {
            return Err(fail(
                Some(parts[0].line),
                "the draft's body is empty; write the text of the mailing below the headers"
                    .to_string(),
            ));
        }

        let line_maps = line_maps(&raw, &parts);
        Ok(Draft {
            path: path.to_path_buf(),
            raw,
            headers,
            subject,
            parts,
            attachments,
            line_maps,
        })
    }
}

/// How the lines of a decoded body part map back to lines of the `.eml`
/// file (quoted-printable soft line breaks join two file lines into one;
/// base64 lines have nothing to do with the text's).
#[derive(Clone, Debug)]
pub(crate) enum LineMap {
    /// Line `k` of the text is file line `start + k - 1`.
    Shifted(u64),
    /// Line `k` of the text starts on file line `table[k - 1]`.
    Table(Vec<u64>),
    /// Every line maps to this file line (the start of a base64 body).
    Fixed(u64),
}

impl LineMap {
    pub(crate) fn eml_line(&self, line_in_part: u64) -> u64 {
        let k = line_in_part.max(1);
        match self {
            LineMap::Shifted(start) => start + k - 1,
            LineMap::Fixed(line) => *line,
            LineMap::Table(table) => match table.get(k as usize - 1) {
                Some(&line) => line,
                // Past the table (not expected): continue from its end.
                None => table
                    .last()
                    .map_or(k, |&last| last + k - table.len() as u64),
            },
        }
    }
}

impl Draft {
    /// The `.eml` line of line `line_in_part` (1-based) of the decoded text
    /// of `parts[part]`. Quoted-printable soft line breaks are accounted
    /// for; a base64 body has no such correspondence, so any of its lines
    /// maps to the line where its body starts.
    pub fn eml_line(&self, part: usize, line_in_part: u64) -> u64 {
        match self.line_maps.get(part) {
            Some(map) => map.eml_line(line_in_part),
            None => line_in_part.max(1),
        }
    }

    pub(crate) fn line_map(&self, part: usize) -> LineMap {
        self.line_maps
            .get(part)
            .cloned()
            .unwrap_or(LineMap::Shifted(1))
    }
}

/// The [`LineMap`] of every part, from one pass that splits the file into
/// lines (split again for every part, a draft of 10,000 parts took seconds).
fn line_maps(raw: &[u8], parts: &[BodyPart]) -> Vec<LineMap> {
    let lines: Vec<&[u8]> = raw.split(|&b| b == b'\n').collect();
    parts
        .iter()
        .map(|p| {
            let body = p.line as usize;
            match body_transfer_encoding(&lines, body).as_deref() {
                Some("base64") => LineMap::Fixed(p.line),
                Some("quoted-printable") => {
                    let wanted = p.text.split('\n').count();
                    let mut table = Vec::with_capacity(wanted);
                    let mut continued = false;
                    for (i, line) in lines.iter().enumerate().skip(body.saturating_sub(1)) {
                        if table.len() >= wanted {
                            break;
                        }
                        let eml = i as u64 + 1;
                        if !continued {
                            table.push(eml);
                        }
                        let line = trim_line_end(line).trim_ascii_end();
                        // An encoded line feed starts a text line mid-line.
                        let encoded_breaks = line
                            .windows(3)
                            .filter(|w| w.eq_ignore_ascii_case(b"=0a"))
                            .count();
                        table.extend(std::iter::repeat_n(eml, encoded_breaks));
                        continued = line.ends_with(b"=");
                    }
                    LineMap::Table(table)
                }
                _ => LineMap::Shifted(p.line),
            }
        })
        .collect()
}

/// The Content-Transfer-Encoding (lower case) of the body that starts on
/// 1-based line `body`, read from the header block just above it: the lines
/// between the empty line before the body and the boundary line (or the
/// start of the file).
fn body_transfer_encoding(lines: &[&[u8]], body: usize) -> Option<String> {
    let blank = body.checked_sub(2)?;
    for i in (0..blank).rev() {
        let line = trim_line_end(lines[i]);
        if line.is_empty() || line.starts_with(b"--") {
            break;
        }
        let Some(value) = line
            .get(..26)
            .filter(|name| name.eq_ignore_ascii_case(b"content-transfer-encoding:"))
            .map(|_| &line[26..])
        else {
            continue;
        };
        let mut value = String::from_utf8_lossy(value).trim().to_ascii_lowercase();
        if value.is_empty()
            && let Some(next) = lines.get(i + 1)
        {
            value = String::from_utf8_lossy(next).trim().to_ascii_lowercase();
        }
        return Some(value);
    }
    None
}

/// Maps byte offsets to 1-based line numbers.
struct LineIndex {
    /// Offset of the first byte of every line after the first.
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(raw: &[u8]) -> LineIndex {
        let starts = raw
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .map(|(i, _)| i + 1)
            .collect();
        LineIndex { starts }
    }

    fn line_of(&self, offset: usize) -> u64 {
        self.starts.partition_point(|&s| s <= offset) as u64 + 1
    }
}

/// Bytes to skip before the header block: a UTF-8 byte order mark (some
/// editors add one) and an mbox `From ` envelope line (some clients keep it
/// when saving a message). Neither is a header.
fn envelope_len(raw: &[u8]) -> usize {
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

/// The first offset at or after `offset` that does not start an empty line
/// (mail-parser's part offsets may point at the line break after a boundary).
fn skip_blank_lines(raw: &[u8], mut offset: usize) -> usize {
    while offset < raw.len() && matches!(raw[offset], b'\r' | b'\n') {
        offset += 1;
    }
    offset
}

/// One top-level header as found by [`scan_header_block`].
struct RawHeader {
    name: String,
    /// Offset where the header's line starts.
    start: usize,
    /// The raw value after the colon, including folded lines.
    value: Range<usize>,
}

struct HeaderBlock {
    headers: Vec<RawHeader>,
    /// Offset just past the empty line that ends the headers; `None` when the
    /// file ends inside the header block.
    body_start: Option<usize>,
}

/// Reads the top-level header block line by line. An error carries the
/// offset of the offending line and a message saying what to do.
fn scan_header_block(raw: &[u8], start: usize) -> Result<HeaderBlock, (usize, String)> {
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

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
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

/// The part's bytes as text in its declared charset (UTF-8 when it names
/// none or one mail-parser does not know; invalid bytes replaced).
fn decode_charset(part: &MessagePart<'_>, bytes: &[u8]) -> String {
    let charset = part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .unwrap_or("utf-8");
    match mail_parser::decoders::charsets::map::charset_decoder(charset.as_bytes()) {
        Some(decoder) => decoder(bytes),
        None => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// `type/subtype` in lower case; text/plain when the part declares none
/// (RFC 2045 §5.2).
fn content_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        }
        .to_ascii_lowercase(),
        None => "text/plain".to_string(),
    }
}

/// A part declared as text/plain or text/html and not as an attachment.
fn is_declared_body(part: &MessagePart<'_>) -> bool {
    matches!(content_type(part).as_str(), "text/plain" | "text/html")
        && !part
            .content_disposition()
            .is_some_and(|d| d.is_attachment())
}

fn transfer_encoding<'a>(part: &'a MessagePart<'_>) -> Option<&'a str> {
    part.headers
        .iter()
        .find(|h| h.name == HeaderName::ContentTransferEncoding)
        .and_then(|h| h.value.as_text())
}

fn has_transfer_encoding(part: &MessagePart<'_>) -> bool {
    transfer_encoding(part).is_some_and(|e| {
        e.eq_ignore_ascii_case("base64") || e.eq_ignore_ascii_case("quoted-printable")
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::test_support::{draft, fixture, load};
    use super::*;

    fn kinds_and_lines(d: &Draft) -> Vec<(PartKind, u64)> {
        d.parts.iter().map(|p| (p.kind, p.line)).collect()
    }

    fn parse_error(bytes: &[u8]) -> DraftError {
        Draft::parse(Path::new("test.eml"), bytes.to_vec()).expect_err("must not parse")
    }

    #[test]
    fn thunderbird_quoted_printable_alternative() {
        let d = load("thunderbird_alternative.eml");
        let subject = d.header("subject").expect("Subject header");
        assert_eq!(subject.name, "Subject");
        assert_eq!(subject.line, 9);
        // Two encoded words over a folded line, joined without a space.
        assert_eq!(
            subject.value,
            "Voorjaarsactie: cafétafels en parasols voor {{ first_name }}"
        );
        assert_eq!(d.subject.as_deref(), Some(subject.value.as_str()));
        let content_type = d.header("Content-Type").expect("Content-Type");
        assert_eq!(content_type.line, 1);
        assert!(!content_type.value.contains('\n'), "unfolded");
        assert!(
            content_type
                .value
                .ends_with("boundary=\"------------0aXkT5Ru2bN8sQ1mVd3Lc7Hf\"")
        );
        assert_eq!(d.header("List-Unsubscribe").map(|h| h.line), Some(11));
        let names: Vec<&str> = d.headers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names[..3], ["Content-Type", "Message-ID", "Date"]);

        assert_eq!(
            kinds_and_lines(&d),
            [(PartKind::Plain, 18), (PartKind::Html, 33)]
        );
        // `caf=C3=A9=` + soft line break + `tafels`.
        assert!(
            d.parts[0]
                .text
                .contains("korting op onze cafétafels en parasols.")
        );
        assert!(d.parts[1].text.contains("cafétafels"));
        assert!(
            d.parts[1]
                .text
                .contains(r#"<meta http-equiv="content-type""#)
        );
        assert!(!d.parts[0].text.contains('\r'), "line breaks normalised");
        assert!(d.attachments.is_empty());
    }

    #[test]
    fn apple_mail_latin1_text_and_base64_html() {
        let d = load("apple_latin1_base64.eml");
        assert_eq!(
            d.header("mime-version").map(|h| h.name.as_str()),
            Some("Mime-Version")
        );
        assert_eq!(
            kinds_and_lines(&d),
            [(PartKind::Plain, 16), (PartKind::Html, 29)]
        );
        assert!(d.parts[0].text.contains("onze monteur René helpt u graag"));
        assert!(d.parts[1].text.contains("onze monteur René helpt u graag"));
        assert!(d.parts[1].text.starts_with("<html>"));
    }

    #[test]
    fn outlook_windows_1252_with_office_tags() {
        let d = load("outlook_windows1252.eml");
        assert_eq!(
            kinds_and_lines(&d),
            [(PartKind::Plain, 17), (PartKind::Html, 29)]
        );
        // =96 is an en dash in windows-1252, =E9 is é.
        assert!(
            d.parts[0]
                .text
                .contains("in de winkel – proef ze in ons café")
        );
        assert!(d.parts[1].text.contains("<o:p>&nbsp;</o:p>"));
        assert!(d.parts[1].text.contains("in ons café bij de bakkerij"));
        assert_eq!(
            d.header("X-MS-Has-Attach").map(|h| h.value.as_str()),
            Some("")
        );
    }

    #[test]
    fn mixed_with_csv_attachment() {
        let d = load("mixed_csv_attachment.eml");
        assert_eq!(
            kinds_and_lines(&d),
            [(PartKind::Plain, 15), (PartKind::Html, 25)]
        );
        assert_eq!(d.attachments.len(), 1);
        let csv = &d.attachments[0];
        assert_eq!(csv.filename.as_deref(), Some("klanten.csv"));
        assert_eq!(csv.content_type, "text/csv");
        assert_eq!(csv.line, 32);
        assert!(String::from_utf8_lossy(&csv.data).contains("jan@example.nl;Jan"));
    }

    #[test]
    fn related_html_with_inline_image() {
        let d = load("related_inline_image.eml");
        assert_eq!(
            kinds_and_lines(&d),
            [(PartKind::Plain, 9), (PartKind::Html, 18)]
        );
        assert_eq!(d.attachments.len(), 1);
        let logo = &d.attachments[0];
        assert_eq!(logo.filename.as_deref(), Some("logo.png"));
        assert_eq!(logo.content_type, "image/png");
        assert_eq!(logo.line, 23);
        let png = std::fs::read(fixture("logo.png")).expect("logo.png");
        assert_eq!(logo.data, png);
    }

    #[test]
    fn single_part_html_only() {
        let d = load("html_only.eml");
        assert_eq!(kinds_and_lines(&d), [(PartKind::Html, 7)]);
        assert!(d.parts[0].text.contains("Grünen Veltliner"));
        // A soft line break inside the template expression is undone.
        assert!(d.parts[0].text.contains("abmelden?id={{ email }}"));
    }

    #[test]
    fn single_part_plain_without_content_type_headers() {
        let d = draft("From: a@example.nl\nSubject: Hoi\n\nBeste {{ first_name }},\n");
        assert_eq!(kinds_and_lines(&d), [(PartKind::Plain, 4)]);
        assert_eq!(d.parts[0].text, "Beste {{ first_name }},\n");
        assert_eq!(d.subject.as_deref(), Some("Hoi"));
    }

    #[test]
    fn html_only_alternative_is_one_part() {
        // mail-parser lists an HTML-only alternative as both text and HTML
        // body; it is one part.
        let d = draft(
            "Subject: x\nContent-Type: multipart/alternative; boundary=\"b\"\n\n--b\n\
             Content-Type: text/html\n\n<p>Hallo</p>\n--b--\n",
        );
        assert_eq!(kinds_and_lines(&d), [(PartKind::Html, 7)]);
    }

    #[test]
    fn encoded_words_in_address_headers_are_decoded() {
        let d = draft(
            "From: =?UTF-8?Q?Caf=C3=A9_De_Linde?= <info@example.nl>\n\
             Subject: =?ISO-8859-1?B?Q2Fm6Q==?= {{ x }}\n\nTekst\n",
        );
        assert_eq!(d.headers[0].value, "Café De Linde <info@example.nl>");
        assert_eq!(d.subject.as_deref(), Some("Café {{ x }}"));
    }

    #[test]
    fn byte_order_mark_and_mbox_envelope_are_skipped() {
        let d = draft(
            "\u{feff}From - Mon Mar  1 09:00:00 2027\nFrom: a@example.nl\nSubject: Hoi\n\nTekst\n",
        );
        assert_eq!(d.headers.len(), 2);
        assert_eq!(d.header("From").map(|h| h.line), Some(2));
        assert_eq!(kinds_and_lines(&d), [(PartKind::Plain, 5)]);
    }

    #[test]
    fn eml_lines_of_quoted_printable_text_skip_soft_breaks() {
        let d = load("thunderbird_alternative.eml");
        let html = &d.parts[1].text;
        let line_in_part = html
            .lines()
            .position(|l| l.contains("{{ unsubscribe_url }}"))
            .expect("link") as u64
            + 1;
        // Decoded line 13 of the HTML: one soft break above it (line 36)
        // and one inside it, so it starts on file line 46 (the link itself
        // is on 47, the continuation).
        assert_eq!(line_in_part, 13);
        assert_eq!(d.eml_line(1, line_in_part), 46);
        assert_eq!(d.eml_line(1, line_in_part + 1), 48);
        assert_eq!(d.eml_line(1, 1), 33);
        // The text part: one soft break, on line 20.
        assert_eq!(d.eml_line(0, 3), 20);
        assert_eq!(d.eml_line(0, 4), 22);
    }

    #[test]
    fn eml_lines_of_encoded_line_feeds_and_base64() {
        let d =
            draft("Subject: x\nContent-Transfer-Encoding: quoted-printable\n\neen=0Atwee\ndrie\n");
        assert_eq!(d.parts[0].text, "een\ntwee\ndrie\n");
        assert_eq!(
            [d.eml_line(0, 1), d.eml_line(0, 2), d.eml_line(0, 3)],
            [4, 4, 5]
        );
        // base64: the body's first line, whatever the text line.
        let d = load("apple_latin1_base64.eml");
        assert_eq!(d.eml_line(1, 5), 29);
        // 8bit: one to one.
        assert_eq!(d.eml_line(0, 7), 22);
    }

    #[test]
    fn missing_file_says_what_to_do() {
        let e = Draft::load(&fixture("does-not-exist.eml")).expect_err("missing");
        assert_eq!(e.line, None);
        assert!(e.message.contains("does not exist"), "{e}");
        assert!(e.to_string().contains("does-not-exist.eml"), "{e}");
    }

    #[test]
    fn empty_file_is_an_error() {
        let e = Draft::load(&fixture("empty.eml")).expect_err("empty");
        assert!(e.message.contains("the draft is empty"), "{e}");
    }

    #[test]
    fn png_is_not_a_message() {
        let e = Draft::load(&fixture("logo.png")).expect_err("png");
        assert_eq!(e.line, Some(1));
        assert!(e.message.contains("not an e-mail message"), "{e}");
        assert!(e.message.contains("PNG image"), "{e}");
    }

    #[test]
    fn csv_is_not_a_message() {
        let e = Draft::load(&fixture("recipients.csv")).expect_err("csv");
        assert_eq!(e.line, Some(1));
        assert!(e.message.contains("CSV file"), "{e}");
    }

    #[test]
    fn html_file_without_headers_is_not_a_message() {
        let e = parse_error(b"<html><body><p>Hallo</p></body></html>\n");
        assert!(e.message.contains("HTML file"), "{e}");
    }

    #[test]
    fn message_with_only_a_pdf_has_no_body() {
        let e = Draft::load(&fixture("pdf_only.eml")).expect_err("no body");
        assert!(e.message.contains("the draft has no body"), "{e}");
        assert!(e.message.contains("application/pdf"), "{e}");
    }

    #[test]
    fn missing_blank_line_names_the_line() {
        let e = Draft::load(&fixture("missing_blank_line.eml")).expect_err("no blank line");
        assert_eq!(e.line, Some(3));
        assert!(
            e.message
                .contains("empty line between the headers and the body"),
            "{e}"
        );
    }

    #[test]
    fn headers_only_has_no_body() {
        let e = parse_error(b"From: a@example.nl\nSubject: Hoi\n");
        assert!(e.message.contains("no body"), "{e}");
    }

    #[test]
    fn blank_body_is_an_error() {
        let e = parse_error(b"From: a@example.nl\nSubject: Hoi\n\n  \n\n");
        assert!(e.message.contains("body is empty"), "{e}");
        assert_eq!(e.line, Some(4));
    }

    #[test]
    fn text_declared_base64_that_is_no_base64_is_reported_at_its_line() {
        let e = parse_error(
            b"Subject: x\nContent-Type: multipart/alternative; boundary=\"b\"\n\n--b\n\
              Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n<p>hi!!</p>\n--b--\n",
        );
        assert_eq!(e.line, Some(8));
        assert!(
            e.message
                .contains("text/html body is declared as base64 but is not base64"),
            "{e}"
        );
    }

    #[test]
    fn stray_equals_signs_in_quoted_printable_stay_literals() {
        // `==` made mail-parser give up on the part (exit 2 before).
        let d = draft(
            "Subject: x\nContent-Type: text/html; charset=utf-8\n\
             Content-Transfer-Encoding: quoted-printable\n\n<p>Caf=C3=A9: korting ==> 20%</p>\n\
             <p><a href=3D\"{{ unsubscribe_url }}\">Afmelden</a></p>\n",
        );
        assert_eq!(d.parts.len(), 1);
        assert_eq!(d.parts[0].kind, PartKind::Html);
        assert!(
            d.parts[0].text.contains("Café: korting ==> 20%"),
            "{}",
            d.parts[0].text
        );
        let damage = d.parts[0].damaged.as_ref().expect("damage noted");
        assert_eq!(damage.encoding, "quoted-printable");
        assert_eq!(damage.line, 5);
        assert!(d.attachments.is_empty(), "not demoted to an attachment");
    }

    #[test]
    fn a_cut_base64_line_and_a_stray_equals_sign_are_read_as_clients_read_them() {
        let d = load("apple_damaged_encoding.eml");
        assert_eq!(
            kinds_and_lines(&d),
            [(PartKind::Plain, 17), (PartKind::Html, 33)]
        );
        assert!(
            d.parts[0]
                .text
                .contains("25% korting = op tuinmeubelen en parasols.")
        );
        assert_eq!(d.parts[0].damaged.as_ref().map(|x| x.line), Some(19));
        // The cut line loses a few characters; the lines after it decode.
        let html = &d.parts[1].text;
        assert!(
            html.contains("<a href=\"https://delinde.example/nieuwsbrief/afmelden\">Afmelden</a>"),
            "{html}"
        );
        assert_eq!(d.parts[1].damaged.as_ref().map(|x| x.line), Some(35));
        // Intact encodings are not noted.
        assert!(
            load("thunderbird_alternative.eml")
                .parts
                .iter()
                .all(|p| p.damaged.is_none())
        );
        assert!(
            load("apple_latin1_base64.eml")
                .parts
                .iter()
                .all(|p| p.damaged.is_none())
        );
    }

    #[test]
    fn truncated_files_never_panic() {
        for name in [
            "thunderbird_alternative.eml",
            "apple_latin1_base64.eml",
            "mixed_csv_attachment.eml",
            "related_inline_image.eml",
        ] {
            let raw = std::fs::read(fixture(name)).expect("fixture");
            let mut parsed = 0;
            for len in 0..=raw.len() {
                if Draft::parse(Path::new(name), raw[..len].to_vec()).is_ok() {
                    parsed += 1;
                }
            }
            // The full file, at least, parses.
            assert!(parsed > 0, "{name}");
        }
    }
}
