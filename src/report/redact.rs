//! `--redact` (SPEC §4): every format with `row N` where a recipient's
//! address would be. The default for `sarif`, `github` and `junit`, whose
//! reports end up in CI services' logs and alert databases (privacy by
//! default, GDPR art. 25).
//!
//! One wrapper for all formats, so that no format can forget it: the
//! recipient becomes `row N`, and a message that quotes the address (an
//! `invalid-address` message does) or any other address taken from the list
//! or an attachment has it replaced by [`REDACTED`]. Addresses in messages
//! about the draft's own headers (the sender's `From`, a list address in
//! `To`) are the sender's, kept in the campaign's repository anyway, and are
//! kept: they tell the developer what to fix.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Write};

use super::{Cell, Emitter, Preview, Summary};
use crate::diagnostic::{Diagnostic, Scope};
use crate::rules::RuleId;

/// What an address in a message is replaced with.
pub const REDACTED: &str = "[address]";

/// Wraps an emitter; see the module docs.
pub struct Redact {
    inner: Box<dyn Emitter>,
    /// `row N`, written anew for every recipient diagnostic.
    row: String,
}

impl Redact {
    pub fn new(inner: Box<dyn Emitter>) -> Self {
        Redact {
            inner,
            row: String::new(),
        }
    }
}

/// `row N` for a row's line (`row ?` should a recipient come without one).
fn write_row(out: &mut String, line: Option<u64>) {
    out.clear();
    out.push_str("row ");
    match line {
        Some(line) => out.push_str(itoa::Buffer::new().format(line)),
        None => out.push('?'),
    }
}

/// True when the diagnostic's message may quote an address from the list
/// (or from an attachment about to be sent to everyone).
fn quotes_personal_data(d: &Diagnostic) -> bool {
    matches!(d.scope, Scope::Recipient | Scope::List) || d.rule == RuleId::PersonalDataAttachment
}

/// `text` with `address` (when given and non-empty) and every token that
/// looks like an address (something@something) replaced by [`REDACTED`].
pub fn scrub<'a>(text: &'a str, address: Option<&str>) -> Cow<'a, str> {
    let mut text = Cow::Borrowed(text);
    if let Some(address) = address.filter(|a| !a.trim().is_empty())
        && text.contains(address)
    {
        text = Cow::Owned(text.replace(address, REDACTED));
    }
    if !text.contains('@') {
        return text;
    }
    // Tokens end at white space and at what commonly surrounds an address
    // in prose or a header (`<a@b>`, "a@b", `a@b`, (a@b), a@b, a@b;).
    let ends = |c: char| c.is_whitespace() || "`'\"<>()[]{},;".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest: &str = &text;
    while let Some(at) = rest.find('@') {
        let start = rest[..at].rfind(ends).map_or(0, |i| {
            i + rest[i..].chars().next().map_or(1, char::len_utf8)
        });
        let end = rest[at + 1..].find(ends).map_or(rest.len(), |i| at + 1 + i);
        let (local, domain) = (&rest[start..at], &rest[at + 1..end]);
        out.push_str(&rest[..start]);
        if local.is_empty() || domain.is_empty() {
            out.push_str(&rest[start..end]);
        } else {
            out.push_str(REDACTED);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

impl Emitter for Redact {
    fn diagnostic(&mut self, d: &Diagnostic) -> io::Result<()> {
        let message = if quotes_personal_data(d) {
            scrub(d.message, d.recipient)
        } else {
            Cow::Borrowed(d.message)
        };
        let recipient = match d.recipient {
            Some(_) => {
                write_row(&mut self.row, d.line);
                Some(self.row.as_str())
            }
            None => None,
        };
        self.inner.diagnostic(&Diagnostic {
            message: &message,
            recipient,
            ..*d
        })
    }

    fn wants_cells(&self) -> bool {
        self.inner.wants_cells()
    }

    fn note(&mut self, text: &str) {
        self.inner.note(text);
    }

    fn cells(&mut self, line: u64, cells: &[Cell<'_>]) -> io::Result<()> {
        let mut row = String::new();
        write_row(&mut row, Some(line));
        let scrubbed: Vec<Cow<'_, str>> = cells
            .iter()
            .map(|c| {
                if c.field == "email" {
                    Cow::Borrowed(row.as_str())
                } else {
                    scrub(c.value, None)
                }
            })
            .collect();
        let cells: Vec<Cell<'_>> = cells
            .iter()
            .zip(&scrubbed)
            .map(|(c, value)| Cell { value, ..*c })
            .collect();
        self.inner.cells(line, &cells)
    }

    fn wants_preview(&self) -> bool {
        self.inner.wants_preview()
    }

    fn preview(&mut self, preview: Preview) {
        let row = format!("row {}", preview.line);
        let address = preview.address.clone();
        let encoded: String = url_encoded(&address);
        let hide = |text: &str| {
            let text = text.replace(&address, &row).replace(&encoded, &row);
            scrub(&text, None).into_owned()
        };
        self.inner.preview(Preview {
            line: preview.line,
            address: row.clone(),
            from: preview.from,
            subject: hide(&preview.subject),
            text: preview.text.as_deref().map(hide),
            html: preview.html.as_deref().map(hide),
        });
    }

    fn plain(&self) -> bool {
        self.inner.plain()
    }

    fn stream_into(&mut self, file: &File) -> io::Result<()> {
        self.inner.stream_into(file)
    }

    fn finish(&mut self, summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
        self.inner.finish(summary, out)
    }

    fn finish_file(&mut self, summary: &Summary, file: &mut File) -> io::Result<()> {
        self.inner.finish_file(summary, file)
    }
}

/// The address as a URL query value (what `{{ email | urlencode }}` writes).
fn url_encoded(address: &str) -> String {
    let mut out = String::with_capacity(address.len() * 3);
    for byte in address.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_replaces_the_address_and_anything_like_one() {
        assert_eq!(
            scrub(
                "`jan@@x` is not a deliverable e-mail address",
                Some("jan@@x")
            ),
            "`[address]` is not a deliverable e-mail address"
        );
        assert_eq!(
            scrub(
                "`jan.example.nl` is not deliverable",
                Some("jan.example.nl")
            ),
            "`[address]` is not deliverable"
        );
        assert_eq!(
            scrub("mail <a.b@c.d>, (x@y); e@f.g and z@ and @ alone", None),
            "mail <[address]>, ([address]); [address] and z@ and @ alone"
        );
        assert_eq!(scrub("Zoë@exämple.nl!", None), "[address]");
        assert_eq!(scrub("no address here", Some("")), "no address here");
    }

    #[test]
    fn url_encoding_matches_the_template_filter() {
        assert_eq!(url_encoded("jan+x@example.nl"), "jan%2Bx%40example.nl");
    }
}
