//! The attachments of a draft: every part that is not one of its bodies,
//! with its decoded content (for `personal-data-attachment`, and to be sent
//! as it is).

use mail_parser::{MimeHeaders, PartType};

use super::lines::skip_blank_lines;
use super::mime_part::{MimeTree, content_type};
use crate::draft::Attachment;

/// mail-parser's attachments, less the `repaired` parts that were read as
/// bodies after all (see [`body_parts`](super::body_parts::body_parts)), in file order.
pub(super) fn attachments(mime: &MimeTree<'_>, repaired: &[u32]) -> Vec<Attachment> {
    let MimeTree {
        raw,
        message,
        lines,
        ..
    } = *mime;
    message
        .attachments
        .iter()
        .filter(|id| !repaired.contains(id))
        .filter_map(|&id| message.parts.get(id as usize))
        .filter_map(|part| {
            let data = match &part.body {
                PartType::Text(text) | PartType::Html(text) => text.as_bytes().to_vec(),
                PartType::Binary(data) | PartType::InlineBinary(data) => data.to_vec(),
                PartType::Message(_) => raw
                    .get(mime.at(part.offset_body)..mime.at(part.offset_end))
                    .unwrap_or_default()
                    .to_vec(),
                PartType::Multipart(_) => return None,
            };
            Some(Attachment {
                filename: part.attachment_name().map(str::to_string),
                content_type: content_type(part),
                data,
                line: lines.line_of(skip_blank_lines(raw, mime.at(part.offset_header))),
            })
        })
        .collect()
}
