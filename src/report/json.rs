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
use std::io::{self, Read, Seek, SeekFrom, Write};

use super::write_behind::WriteBehind;
use super::{Emitter, Summary, VERSION};
use crate::bytes::needs_escape;
use crate::diagnostic::Diagnostic;
use crate::rules::RULES;

/// Streams diagnostics as JSON.
pub struct JsonEmitter {
    /// Where diagnostics go as they come (`None` once finished).
    out: Option<WriteBehind>,
    target: Target,
    count: u64,
    writer: DiagnosticWriter,
}

/// What [`JsonEmitter::out`] writes to.
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
            out: Some(WriteBehind::new(tempfile::tempfile()?)?),
            target: Target::Spill,
            count: 0,
            writer: DiagnosticWriter::default(),
        })
    }

    /// The diagnostics written so far, their file given back: rewound for a
    /// spill, at the end for the report itself.
    fn finish_out(&mut self) -> io::Result<File> {
        let out = self
            .out
            .take()
            .ok_or_else(|| io::Error::other("the JSON report was finished already"))?;
        let mut file = out.finish()?;
        if let Target::Spill = self.target {
            file.rewind()?;
        }
        Ok(file)
    }
}

impl Emitter for JsonEmitter {
    fn diagnostic(&mut self, d: &Diagnostic) -> io::Result<()> {
        let Some(out) = self.out.as_mut() else {
            return Err(io::Error::other("the JSON report was finished already"));
        };
        let buffer = out.buffer();
        buffer.extend_from_slice(match self.count {
            0 => b"\n    ".as_slice(),
            _ => b",\n    ".as_slice(),
        });
        self.count += 1;
        self.writer.write(buffer, d);
        out.hand_over_if_full()
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
        file.write_all(&head(None))?;
        // The unused spill's thread ends; its file was never named.
        self.finish_out()?;
        self.out = Some(WriteBehind::new(file)?);
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
        let mut spill = self.finish_out()?;
        // io::copy would go 8 KiB at a time through `out`.
        let mut buffer = vec![0; 1 << 20];
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
                let mut report = self.finish_out()?;
                report.write_all(tail(self.count))?;
                report.seek(SeekFrom::Start(head_at))?;
                report.write_all(&head(Some(summary)))?;
                report.seek(SeekFrom::End(0))?;
                Ok(())
            }
            Target::Spill => {
                file.write_all(&head(Some(summary)))?;
                io::copy(&mut self.finish_out()?, file)?;
                file.write_all(tail(self.count))
            }
        }
    }
}

/// The width the summary and its comma are padded to: that of the longest
/// summary there can be, so that the head has one length whatever the
/// counts.
fn summary_width() -> usize {
    summary_json(&LONGEST_SUMMARY).len() + 1
}

/// The summary with the most digits there can be.
const LONGEST_SUMMARY: Summary = Summary {
    recipients: u64::MAX,
    sendable: u64::MAX,
    blocked: u64::MAX,
    errors: u64::MAX,
    warnings: u64::MAX,
    infos: u64::MAX,
};

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

/// Writes diagnostics as SPEC §4 spells them: the same bytes serde_json
/// writes for the struct of the eight keys, without serialiser machinery
/// per field — this runs for millions of rows. What repeats from one
/// diagnostic to the next is formatted once and copied after: by rule,
/// severity and scope, everything up to the recipient (most rules give
/// every row the same message), and the field with the closing brace;
/// and the file.
#[derive(Default)]
struct DiagnosticWriter {
    /// By rule, severity and scope, made on first use.
    kinds: Vec<Option<KindParts>>,
    /// The last file written and its `,"file":…,"line":` part.
    file: Option<(String, Vec<u8>)>,
}

/// The JSON of one rule, severity and scope, and what its last diagnostic
/// was written with.
struct KindParts {
    /// `{"rule":…,"severity":…,"scope":…,"message":`.
    prefix: Box<[u8]>,
    /// The last diagnostic's message.
    message: String,
    /// `prefix`, `message` and `,"recipient":` — made once the same message
    /// comes a second time in a row (empty until then): rules whose
    /// message holds a date or a value differ from row to row.
    head: Vec<u8>,
    /// The last diagnostic's field, and `,"field":…}` for it.
    field: Option<String>,
    tail: Vec<u8>,
}

const SEVERITIES: usize = 3;
const SCOPES: usize = 4;

