//! What a mail-parser part declares: its content type, disposition,
//! transfer encoding and charset; and the parsed message tied back to the
//! file it came from.

use mail_parser::{HeaderName, Message, MessagePart, MimeHeaders};

use super::lines::LineIndex;

/// The message as mail-parser read it, with what is needed to point from
/// one of its parts back into the file.
#[derive(Clone, Copy)]
pub(super) struct MimeTree<'a> {
    /// The whole file.
    pub raw: &'a [u8],
    pub message: &'a Message<'a>,
    /// Where mail-parser's input starts in `raw` (after a byte order mark
    /// or an mbox envelope line).
    pub start: usize,
    pub lines: &'a LineIndex,
}

impl MimeTree<'_> {
    /// The offset in the file of one of mail-parser's offsets, which are
    /// relative to the slice it was given.
    pub fn at(&self, offset: u32) -> usize {
        self.start + offset as usize
    }
}

/// The part's bytes as text in its declared charset (UTF-8 when it names
/// none or one mail-parser does not know; invalid bytes replaced).
pub(super) fn decode_charset(part: &MessagePart<'_>, bytes: &[u8]) -> String {
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
pub(super) fn content_type(part: &MessagePart<'_>) -> String {
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
pub(super) fn is_declared_body(part: &MessagePart<'_>) -> bool {
    matches!(content_type(part).as_str(), "text/plain" | "text/html")
        && !part
            .content_disposition()
            .is_some_and(|d| d.is_attachment())
}

pub(super) fn transfer_encoding<'a>(part: &'a MessagePart<'_>) -> Option<&'a str> {
    part.headers
        .iter()
        .find(|h| h.name == HeaderName::ContentTransferEncoding)
        .and_then(|h| h.value.as_text())
}

pub(super) fn has_transfer_encoding(part: &MessagePart<'_>) -> bool {
    transfer_encoding(part).is_some_and(|e| {
        e.eq_ignore_ascii_case("base64") || e.eq_ignore_ascii_case("quoted-printable")
    })
}
