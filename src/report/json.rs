//! `--format json`: one object, `{"mailgate", "summary", "diagnostics"}`
//! (SPEC §4). The summary comes first but is known only at the end, so the
//! diagnostics are streamed to an anonymous temporary file and copied after it.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};

use super::{Emitter, Summary, VERSION};
use crate::diagnostic::Diagnostic;

/// The buffer for writing the spill file and for copying it out: large, as
/// a list of millions of rows may give a gigabyte of diagnostics.
const SPILL_BUFFER: usize = 1 << 20;

/// Streams diagnostics as JSON.
pub struct JsonEmitter {
    spill: BufWriter<File>,
    count: u64,
    /// One diagnostic's JSON, built in memory and written to the spill at
    /// once (small appends to a `Vec` inline; to a `BufWriter` they do not).
    record: Vec<u8>,
}

impl JsonEmitter {
    pub fn new() -> io::Result<Self> {
        Ok(JsonEmitter {
            spill: BufWriter::with_capacity(SPILL_BUFFER, tempfile::tempfile()?),
            count: 0,
            record: Vec::with_capacity(512),
        })
    }
}

impl Emitter for JsonEmitter {
    /// Writes one diagnostic as SPEC §4 spells it: the same bytes serde_json
    /// writes for the struct of the eight keys, but with no serialiser
    /// machinery per field — this runs for millions of rows.
    fn diagnostic(&mut self, d: &Diagnostic) -> io::Result<()> {
        self.record.clear();
        if self.count > 0 {
            self.record.extend_from_slice(b",\n    ");
        }
        self.count += 1;
        write_diagnostic(&mut self.record, d)?;
        self.spill.write_all(&self.record)
    }

    fn plain(&self) -> bool {
        true
    }

    fn finish(&mut self, summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
        self.write_head(summary, out)?;
        if self.count > 0 {
            let spill = self.rewound_spill()?;
            // io::copy would go 8 KiB at a time through `out`.
            let mut buffer = vec![0; SPILL_BUFFER];
            loop {
                match spill.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(n) => out.write_all(&buffer[..n])?,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        self.write_tail(out)
    }

    /// As [`JsonEmitter::finish`], but the diagnostics go from the spill to
    /// `file` by `io::copy` from file to file, which on Linux is one
    /// `copy_file_range`: the kernel copies the gigabyte a big list gives.
    fn finish_file(&mut self, summary: &Summary, file: &mut File) -> io::Result<()> {
        let mut head = BufWriter::new(&mut *file);
        self.write_head(summary, &mut head)?;
        head.flush()?;
        drop(head);
        if self.count > 0 {
            io::copy(self.rewound_spill()?, file)?;
        }
        let mut tail = BufWriter::new(file);
        self.write_tail(&mut tail)?;
        tail.flush()
    }
}

impl JsonEmitter {
    /// Everything before the diagnostics.
    fn write_head(&self, summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
        write!(out, "{{\n  \"mailgate\": \"{VERSION}\",\n  \"summary\": ")?;
        serde_json::to_writer(&mut *out, summary).map_err(io::Error::from)?;
        out.write_all(b",\n  \"diagnostics\": [")?;
        if self.count > 0 {
            out.write_all(b"\n    ")?;
        }
        Ok(())
    }

    /// Everything after the diagnostics.
    fn write_tail(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.count > 0 {
            out.write_all(b"\n  ")?;
        }
        out.write_all(b"]\n}\n")
    }

    /// The spill file, flushed and at its start.
    fn rewound_spill(&mut self) -> io::Result<&mut File> {
        self.spill.flush()?;
        let file = self.spill.get_mut();
        file.rewind()?;
        Ok(file)
    }
}

fn write_diagnostic(out: &mut impl Write, d: &Diagnostic) -> io::Result<()> {
    // Rule, severity and scope names are plain ASCII: written as they are.
    out.write_all(b"{\"rule\":\"")?;
    out.write_all(d.rule.name().as_bytes())?;
    out.write_all(b"\",\"severity\":\"")?;
    out.write_all(d.severity.as_str().as_bytes())?;
    out.write_all(b"\",\"scope\":\"")?;
    out.write_all(d.scope.as_str().as_bytes())?;
    out.write_all(b"\",\"message\":")?;
    write_str(out, d.message)?;
    out.write_all(b",\"recipient\":")?;
    write_opt_str(out, d.recipient)?;
    out.write_all(b",\"file\":")?;
    write_opt_str(out, d.file)?;
    out.write_all(b",\"line\":")?;
    match d.line {
        Some(line) => write_u64(out, line)?,
        None => out.write_all(b"null")?,
    }
    out.write_all(b",\"field\":")?;
    write_opt_str(out, d.field)?;
    out.write_all(b"}")
}

fn write_opt_str(out: &mut impl Write, s: Option<&str>) -> io::Result<()> {
    match s {
        Some(s) => write_str(out, s),
        None => out.write_all(b"null"),
    }
}

/// A number in decimal, without the formatting machinery (which costs more
/// than all the rest of a diagnostic).
fn write_u64(out: &mut impl Write, mut n: u64) -> io::Result<()> {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.write_all(&digits[start..])
}

/// A JSON string. Text without a quote, backslash or control character (as
/// good as all of it) is written as it is; anything else goes through
/// serde_json's escaping.
fn write_str(out: &mut impl Write, s: &str) -> io::Result<()> {
    // No early exit, so that the check vectorises: most strings are short.
    let escape = s.bytes().fold(false, |escape, b| {
        escape | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if escape {
        serde_json::to_writer(out, s).map_err(io::Error::from)
    } else {
        out.write_all(b"\"")?;
        out.write_all(s.as_bytes())?;
        out.write_all(b"\"")
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::*;
    use crate::diagnostic::{Scope, Severity};
    use crate::rules::RuleId;

    /// What the emitter used to serialise with serde_json.
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

    #[test]
    fn numbers_in_decimal() {
        for n in [0, 7, 10, 99, 1_000_003, u64::MAX] {
            let mut out = Vec::new();
            write_u64(&mut out, n).unwrap();
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let texts = [
            "plain text",
            "",
            "Zoë's “quoted” café ✓",
            "a \"quote\" and a \\ backslash",
            "line\nbreak\ttab\r\u{1}\u{1f}",
            "\u{7f} del and </script>",
        ];
        for (i, text) in texts.iter().enumerate() {
            let line = [0, 7, 10, 99, 1_000_003, u64::MAX][i % 6];
            let optional = (i % 2 == 0).then_some(*text);
            let d = Diagnostic {
                rule: RuleId::NoConsent,
                severity: Severity::Error,
                scope: Scope::Recipient,
                message: text,
                recipient: optional,
                file: Some(text),
                line: (i % 3 != 0).then_some(line),
                field: optional,
            };
            let mut ours = Vec::new();
            write_diagnostic(&mut ours, &d).unwrap();
            let theirs = serde_json::to_vec(&JsonDiagnostic {
                rule: d.rule.name(),
                severity: d.severity.as_str(),
                scope: d.scope.as_str(),
                message: d.message,
                recipient: d.recipient,
                file: d.file,
                line: d.line,
                field: d.field,
            })
            .unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap()
            );
        }
    }
}
