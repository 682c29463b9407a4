//! `--format github`: GitHub Actions workflow commands
//! (`::error file=…,line=…,title=…::message`), which the Actions UI shows as
//! annotations on the file. Recipient rules are summarised like the human
//! format (GitHub shows only a handful of annotations per step anyway).

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{Emitter, Summary};
use crate::diagnostic::{Diagnostic, Scope, Severity};
use crate::escape;
use crate::rules::RuleId;

/// Recipient annotations written per rule before the rest are only counted.
const RECIPIENT_ANNOTATIONS: u64 = 10;

#[derive(Default)]
pub struct GithubEmitter {
    lines: Vec<String>,
    recipient_counts: BTreeMap<RuleId, (Severity, u64)>,
}

impl GithubEmitter {
    pub fn new() -> Self {
        Self::default()
    }
}

/// Escapes a workflow command's message. Control characters are shown
/// escaped first ([`escape::control_chars`]): a list value with a line
/// break must not start a workflow command of its own.
fn escape_data(s: &str) -> String {
    escape::control_chars(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

impl Emitter for GithubEmitter {
    fn diagnostic(&mut self, d: &Diagnostic) -> io::Result<()> {
        if d.scope == Scope::Recipient {
            let entry = self
                .recipient_counts
                .entry(d.rule())
                .or_insert((d.severity, 0));
            entry.1 += 1;
            if entry.1 > RECIPIENT_ANNOTATIONS {
                return Ok(());
            }
        }
        let f = d;
        let mut properties = Vec::new();
        if let Some(file) = f.file {
            properties.push(format!("file={}", escape_property(file)));
        }
        if let Some(line) = f.line {
            properties.push(format!("line={line}"));
        }
        properties.push(format!("title={}", escape_property(f.rule.name())));
        let message = match f.recipient {
            Some(r) => format!("{r}: {}", f.message),
            None => f.message.to_owned(),
        };
        self.lines.push(format!(
            "::{} {}::{}",
            command(d.severity),
            properties.join(","),
            escape_data(&message)
        ));
        Ok(())
    }

    fn plain(&self) -> bool {
        true
    }

    fn finish(&mut self, summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
        for line in &self.lines {
            writeln!(out, "{line}")?;
        }
        for (rule, (severity, count)) in &self.recipient_counts {
            if *count > RECIPIENT_ANNOTATIONS {
                writeln!(
                    out,
                    "::{} title={rule}::{count} recipients in all (first {RECIPIENT_ANNOTATIONS} shown)",
                    command(*severity)
                )?;
            }
        }
        writeln!(
            out,
            "mailgate: {} recipients, {} sendable, {} blocked; {} errors, {} warnings, {} infos",
            summary.recipients,
            summary.sendable,
            summary.blocked,
            summary.errors,
            summary.warnings,
            summary.infos
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_data("50% off\nnow"), "50%25 off\\nnow");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
