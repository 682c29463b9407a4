//! Reading an `.eml` file into a [`Draft`] with mail-parser.
//!
//! mail-parser does the MIME work (multipart structure, transfer encodings,
//! charsets, which parts a reader sees). The top-level header block is also
//! scanned here by hand, for two reasons mail-parser does not serve: it is
//! lenient and will "parse" a PNG or a CSV into a message, and it does not keep
//! header names as written. The scan both rejects what is not a message (with
//! the line at fault) and yields each header's name, raw value and line.
//!
//! - `header_block`: the top-level header block, scanned by hand;
//! - `mime_part`: what a mail-parser part declares (content type, transfer
//!   encoding, charset);
//! - `lines`: byte offsets and decoded lines mapped back to lines of the file.

mod header_block;
mod lines;
mod mime_part;
#[cfg(test)]
mod tests;

use std::path::Path;

use mail_parser::{MessageParser, MessagePart, MimeHeaders, PartType};

use super::{
    Attachment, BodyPart, DamagedEncoding, Draft, DraftError, HeaderLine, PartKind, lenient,
};
use header_block::{decode_header_value, envelope_len, scan_header_block};
pub(crate) use lines::LineMap;
use lines::{LineIndex, line_maps, skip_blank_lines};
use mime_part::{
    content_type, decode_charset, has_transfer_encoding, is_declared_body, transfer_encoding,
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
                span: h.span(&raw),
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
