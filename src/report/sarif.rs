//! `--format sarif`: SARIF 2.1.0 for code-scanning UIs, built from
//! serde-sarif's types. Results are streamed to a temporary file and spliced
//! into the log's single `results` array, so a long list never sits in memory.

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};

use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, Region,
    ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif,
    Tool, ToolComponent,
};

use super::source::SourceLines;
use super::{Emitter, Summary, VERSION};
use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::RULES;

/// Where the SARIF 2.1.0 schema lives (written into the log's `$schema`).
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub struct SarifEmitter {
    spill: BufWriter<File>,
    count: u64,
    /// Draft, campaign and list-header lines, for the columns of a region.
    sources: SourceLines,
}

impl SarifEmitter {
    pub fn new() -> io::Result<Self> {
        Ok(SarifEmitter {
            spill: BufWriter::with_capacity(1 << 16, tempfile::tempfile()?),
            count: 0,
            sources: SourceLines::default(),
        })
    }
}

/// The region of a finding at `line`: with the columns of what it points at
/// (its span, else the line but its indentation) when the line is one
/// mailgate reads back (draft, campaign file, a list's header). Columns are
/// UTF-16 code units, 1-based, as the run declares (`columnKind`).
fn region(sources: &mut SourceLines, d: &Diagnostic, file: &str, line: u64) -> Region {
    match sources.utf16_columns(d.scope, file, line, d.span) {
        Some((start, end)) => Region::builder()
            .start_line(line as i64)
            .start_column(start)
            .end_column(end)
            .build(),
        None => Region::builder().start_line(line as i64).build(),
    }
}

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

fn text(s: &str) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s).build()
}

/// The log with every rule's metadata and an empty `results` array.
fn envelope() -> Sarif {
    let rules: Vec<ReportingDescriptor> = RULES
        .iter()
        .map(|rule| {
            ReportingDescriptor::builder()
                .id(rule.name)
                .name(rule.name)
                .short_description(text(rule.summary))
                .full_description(text(rule.summary))
                .help(
                    MultiformatMessageString::builder()
                        .text(rule.explain)
                        .markdown(rule.explain)
                        .build(),
                )
                .default_configuration(
                    ReportingConfiguration::builder()
                        .level(serde_json::json!(
                            level(rule.default).to_string().to_lowercase()
                        ))
                        .build(),
                )
                .build()
        })
        .collect();
    let driver = ToolComponent::builder()
        .name("mailgate")
        .version(VERSION)
        .semantic_version(VERSION)
        .rules(rules)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        // SARIF's default, said outright: a reader that assumes another
        // unit would misplace every column after a non-ASCII character.
        .column_kind(serde_json::json!("utf16CodeUnits"))
        .results(Vec::new())
        .build();
    Sarif::builder()
        .schema(SCHEMA)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build()
}

impl Emitter for SarifEmitter {
    fn diagnostic(&mut self, d: &Diagnostic) -> io::Result<()> {
        let f = d;
        let mut message = f.message.to_owned();
        if let Some(recipient) = f.recipient {
            message = format!("{recipient}: {message}");
        }
        let mut result = SarifResult::builder()
            .rule_id(f.rule.name())
            .rule_index(f.rule as i64)
            .level(level(d.severity))
            .message(Message::builder().text(message).build())
            .build();
        if let Some(file) = f.file {
            let mut physical = PhysicalLocation::builder()
                .artifact_location(
                    ArtifactLocation::builder()
                        .uri(file.replace('\\', "/"))
                        .build(),
                )
                .build();
            if let Some(line) = f.line {
                physical.region = Some(region(&mut self.sources, d, file, line));
            }
            result.locations = Some(vec![
                Location::builder().physical_location(physical).build(),
            ]);
        }
        if self.count > 0 {
            self.spill.write_all(b",")?;
        }
        self.count += 1;
        serde_json::to_writer(&mut self.spill, &result).map_err(io::Error::from)
    }

    fn plain(&self) -> bool {
        true
    }

    fn finish(&mut self, _summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
        let log = serde_json::to_string(&envelope()).map_err(io::Error::from)?;
        // serde-sarif serialises the empty array as exactly this; the rule
        // texts cannot contain it because they are escaped JSON strings.
        const MARKER: &str = "\"results\":[]";
        let at = log
            .find(MARKER)
            .ok_or_else(|| io::Error::other("SARIF envelope has no results array"))?;
        out.write_all(&log.as_bytes()[..at])?;
        out.write_all(b"\"results\":[")?;
        self.spill.flush()?;
        let file = self.spill.get_mut();
        file.rewind()?;
        io::copy(file, out)?;
        out.write_all(b"]")?;
        out.write_all(&log.as_bytes()[at + MARKER.len()..])?;
        out.write_all(b"\n")
    }
}