impl DiagnosticWriter {
    fn write(&mut self, out: &mut Vec<u8>, d: &Diagnostic) {
        if self.kinds.is_empty() {
            self.kinds = (0..RULES.len() * SEVERITIES * SCOPES)
                .map(|_| None)
                .collect();
        }
        let index =
            (d.rule as usize * SEVERITIES + d.severity as usize) * SCOPES + d.scope as usize;
        let parts = self.kinds[index].get_or_insert_with(|| KindParts::new(d));
        if parts.message == d.message {
            if parts.head.is_empty() {
                parts.head.extend_from_slice(&parts.prefix);
                write_str(&mut parts.head, d.message);
                parts.head.extend_from_slice(b",\"recipient\":");
            }
            out.extend_from_slice(&parts.head);
        } else {
            parts.message.clear();
            parts.message.push_str(d.message);
            parts.head.clear();
            out.extend_from_slice(&parts.prefix);
            write_str(out, d.message);
            out.extend_from_slice(b",\"recipient\":");
        }
        write_opt_str(out, d.recipient);
        match (&self.file, d.file) {
            (Some((file, json)), Some(this)) if file == this => out.extend_from_slice(json),
            _ => {
                let mut json = b",\"file\":".to_vec();
                write_opt_str(&mut json, d.file);
                json.extend_from_slice(b",\"line\":");
                out.extend_from_slice(&json);
                self.file = d.file.map(|file| (file.to_owned(), json));
            }
        }
        match d.line {
            Some(line) => out.extend_from_slice(itoa::Buffer::new().format(line).as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        if parts.field.as_deref() != d.field || parts.tail.is_empty() {
            parts.field = d.field.map(str::to_owned);
            parts.tail.clear();
            parts.tail.extend_from_slice(b",\"field\":");
            write_opt_str(&mut parts.tail, d.field);
            parts.tail.push(b'}');
        }
        out.extend_from_slice(&parts.tail);
    }
}

impl KindParts {
    /// The parts of `d`'s rule, severity and scope, before any diagnostic
    /// of theirs is written.
    fn new(d: &Diagnostic) -> Self {
        let prefix = format!(
            "{{\"rule\":\"{}\",\"severity\":\"{}\",\"scope\":\"{}\",\"message\":",
            d.rule.name(),
            d.severity.as_str(),
            d.scope.as_str()
        );
        KindParts {
            prefix: prefix.into_bytes().into_boxed_slice(),
            message: String::new(),
            head: Vec::new(),
            field: None,
            tail: Vec::new(),
        }
    }
}

fn write_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => write_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// A JSON string. Text without a quote, backslash or control character (as
/// good as all of it) is written as it is; anything else goes through
/// serde_json's escaping.
fn write_str(out: &mut Vec<u8>, s: &str) {
    if needs_escape(s.as_bytes()) {
        // Writing JSON into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
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
        let room = head(None);
        assert!(room.starts_with(b"{\n  \"mailgate\": "));
        for summary in [small, LONGEST_SUMMARY] {
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
    fn needs_escape_is_exact() {
        let simple = |bytes: &[u8]| bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
        // Every byte value at every position of strings up to 20 bytes,
        // among letters, high bytes and the bytes next to the ones sought.
        for len in 0..20 {
            for position in 0..len {
                for byte in 0..=255u8 {
                    let mut text = vec![b'a'; len];
                    for (i, b) in text.iter_mut().enumerate() {
                        *b = [b'a', 0xc3, 0xa9, b'!', b'#', b'[', b']', 0x7f, 0x20][i % 9];
                    }
                    text[position] = byte;
                    assert_eq!(needs_escape(&text), simple(&text), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn what_is_kept_from_one_diagnostic_to_the_next_never_shows() {
        // Random runs of diagnostics whose message, recipient, file and
        // field change, or not, between values that need escaping, empty
        // ones and none, within one rule, severity and scope and across
        // them: each must come out as serde_json writes it alone.
        const TEXTS: [&str; 6] = ["", "same message", "Zoë \"q\"", "x\u{1}", "1234567\"", "\\"];
        let mut rng = fastrand::Rng::with_seed(3);
        let mut writer = DiagnosticWriter::default();
        for _ in 0..20_000 {
            let text = |rng: &mut fastrand::Rng| TEXTS[rng.usize(..TEXTS.len())];
            let maybe = |rng: &mut fastrand::Rng| rng.bool().then(|| text(rng));
            let d = Diagnostic {
                rule: [RuleId::NoConsent, RuleId::DuplicateAddress][rng.usize(..2)],
                severity: [Severity::Error, Severity::Warning][rng.usize(..2)],
                scope: [Scope::Recipient, Scope::List][rng.usize(..2)],
                message: text(&mut rng),
                recipient: maybe(&mut rng),
                file: maybe(&mut rng),
                line: rng.bool().then(|| rng.u64(..)),
                field: maybe(&mut rng),
                span: None,
            };
            let mut ours = Vec::new();
            writer.write(&mut ours, &d);
            assert_eq!(String::from_utf8(ours).unwrap(), serde_text(&d));
        }
    }

    /// What serde_json writes for `d`.
    fn serde_text(d: &Diagnostic) -> String {
        serde_json::to_string(&JsonDiagnostic {
            rule: d.rule.name(),
            severity: d.severity.as_str(),
            scope: d.scope.as_str(),
            message: d.message,
            recipient: d.recipient,
            file: d.file,
            line: d.line,
            field: d.field,
        })
        .unwrap()
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
        let rules = [
            RuleId::NoConsent,
            RuleId::DuplicateAddress,
            RuleId::MissingSender,
        ];
        let severities = [Severity::Error, Severity::Warning, Severity::Info];
        let scopes = [Scope::Recipient, Scope::List, Scope::Draft, Scope::Campaign];
        let files = [
            Some("r.csv"),
            Some("r.csv"),
            None,
            Some("d\"1\".eml"),
            Some("r.csv"),
        ];
        // One writer for all, twice over, so that what it keeps from one
        // diagnostic to the next (prefixes, the file) is what is checked.
        let mut writer = DiagnosticWriter::default();
        for round in 0..2 {
            for (i, text) in texts.iter().enumerate() {
                for (j, file) in files.iter().enumerate() {
                    let k = i + j + round;
                    let line = [0, 7, 10, 99, 1_000_003, u64::MAX][k % 6];
                    let optional = (k % 2 == 0).then_some(*text);
                    let d = Diagnostic {
                        rule: rules[k % rules.len()],
                        severity: severities[k % severities.len()],
                        scope: scopes[k % scopes.len()],
                        message: text,
                        recipient: optional,
                        file: *file,
                        line: (k % 3 != 0).then_some(line),
                        field: optional,
                        span: None,
                    };
                    let mut ours = b"before ".to_vec();
                    writer.write(&mut ours, &d);
                    assert_eq!(
                        String::from_utf8(ours).unwrap(),
                        format!("before {}", serde_text(&d))
                    );
                }
            }
        }
    }
}
