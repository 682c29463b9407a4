//! The body parts a reader sees: mail-parser's text and HTML bodies, and
//! any part declared as a body whose transfer encoding is damaged, decoded
//! leniently as mail clients do (`damaged-encoding`).

use mail_parser::{MessagePart, PartType};

use super::mime_part::{
    MimeTree, content_type, decode_charset, has_transfer_encoding, is_declared_body,
    transfer_encoding,
};
use crate::draft::{BodyPart, DamagedEncoding, PartKind, lenient};

/// The body parts of a message, in file order.
pub(super) struct BodyParts {
    pub parts: Vec<BodyPart>,
    /// mail-parser's ids of the parts decoded here because their encoding
    /// is damaged: mail-parser may have listed them as attachments.
    pub repaired: Vec<u32>,
}

/// Reads the body parts. The error is (file line, message): a body
/// declared as base64 that is not base64 at all.
pub(super) fn body_parts(mime: &MimeTree<'_>) -> Result<BodyParts, (u64, String)> {
    let MimeTree {
        raw,
        message,
        lines,
        ..
    } = *mime;
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
            let body_start = mime.at(part.offset_body);
            let body = raw
                .get(body_start..mime.at(part.offset_end))
                .unwrap_or_default();
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
                return Err((
                    lines.line_of(body_start),
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
                        line: lines.line_of(body_start + damage.as_ref().map_or(0, |d| d.offset)),
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
            line: lines.line_of(mime.at(part.offset_body)),
            damaged: None,
        });
    }
    Ok(BodyParts { parts, repaired })
}
