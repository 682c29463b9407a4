//! Output formats. Every format renders the same [`Diagnostic`] stream behind
//! the small [`Emitter`] trait, one file per format (the ruff pattern).
//! Emitters receive diagnostics as the lint produces them and write their
//! output in [`Emitter::finish`], so memory stays bounded for any list size:
//! the human format keeps counts and a few examples per rule, JSON streams
//! into its file (or spills to a temporary one on the way to stdout).

mod config_errors;
mod github;
mod html;
mod human;
mod json;
mod junit;
pub mod preview;
mod redact;
pub mod sarif;
mod source;
mod write_behind;

pub use config_errors::render_config_errors;
pub use github::GithubEmitter;
pub use html::HtmlEmitter;
pub use human::HumanEmitter;
pub(crate) use human::thousands;
pub use json::JsonEmitter;
pub use junit::JunitEmitter;
pub use redact::Redact;
pub use sarif::SarifEmitter;

use std::fs::File;
use std::io::{self, BufWriter, Write};

use serde::Serialize;

use crate::diagnostic::Diagnostic;

/// The counts of SPEC §4's `summary`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Data rows read.
    pub recipients: u64,
    /// Distinct addresses that would be mailed.
    pub sendable: u64,
    /// Distinct addresses that would not.
    pub blocked: u64,
    pub errors: u64,
    pub warnings: u64,
    pub infos: u64,
}

/// One cell of a row that has diagnostics, for a format that shows the
/// values that decided (HTML): a column that maps to a logical field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell<'a> {
    /// The logical field's name (`consent_at`, `email`, …).
    pub field: &'static str,
    /// The column's header as written in the list.
    pub header: &'a str,
    pub value: &'a str,
}

/// The rendered message of one sendable recipient, as `send` would build
/// it, for a format that previews it (HTML).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preview {
    /// The recipient's row (its line in the list).
    pub line: u64,
    pub address: String,
    /// The From header, as `Name <address>`.
    pub from: String,
    pub subject: String,
    /// The text/plain body, when the draft has one.
    pub text: Option<String>,
    /// The text/html body, when the draft has one.
    pub html: Option<String>,
}

/// A renderer of diagnostics.
pub trait Emitter {
    /// Takes one diagnostic, in the order the lint produces them.
    fn diagnostic(&mut self, diagnostic: &Diagnostic) -> io::Result<()>;

    /// Writes the whole report.
    fn finish(&mut self, summary: &Summary, out: &mut dyn Write) -> io::Result<()>;

    /// True when the format shows the cells of rows with diagnostics: the
    /// lint then calls [`Emitter::cells`] after each such row's
    /// diagnostics. Asked once, before the first row.
    fn wants_cells(&self) -> bool {
        false
    }

    /// The cells of the row (at `line`) whose diagnostics were just given.
    fn cells(&mut self, line: u64, cells: &[Cell<'_>]) -> io::Result<()> {
        let _ = (line, cells);
        Ok(())
    }

    /// A note about the input that is no rule's finding (what a recognised
    /// export does not record): the human format prints it above the
    /// summary line; the machine formats, whose diagnostics are a stable
    /// contract, leave it out.
    fn note(&mut self, text: &str) {
        let _ = text;
    }

    /// True when the format previews the message of one sendable recipient.
    fn wants_preview(&self) -> bool {
        false
    }

    /// The message to preview, given before [`Emitter::finish`].
    fn preview(&mut self, preview: Preview) {
        let _ = preview;
    }

    /// True when [`Emitter::finish`] never writes ANSI styles, so that its
    /// output needs no stripping for a file or a pipe. The machine-readable
    /// formats say so: a JSON report of millions of diagnostics is better
    /// not passed byte by byte through a filter for escape codes. (The
    /// default, `false`, is the safe answer for an emitter that wraps
    /// another.)
    fn plain(&self) -> bool {
        false
    }

    /// Told, before the first diagnostic, that the report will go into
    /// `file` (a new file, later given to [`Emitter::finish_file`]): an
    /// emitter that can write its report in place starts doing so, rather
    /// than keep it elsewhere and copy it at the end. The default ignores it.
    fn stream_into(&mut self, file: &File) -> io::Result<()> {
        let _ = file;
        Ok(())
    }

    /// Writes the whole report into `file`, a new file: [`Emitter::finish`]
    /// through a buffer, with ANSI styles stripped (colour never goes into
    /// a file). An emitter that spills to a temporary file can instead copy
    /// it file to file, which the OS does without a round trip through the
    /// program.
    fn finish_file(&mut self, summary: &Summary, file: &mut File) -> io::Result<()> {
        let out = BufWriter::with_capacity(1 << 16, file.try_clone()?);
        if self.plain() {
            let mut out = out;
            self.finish(summary, &mut out)?;
            out.flush()
        } else {
            let out: Box<dyn Write> = Box::new(out);
            let mut out = anstream::StripStream::new(out);
            self.finish(summary, &mut out)?;
            out.flush()
        }
    }
}

/// The version written into machine-readable output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
