//! `--format json`: one object, `{"mailgate", "summary", "diagnostics"}`
//! (SPEC §4). The summary comes first but is known only at the end, so the
//! diagnostics are streamed to an anonymous temporary file and copied after it.

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};

use serde::Serialize;

use super::{Emitter, Summary, VERSION};
use crate::diagnostic::Diagnostic;

/// Streams diagnostics as JSON.
pub struct JsonEmitter {
    spill: BufWriter<File>,
    count: u64,
}

/// One diagnostic as SPEC §4 spells it.
#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    rule: &'a str,
    severity: &'a str,
    scope: &'a str,
    message: &'a str,
    recipient: Option<&'a str>,
    file: Option<&'a str>,
    line: Option<u64>,
    field: Option<&'a str>,
}

impl JsonEmitter {
    pub fn new() -> io::Result<Self> {
        Ok(JsonEmitter {
            spill: BufWriter::with_capacity(1 << 16, tempfile::tempfile()?),
            count: 0,
        })
    }
}

impl Emitter for JsonEmitter {
    fn diagnostic(&mut self, d: &Diagnostic) -> io::Result<()> {
        if self.count > 0 {
            self.spill.write_all(b",\n    ")?;
        }
        self.count += 1;
        let f = &d.finding;
        let record = JsonDiagnostic {
            rule: f.rule.name(),
            severity: d.severity.as_str(),
            scope: d.scope.as_str(),
            message: &f.message,
            recipient: f.recipient.as_deref(),
            file: f.file.as_deref(),
            line: f.line,
            field: f.field.as_deref(),
        };
        serde_json::to_writer(&mut self.spill, &record).map_err(io::Error::from)
    }

    fn finish(&mut self, summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
        write!(out, "{{\n  \"mailgate\": \"{VERSION}\",\n  \"summary\": ")?;
        serde_json::to_writer(&mut *out, summary).map_err(io::Error::from)?;
        out.write_all(b",\n  \"diagnostics\": [")?;
        if self.count > 0 {
            out.write_all(b"\n    ")?;
            self.spill.flush()?;
            let file = self.spill.get_mut();
            file.rewind()?;
            io::copy(file, out)?;
            out.write_all(b"\n  ")?;
        }
        out.write_all(b"]\n}\n")
    }
}
