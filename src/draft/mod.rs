//! The draft e-mail (SPEC §1.3): an `.eml` parsed with mail-parser into its
//! headers, decoded text/HTML body parts and attachments, plus the minijinja
//! templates compiled from its subject and bodies.

mod addresses;
mod lenient;
mod line_counter;
pub mod opt_out;
mod parse;
pub mod templates;
pub mod visibility;

pub use addresses::{AddressList, Mailbox};
pub use templates::{TemplateProblem, TemplateSource, Templates};

use std::path::PathBuf;

use crate::span::{Place, Span};

/// Which kind of body part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PartKind {
    Plain,
    Html,
}

impl PartKind {
    /// The MIME type, as used in diagnostics' `field`.
    pub fn mime(self) -> &'static str {
        match self {
            PartKind::Plain => "text/plain",
            PartKind::Html => "text/html",
        }
    }
}

/// One header as it appears in the file.
#[derive(Clone, Debug)]
pub struct HeaderLine {
    /// The name as written (`List-Unsubscribe`).
    pub name: String,
    /// The value, unfolded and RFC 2047-decoded.
    pub value: String,
    /// 1-based line in the file where the header starts.
    pub line: u64,
    /// What a diagnostic about the header underlines on that line: its
    /// value as far as the line goes, or its name when the value starts
    /// on a folded line.
    pub span: Span,
}

impl HeaderLine {
    /// Where the header is, for a diagnostic about it.
    pub fn place(&self) -> Place {
        Place {
            line: self.line,
            span: self.span,
        }
    }
}

/// A text/plain or text/html body part, decoded to UTF-8 (transfer encoding
/// and charset undone).
#[derive(Clone, Debug)]
pub struct BodyPart {
    pub kind: PartKind,
    pub text: String,
    /// 1-based line in the file where the part's body starts.
    pub line: u64,
    /// Set when the part's transfer encoding was damaged and the text was
    /// decoded leniently, as mail clients do (`damaged-encoding`).
    pub damaged: Option<DamagedEncoding>,
}

/// Where and how a body part's transfer encoding is damaged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DamagedEncoding {
    /// `quoted-printable` or `base64`.
    pub encoding: String,
    /// 1-based line in the file of the first damage.
    pub line: u64,
    /// What is wrong there (`a "=" not followed by two hex digits`).
    pub what: &'static str,
}

/// An attachment (any part that is not one of the message's bodies).
#[derive(Clone, Debug)]
pub struct Attachment {
    pub filename: Option<String>,
    /// `type/subtype`, lower case.
    pub content_type: String,
    /// Decoded content.
    pub data: Vec<u8>,
    /// 1-based line in the file where the part's headers start.
    pub line: u64,
}

/// A parsed draft.
#[derive(Clone, Debug)]
pub struct Draft {
    /// The path as the user gave it (for diagnostics).
    pub path: PathBuf,
    /// The file's raw bytes (for rendering source lines, and for sending).
    pub raw: Vec<u8>,
    /// The top-level headers, in file order.
    pub headers: Vec<HeaderLine>,
    /// The decoded subject, if any.
    pub subject: Option<String>,
    /// The body parts that a reader sees: the text/plain and text/html
    /// alternatives, in file order.
    pub parts: Vec<BodyPart>,
    pub attachments: Vec<Attachment>,
    /// How each part's lines map to the file's (by part index).
    pub(crate) line_maps: Vec<parse::LineMap>,
}

/// A draft that cannot be read or is not an e-mail message at all.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct DraftError {
    pub path: PathBuf,
    pub line: Option<u64>,
    pub message: String,
}

impl Draft {
    /// The first top-level header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&HeaderLine> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
    }

    /// Every top-level header with this name (case-insensitive).
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a HeaderLine> {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
    }
}

/// Helpers for the draft module's tests.
#[cfg(test)]
mod test_support {
    use std::path::{Path, PathBuf};

    use super::Draft;

    /// A file in `tests/data/draft/`.
    pub fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/draft")
            .join(name)
    }

    /// Loads a fixture that must parse.
    pub fn load(name: &str) -> Draft {
        Draft::load(&fixture(name)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Parses an in-memory draft that must parse.
    pub fn draft(text: &str) -> Draft {
        Draft::parse(Path::new("test.eml"), text.as_bytes().to_vec())
            .unwrap_or_else(|e| panic!("{e}"))
    }
}
