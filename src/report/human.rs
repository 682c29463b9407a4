//! The human format: diagnostics grouped by rule, most serious first. Draft,
//! campaign and list findings are shown one by one; recipient findings as a
//! count with a few example rows ("no-consent: 4,212 recipients, e.g. rows
//! 17, 23, 31 …"), so a list of millions prints a screenful.
//!
//! Colour is written as ANSI styles; the caller's `anstream` stream strips
//! them when stdout is not a terminal or `NO_COLOR` is set.

use std::borrow::Cow;
use std::io::{self, Write};

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
use anstyle::{AnsiColor, Effects, Style};

use super::source::SourceLines;
use super::{Emitter, Summary};
use crate::diagnostic::{Diagnostic, Finding, Scope, Severity};
use crate::escape;
use crate::rules::RuleId;

/// Recipient examples kept per rule.
const RECIPIENT_EXAMPLES: usize = 3;
/// Draft/campaign/list diagnostics kept per rule (they are few in practice).
const OTHER_EXAMPLES: usize = 20;

struct Group {
    severity: Severity,
    scope: Scope,
    count: u64,
    examples: Vec<Finding>,
}

/// Collects counts and examples; prints in `finish`.
#[derive(Default)]
pub struct HumanEmitter {
    /// One group per rule reported, in the order first reported (`finish`
    /// sorts them).
    groups: Vec<(RuleId, Group)>,
    /// The place in `groups` of each rule's group, indexed by the rule's
    /// discriminant: a recipient diagnostic (one or more per row of a long
    /// list) finds its group with one indexed load, not a tree search.
    group_of: Vec<Option<usize>>,
    /// Lines of the draft and campaign files, read once when first shown.
    sources: SourceLines,
    /// [`Emitter::note`]s, shown above the summary line.
    notes: Vec<String>,
}

/// Renders a draft, campaign or CSV-header diagnostic the way rustc and
/// cargo-deny do: the offending source line with a caret under it.
fn snippet(
    f: &Finding,
    severity: Severity,
    scope: Scope,
    sources: &mut SourceLines,
) -> Option<String> {
    let (file, line) = (f.file.as_ref()?, f.line?);
    let (text, underline) = sources.shown(scope, file, line, f.span)?;
    let level = match severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    };
    let label = f.field.as_deref().unwrap_or("");
    let report = &[level
        .primary_title(f.message.as_str())
        .id(f.rule.name())
        .element(
            Snippet::source(text.as_str())
                .line_start(usize::try_from(line).ok()?)
                .path(file.as_str())
                .annotation(AnnotationKind::Primary.span(underline).label(label)),
        )];
    Some(Renderer::styled().render(report).to_string())
}

/// `finding` with control characters in its texts shown escaped: list
/// values must not drive the terminal (see [`escape::control_chars`]).
fn shown(mut finding: Finding) -> Finding {
    for text in [
        Some(&mut finding.message),
        finding.recipient.as_mut(),
        finding.file.as_mut(),
        finding.field.as_mut(),
    ]
    .into_iter()
    .flatten()
    {
        if let Cow::Owned(escaped) = escape::control_chars(text) {
            *text = escaped;
        }
    }
    finding
}

impl HumanEmitter {
    pub fn new() -> Self {
        Self::default()
    }
}

fn severity_style(severity: Severity) -> Style {
    let color = match severity {
        Severity::Error => AnsiColor::Red,
        Severity::Warning => AnsiColor::Yellow,
        Severity::Info => AnsiColor::Cyan,
    };
    Style::new()
        .fg_color(Some(color.into()))
        .effects(Effects::BOLD)
}

/// `4212` → `4,212`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

impl Emitter for HumanEmitter {
    fn note(&mut self, text: &str) {
        self.notes.push(text.to_owned());
    }

    fn diagnostic(&mut self, d: &Diagnostic) -> io::Result<()> {
        let rule = d.rule();
        let slot = rule as usize;
        if self.group_of.len() <= slot {
            self.group_of.resize(slot + 1, None);
        }
        let index = *self.group_of[slot].get_or_insert_with(|| {
            self.groups.push((
                rule,
                Group {
                    severity: d.severity,
                    scope: d.scope,
                    count: 0,
                    examples: Vec::new(),
                },
            ));
            self.groups.len() - 1
        });
        let group = &mut self.groups[index].1;
        group.count += 1;
        let keep = if d.scope == Scope::Recipient {
            RECIPIENT_EXAMPLES
        } else {
            OTHER_EXAMPLES
        };
        if group.examples.len() < keep {
            group.examples.push(shown(d.to_finding()));
        }
        Ok(())
    }

