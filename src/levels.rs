//! The words rules are classified by: a finding's [`Severity`] and
//! [`Scope`], the [`Level`] a user gives a rule in `[rules]`, and the
//! [`Jurisdiction`] whose profile changes the defaults. A leaf: the
//! campaign file, the registry and the diagnostics all use it.

use std::fmt;

/// How serious a diagnostic is, after the rule's level has been applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// The name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a diagnostic is about (SPEC §4 `scope`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Campaign,
    Draft,
    List,
    Recipient,
}

impl Scope {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Recipient => "recipient",
            Scope::List => "list",
            Scope::Draft => "draft",
            Scope::Campaign => "campaign",
        }
    }
}

/// The level a user can give a rule in `[rules]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

/// Whose law the mailing is judged by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Jurisdiction {
    #[default]
    Nl,
    Eu,
    Us,
    Ca,
}

impl Jurisdiction {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "nl" => Some(Jurisdiction::Nl),
            "eu" => Some(Jurisdiction::Eu),
            "us" => Some(Jurisdiction::Us),
            "ca" => Some(Jurisdiction::Ca),
            _ => None,
        }
    }
}
