//! The span-aware walk of the campaign file's TOML document: every problem
//! becomes a [`ConfigError`] with its line, collected rather than returned.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::span::{Place, Span};
use crate::suggest::suggest;

/// One problem in the campaign file or the command-line settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based line in `path`; `None` for a problem with no place in the
    /// file (a missing setting, an unreadable file, a flag).
    pub line: Option<u64>,
    /// What on `line` is wrong (a key, a value), where that is known.
    pub span: Option<Span>,
    pub message: String,
}

impl ConfigError {
    /// A problem with no place in the file at `path`.
    pub fn unplaced(path: &Path, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.to_path_buf(),
            line: None,
            span: None,
            message: message.into(),
        }
    }
}

/// Every problem found, reported together.
#[derive(Clone, Debug)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Collects problems while walking the document.
pub(super) struct Reader<'a> {
    pub(super) path: &'a Path,
    pub(super) source: &'a str,
    pub(super) errors: Vec<ConfigError>,
}

impl Reader<'_> {
    pub(super) fn line_of(&self, offset: usize) -> u64 {
        let end = offset.min(self.source.len());
        self.source.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1
    }

    /// Where `range` (offsets into the file, from toml's spans) is.
    pub(super) fn place(&self, range: Range<usize>) -> Place {
        Span::locate(self.source.as_bytes(), range)
    }

    /// A problem with what is at `range` in the file (a key, a value).
    pub(super) fn error(&mut self, range: Range<usize>, message: impl Into<String>) {
        let place = self.place(range);
        self.errors.push(ConfigError {
            path: self.path.to_path_buf(),
            line: Some(place.line),
            span: Some(place.span),
            message: message.into(),
        });
    }

    /// A problem on the line of `offset`, with nothing on it to point at.
    pub(super) fn error_on_line(&mut self, offset: usize, message: impl Into<String>) {
        let line = Some(self.line_of(offset));
        self.errors.push(ConfigError {
            path: self.path.to_path_buf(),
            line,
            span: None,
            message: message.into(),
        });
    }

    /// Reports every key of `table` that is not in `known`, with a suggestion.
    pub(super) fn unknown_keys(&mut self, table: &DeTable<'_>, section: &str, known: &[&str]) {
        for (key, _) in table.iter() {
            let name: &str = key.get_ref();
            if !known.contains(&name) {
                let hint = suggest(name, known)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_else(|| format!("; expected one of: {}", known.join(", ")));
                self.error(
                    key.span(),
                    format!("unknown key `{name}` in [{section}]{hint}"),
                );
            }
        }
    }

    pub(super) fn string(&mut self, value: &Spanned<DeValue<'_>>, key: &str) -> Option<String> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            other => {
                let kind = other.type_str();
                self.error(
                    value.span(),
                    format!("`{key}` must be a string, not {kind}"),
                );
                None
            }
        }
    }

    pub(super) fn strings(
        &mut self,
        value: &Spanned<DeValue<'_>>,
        key: &str,
    ) -> Option<Vec<String>> {
        match value.get_ref() {
            DeValue::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    out.push(self.string(item, key)?);
                }
                Some(out)
            }
            other => {
                let kind = other.type_str();
                self.error(
                    value.span(),
                    format!("`{key}` must be an array of strings, not {kind}"),
                );
                None
            }
        }
    }

    /// A whole number from `min` to `max`; the message names that range.
    pub(super) fn integer(
        &mut self,
        value: &Spanned<DeValue<'_>>,
        key: &str,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        let parsed = match value.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => None,
        };
        match parsed {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.error(
                    value.span(),
                    format!("`{key}` must be a whole number from {min} to {max}"),
                );
                None
            }
        }
    }

    pub(super) fn table<'v, 'i>(
        &mut self,
        value: &'v Spanned<DeValue<'i>>,
        name: &str,
    ) -> Option<&'v DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.error(value.span(), format!("`{name}` must be a table: [{name}]"));
                None
            }
        }
    }
}
