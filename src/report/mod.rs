//! Output formats. Every format renders the same [`Diagnostic`] stream behind
//! the small [`Emitter`] trait, one file per format (the ruff pattern).
//! Emitters receive diagnostics as the lint produces them and write their
//! output in [`Emitter::finish`], so memory stays bounded for any list size:
//! the human format keeps counts and a few examples per rule, JSON spills to
//! a temporary file.

mod github;
mod human;
mod json;
mod junit;
pub mod sarif;

pub use github::GithubEmitter;
pub use human::HumanEmitter;
pub use json::JsonEmitter;
pub use junit::JunitEmitter;
pub use sarif::SarifEmitter;

use std::io::{self, Write};

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

/// A renderer of diagnostics.
pub trait Emitter {
    /// Takes one diagnostic, in the order the lint produces them.
    fn diagnostic(&mut self, diagnostic: &Diagnostic) -> io::Result<()>;

    /// Writes the whole report.
    fn finish(&mut self, summary: &Summary, out: &mut dyn Write) -> io::Result<()>;
}

/// The version written into machine-readable output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
