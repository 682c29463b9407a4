//! The one diagnostic type that every check produces and every output format
//! renders (SPEC §4).

use crate::levels::RuleId;
pub use crate::levels::{Scope, Severity};
pub use crate::span::{Place, Span};

/// A finding as a check reports it, before levels are applied. The rule's
/// scope comes from the registry; the severity from the [`crate::rules::Levels`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: RuleId,
    pub message: String,
    /// The recipient's address, for recipient diagnostics.
    pub recipient: Option<String>,
    /// The file the diagnostic points into (as given by the user).
    pub file: Option<String>,
    /// 1-based line in `file`.
    pub line: Option<u64>,
    /// The CSV column, the draft header or body part, or the config key.
    pub field: Option<String>,
    /// What on `line` the finding is about (a CSV header cell, a draft
    /// header, a TOML key or value), where that is known; reports underline
    /// it, and the whole line without one.
    pub span: Option<Span>,
}

impl Finding {
    /// A finding with only a rule and a message; locate it with the builder methods.
    pub fn new(rule: RuleId, message: impl Into<String>) -> Self {
        Finding {
            rule,
            message: message.into(),
            recipient: None,
            file: None,
            line: None,
            field: None,
            span: None,
        }
    }

    pub fn file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn line(mut self, line: impl Into<Option<u64>>) -> Self {
        self.line = line.into();
        self
    }

    /// The columns on the finding's line it is about (see [`Span`]).
    pub fn span(mut self, span: impl Into<Option<Span>>) -> Self {
        self.span = span.into();
        self
    }

    /// The line and columns of `place`, when there is one.
    pub fn at(mut self, place: impl Into<Option<Place>>) -> Self {
        if let Some(place) = place.into() {
            self.line = Some(place.line);
            self.span = Some(place.span);
        }
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn recipient(mut self, recipient: impl Into<String>) -> Self {
        self.recipient = Some(recipient.into());
        self
    }
}

/// A finding with its severity and scope settled: what the emitters render.
///
/// It borrows its text, so that reporting a diagnostic for each of millions
/// of rows allocates nothing; an emitter that keeps one keeps
/// [`Diagnostic::to_finding`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Diagnostic<'a> {
    pub rule: RuleId,
    pub severity: Severity,
    pub scope: Scope,
    pub message: &'a str,
    /// The recipient's address, for recipient diagnostics.
    pub recipient: Option<&'a str>,
    /// The file the diagnostic points into (as given by the user).
    pub file: Option<&'a str>,
    /// 1-based line in `file`.
    pub line: Option<u64>,
    /// The CSV column, the draft header or body part, or the config key.
    pub field: Option<&'a str>,
    /// What on `line` the diagnostic is about, where that is known.
    pub span: Option<Span>,
}

impl<'a> Diagnostic<'a> {
    /// `finding` reported with `severity` and `scope`.
    pub fn new(finding: &'a Finding, severity: Severity, scope: Scope) -> Self {
        Diagnostic {
            rule: finding.rule,
            severity,
            scope,
            message: &finding.message,
            recipient: finding.recipient.as_deref(),
            file: finding.file.as_deref(),
            line: finding.line,
            field: finding.field.as_deref(),
            span: finding.span,
        }
    }

    pub fn rule(&self) -> RuleId {
        self.rule
    }

    /// The finding, owned (severity and scope are the caller's to keep).
    pub fn to_finding(&self) -> Finding {
        Finding {
            rule: self.rule,
            message: self.message.to_owned(),
            recipient: self.recipient.map(str::to_owned),
            file: self.file.map(str::to_owned),
            line: self.line,
            field: self.field.map(str::to_owned),
            span: self.span,
        }
    }
}
