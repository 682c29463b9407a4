//! The gate (SPEC §5): `send` runs the whole lint first and refuses while
//! errors stand that sending would carry out.

use std::io;

use super::{SendError, SendOptions};
use crate::address_book::AddressBook;
use crate::campaign::Campaign;
use crate::diagnostic::{Diagnostic, Scope, Severity};
use crate::lint::{LintError, Outputs};
use crate::report::{Emitter, Summary};

/// The lint's verdict, as far as sending is concerned.
pub struct Gate {
    pub lint: Summary,
    /// Error-level diagnostics about the campaign, draft or list as a whole.
    pub blocking_errors: u64,
    /// Error-level diagnostics about single recipients.
    pub recipient_errors: u64,
    /// Who is sendable, and at which row.
    pub(super) addresses: AddressBook,
}

/// Counts errors by scope and passes every diagnostic on.
struct ScopeCounter<'e> {
    inner: &'e mut dyn Emitter,
    blocking: u64,
    recipient: u64,
}

impl Emitter for ScopeCounter<'_> {
    fn diagnostic(&mut self, d: &Diagnostic) -> io::Result<()> {
        if d.severity == Severity::Error {
            if d.scope == Scope::Recipient {
                self.recipient += 1;
            } else {
                self.blocking += 1;
            }
        }
        self.inner.diagnostic(d)
    }

    fn finish(&mut self, summary: &Summary, out: &mut dyn io::Write) -> io::Result<()> {
        self.inner.finish(summary, out)
    }

    fn note(&mut self, text: &str) {
        self.inner.note(text);
    }
}

/// Runs the whole lint; `report` receives its diagnostics (to show them).
pub fn gate(campaign: &Campaign, report: &mut dyn Emitter) -> Result<Gate, LintError> {
    let mut counter = ScopeCounter {
        inner: report,
        blocking: 0,
        recipient: 0,
    };
    let (lint, addresses) =
        crate::lint::lint_with_addresses(campaign, &mut counter, &Outputs::default())?;
    Ok(Gate {
        lint,
        blocking_errors: counter.blocking,
        recipient_errors: counter.recipient,
        addresses,
    })
}

impl Gate {
    /// Whether sending may start, and if not, why (SPEC §5: any campaign,
    /// draft or list error refuses; recipient errors refuse too unless
    /// `--skip-blocked`).
    pub fn check(&self, options: &SendOptions) -> Result<(), SendError> {
        if self.blocking_errors > 0 {
            return Err(SendError::Refused(format!(
                "not sending: {} error(s) in the campaign, draft or list must be fixed first \
                 (see the report above; `mailgate lint` shows the same)",
                self.blocking_errors
            )));
        }
        if self.recipient_errors > 0 && !options.skip_blocked {
            return Err(SendError::Refused(format!(
                "not sending: {} recipient(s) are blocked by {} error(s); fix them, or pass \
                 --skip-blocked to send only to the {} sendable",
                self.lint.blocked, self.recipient_errors, self.lint.sendable
            )));
        }
        Ok(())
    }
}
