//! Reading an `.eml` file into a [`Draft`] with mail-parser.
//!
//! mail-parser does the MIME work (multipart structure, transfer encodings,
//! charsets, which parts a reader sees). The top-level header block is also
//! scanned here by hand, for two reasons mail-parser does not serve: it is
//! lenient and will "parse" a PNG or a CSV into a message, and it does not keep
//! header names as written. The scan both rejects what is not a message (with
//! the line at fault) and yields each header's name, raw value and line.
//!
//! - `header_block`: the top-level header block, scanned by hand, and the
//!   header records made from it;
//! - `body_parts`: the text and HTML parts a reader sees, a damaged transfer
//!   encoding decoded leniently ([`super::lenient`]);
//! - `attachments`: every other part;
//! - `mime_part`: what a mail-parser part declares (content type, transfer
//!   encoding, charset), and the parsed tree tied back to the file;
//! - `lines`: byte offsets and decoded lines mapped back to lines of the file.

mod attachments;
mod body_parts;
mod header_block;
mod lines;
mod mime_part;
#[cfg(test)]
mod tests;

use std::path::Path;

use mail_parser::MessageParser;

use super::{Draft, DraftError};
use attachments::attachments;
use body_parts::{BodyParts, body_parts};
use header_block::{envelope_len, header_lines, scan_header_block};
pub(crate) use lines::LineMap;
use lines::{LineIndex, line_maps};
use mime_part::MimeTree;

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

        let headers = header_lines(&raw, &block, &lines);
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
        let mime = MimeTree {
            raw: &raw,
            message: &message,
            start,
            lines: &lines,
        };
        let BodyParts { parts, repaired } =
            body_parts(&mime).map_err(|(line, message)| fail(Some(line), message))?;
        let attachments = attachments(&mime, &repaired);

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