    fn finish(&mut self, summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
        let bold = Style::new().effects(Effects::BOLD);
        let dim = Style::new().effects(Effects::DIMMED);
        let mut groups: Vec<(&RuleId, &Group)> = self.groups.iter().map(|(r, g)| (r, g)).collect();
        // Errors first; within a severity, campaign → draft → list → recipients.
        groups.sort_by_key(|(rule, g)| (std::cmp::Reverse(g.severity), g.scope, **rule));
        for (rule, group) in &groups {
            let style = severity_style(group.severity);
            let severity = group.severity;
            if group.scope == Scope::Recipient {
                let rows: Vec<String> = group
                    .examples
                    .iter()
                    .filter_map(|f| f.line)
                    .map(|l| l.to_string())
                    .collect();
                let more = if group.count > group.examples.len() as u64 {
                    " …"
                } else {
                    ""
                };
                writeln!(
                    out,
                    "{style}{severity}{style:#}{bold}[{rule}]{bold:#}: {}, e.g. {} {}{more}",
                    plural(group.count, "recipient", "recipients"),
                    if rows.len() == 1 { "row" } else { "rows" },
                    rows.join(", "),
                )?;
                for f in &group.examples {
                    let at = match (&f.file, f.line) {
                        (Some(file), Some(line)) => format!("{file}:{line}"),
                        (Some(file), None) => file.clone(),
                        _ => String::new(),
                    };
                    let who = f.recipient.as_deref().unwrap_or("");
                    writeln!(out, "  {dim}{at}{dim:#} {who}: {}", f.message)?;
                }
            } else {
                for f in &group.examples {
                    match snippet(f, group.severity, group.scope, &mut self.sources) {
                        Some(rendered) => writeln!(out, "{rendered}")?,
                        None => {
                            let mut at = f.file.clone().unwrap_or_default();
                            if let Some(line) = f.line {
                                at.push_str(&format!(":{line}"));
                            }
                            // A field alone (a flag such as `--product`) is
                            // the whole location, not an empty one beside it.
                            match (&f.field, at.is_empty()) {
                                (Some(field), true) => at = field.clone(),
                                (Some(field), false) => at.push_str(&format!(" ({field})")),
                                (None, _) => {}
                            }
                            let at = if at.is_empty() { at } else { format!("{at}: ") };
                            writeln!(
                                out,
                                "{style}{severity}{style:#}{bold}[{rule}]{bold:#}: {at}{}",
                                f.message
                            )?;
                        }
                    }
                }
                let hidden = group.count - group.examples.len() as u64;
                if hidden > 0 {
                    writeln!(out, "  … and {} more", thousands(hidden))?;
                }
            }
        }
        if !groups.is_empty() {
            writeln!(out)?;
        }
        for note in &self.notes {
            let style = severity_style(Severity::Info);
            writeln!(out, "{style}note{style:#}: {note}")?;
        }
        if !self.notes.is_empty() {
            writeln!(out)?;
        }
        let verdict = if summary.errors > 0 {
            severity_style(Severity::Error)
        } else {
            Style::new()
                .fg_color(Some(AnsiColor::Green.into()))
                .effects(Effects::BOLD)
        };
        writeln!(
            out,
            "{verdict}{}{verdict:#}: {} sendable, {} blocked · {}, {}, {}",
            plural(summary.recipients, "recipient", "recipients"),
            thousands(summary.sendable),
            thousands(summary.blocked),
            plural(summary.errors, "error", "errors"),
            plural(summary.warnings, "warning", "warnings"),
            plural(summary.infos, "info", "infos"),
        )?;
        if let Some((rule, _)) = groups.first() {
            writeln!(
                out,
                "{dim}run `mailgate explain {rule}` for what a rule checks and how to fix it{dim:#}"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(4212), "4,212");
        assert_eq!(thousands(10_000_000), "10,000,000");
    }
}
