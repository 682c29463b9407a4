//! `--format json`: one object, `{"mailgate", "summary", "diagnostics"}`
//! (SPEC §4), diagnostics streamed as the lint produces them.
//!
//! The summary comes first but is known only at the end. Written to a
//! file (`--output`), the report goes straight into it: the head is written
//! first with room for the summary, and filled in with a seek at the end —
//! the summary is padded with spaces to a fixed width, which JSON allows
//! between tokens. Written to a stream (stdout), the diagnostics are
//! spilled to an anonymous temporary file and copied after the head. Both
//! give the same bytes.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

use super::{Emitter, Summary, VERSION};
use crate::diagnostic::Diagnostic;

/// The buffer for writing the diagnostics and for copying a spill out:
/// large, as a list of millions of rows may give a gigabyte of diagnostics.
const BUFFER: usize = 1 << 20;

/// Streams diagnostics as JSON.
pub struct JsonEmitter {
    /// Where diagnostics go as they come: a spill, or the report itself.
    out: BufWriter<File>,
    target: Target,
    count: u64,
    /// One diagnostic's JSON, built in memory and written at once (small
    /// appends to a `Vec` inline; to a `BufWriter` they do not).
    record: Vec<u8>,
}

/// What [`JsonEmitter::out`] is.
enum Target {
    /// A temporary file holding only the diagnostics.
    Spill,
    /// The report file, whose head (with room for the summary) starts at
    /// this offset.
    Report { head_at: u64 },
}

impl JsonEmitter {
    /// An emitter that spills to a temporary file until
    /// [`Emitter::stream_into`] gives it the report file.
    pub fn new() -> io::Result<Self> {
        Ok(JsonEmitter {
            out: BufWriter::with_capacity(BUFFER, tempfile::tempfile()?),
            target: Target::Spill,
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
        self.record.extend_from_slice(match self.count {
            0 => b"\n    ".as_slice(),
            _ => b",\n    ".as_slice(),
        });
        self.count += 1;
        write_diagnostic(&mut self.record, d)?;
        self.out.write_all(&self.record)
    }

    fn plain(&self) -> bool {
        true
    }

    /// From here on, diagnostics go straight into `file` (which must be
    /// the one later given to [`Emitter::finish_file`]) after room for the
    /// head. Only before the first diagnostic; later, the spill stays.
    fn stream_into(&mut self, file: &File) -> io::Result<()> {
        if self.count > 0 || matches!(self.target, Target::Report { .. }) {
            return Ok(());
        }
        let mut file = file.try_clone()?;
        let head_at = file.stream_position()?;
        let mut out = BufWriter::with_capacity(BUFFER, file);
        out.write_all(&head(None))?;
        self.out = out;
        self.target = Target::Report { head_at };
        Ok(())
    }

    fn finish(&mut self, summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
        let Target::Spill = self.target else {
            return Err(io::Error::other(
                "the JSON report was written into its file already",
            ));
        };
        out.write_all(&head(Some(summary)))?;
        let spill = self.rewound_spill()?;
        // io::copy would go 8 KiB at a time through `out`.
        let mut buffer = vec![0; BUFFER];
        loop {
            match spill.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => out.write_all(&buffer[..n])?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        out.write_all(tail(self.count))
    }

    /// Streamed into the file: the tail at the end, then the head with the
    /// summary over the room left for it. Spilled: the head, then the
    /// spill by `io::copy` from file to file (on Linux one
    /// `copy_file_range`, the kernel copying), then the tail.
    fn finish_file(&mut self, summary: &Summary, file: &mut File) -> io::Result<()> {
        match self.target {
            Target::Report { head_at } => {
                self.out.write_all(tail(self.count))?;
                self.out.flush()?;
                let report = self.out.get_mut();
                report.seek(SeekFrom::Start(head_at))?;
                report.write_all(&head(Some(summary)))?;
                report.seek(SeekFrom::End(0))?;
                Ok(())
            }
            Target::Spill => {
                file.write_all(&head(Some(summary)))?;
                io::copy(self.rewound_spill()?, file)?;
                file.write_all(tail(self.count))
            }
        }
    }
}

impl JsonEmitter {
    /// The spill file, flushed and at its start.
    fn rewound_spill(&mut self) -> io::Result<&mut File> {
        self.out.flush()?;
        let file = self.out.get_mut();
        file.rewind()?;
        Ok(file)
    }
}

/// The width the summary and its comma are padded to: that of the longest
/// summary there can be, so that the head has one length whatever the
/// counts.
fn summary_width() -> usize {
    let most = Summary {
        recipients: u64::MAX,
        sendable: u64::MAX,
        blocked: u64::MAX,
        errors: u64::MAX,
        warnings: u64::MAX,
        infos: u64::MAX,
    };
    summary_json(&most).len() + 1
}

fn summary_json(summary: &Summary) -> Vec<u8> {
    serde_json::to_vec(summary).unwrap_or_default()
}

/// Everything before the diagnostics, always of the same length: with the
/// summary padded by spaces, or (`None`) with spaces where it will go.
fn head(summary: Option<&Summary>) -> Vec<u8> {
    let mut head = format!("{{\n  \"mailgate\": \"{VERSION}\",\n  \"summary\": ").into_bytes();
    let room = head.len() + summary_width();
    if let Some(summary) = summary {
        head.extend_from_slice(&summary_json(summary));
        head.push(b',');
    }
    head.resize(room, b' ');
    head.extend_from_slice(b"\n  \"diagnostics\": [");
    head
}

/// Everything after the diagnostics.
fn tail(count: u64) -> &'static [u8] {
    match count {
        0 => b"]\n}\n",
        _ => b"\n  ]\n}\n",
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
    fn the_head_has_one_length_whatever_the_summary() {
        let small = Summary::default();
        let most = Summary {
            recipients: u64::MAX,
            sendable: u64::MAX,
            blocked: u64::MAX,
            errors: u64::MAX,
            warnings: u64::MAX,
            infos: u64::MAX,
        };
        let room = head(None);
        assert!(room.starts_with(b"{\n  \"mailgate\": "));
        for summary in [small, most] {
            let head = head(Some(&summary));
            assert_eq!(head.len(), room.len());
            // The summary, then only spaces up to the diagnostics.
            let text = String::from_utf8(head).unwrap();
            let json = serde_json::to_string(&summary).unwrap();
            let after = text.split_once(&format!("\"summary\": {json},")).unwrap().1;
            assert_eq!(after.trim_start_matches(' '), "\n  \"diagnostics\": [");
        }
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
