//! Bad input (issue 3): a body that is not well-formed HTML, a header that
//! appears twice, an `.eml` without a body, a 50 MB attachment and a template
//! with an unclosed tag. Each must end in a diagnostic or a clear exit-2 error
//! that names the file — never a panic, and never a pass that hides the
//! problem.

use std::io::Write;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use base64::Engine;
use serde_json::Value;
use tempfile::TempDir;

#[path = "support/report_schema.rs"]
mod report_schema;

const CAMPAIGN: &str = r#"[campaign]
name = "Voorjaarsactie 2027"
draft = "draft.eml"
recipients = "recipients.csv"
product = "garden-furniture"
sender = "Tuincentrum De Linde B.V."
postal_address = "Lindelaan 12, 3901 AB Veenendaal"
unsubscribe_url = "https://delinde.example/afmelden?e={{ email | urlencode }}"
today = "2027-03-01"

[products]
garden = ["garden-furniture", "parasols", "bbq"]
"#;

const RECIPIENTS: &str = "email,first_name,consent_at,consent_source\n\
    ans@example.nl,Ans,2026-03-12,double opt-in formulier delinde.example/nieuwsbrief\n";

const HEADERS: &str = "From: Tuincentrum De Linde <nieuwsbrief@delinde.example>
To: undisclosed-recipients:;
Subject: Voorjaarsactie 2027 voor {{ first_name }}
List-Unsubscribe: <https://delinde.example/afmelden>, <mailto:afmelden@delinde.example>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
MIME-Version: 1.0
";

const PLAIN: &str = "Beste {{ first_name }},

Tijdens onze Voorjaarsactie 2027 krijgt u tot 25% korting op tuinmeubelen.

Tuincentrum De Linde B.V.
Lindelaan 12, 3901 AB Veenendaal

Geen nieuwsbrief meer ontvangen? Afmelden: {{ unsubscribe_url }}
";

const HTML: &str = r#"<html><body>
<p>Beste {{ first_name }},</p>
<p>Tijdens onze Voorjaarsactie 2027 krijgt u tot 25% korting op tuinmeubelen.</p>
<p>Tuincentrum De Linde B.V.<br>Lindelaan 12, 3901 AB Veenendaal</p>
<p>Geen nieuwsbrief meer ontvangen? <a href="{{ unsubscribe_url }}">Afmelden</a></p>
</body></html>
"#;

/// A multipart/alternative draft with these headers and bodies.
fn draft(headers: &str, plain: &str, html: &str) -> String {
    format!(
        "{headers}Content-Type: multipart/alternative; boundary=\"alt\"\n\n\
         --alt\nContent-Type: text/plain; charset=UTF-8\n\n{plain}\n\
         --alt\nContent-Type: text/html; charset=UTF-8\n\n{html}\n--alt--\n"
    )
}

/// A campaign folder holding `draft.eml` with these bytes.
fn campaign_with_draft(eml: &[u8]) -> TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("campaign.toml"), CAMPAIGN).expect("campaign.toml");
    std::fs::write(dir.path().join("recipients.csv"), RECIPIENTS).expect("recipients.csv");
    std::fs::write(dir.path().join("draft.eml"), eml).expect("draft.eml");
    dir
}

fn mailgate(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("mailgate").expect("the mailgate binary is built");
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(120));
    cmd
}

fn lint(dir: &Path) -> Output {
    mailgate(dir)
        .args(["lint", "campaign.toml", "--format", "json"])
        .output()
        .expect("mailgate runs")
}

fn context(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The diagnostics of a run that must have linted (exit 1: errors found),
/// after checking it did not panic.
#[track_caller]
fn linted_with_errors(output: &Output) -> Vec<Value> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{}", context(output));
    assert_eq!(output.status.code(), Some(1), "{}", context(output));
    report_schema::assert_valid(&output.stdout);
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", context(output)));
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .clone()
}

/// Asserts a run was refused with exit 2 and a message naming the draft
/// and saying `what`.
#[track_caller]
fn refused(output: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{}", context(output));
    assert_eq!(output.status.code(), Some(2), "{}", context(output));
    assert!(
        stderr.contains("draft.eml"),
        "names the file; {}",
        context(output)
    );
    assert!(stderr.contains(what), "says {what:?}; {}", context(output));
}

/// The one diagnostic of `rule`, with its field and line.
#[track_caller]
fn only(diagnostics: &[Value], rule: &str) -> (String, Option<u64>) {
    let found: Vec<&Value> = diagnostics.iter().filter(|d| d["rule"] == rule).collect();
    assert_eq!(found.len(), 1, "one {rule} in {diagnostics:#?}");
    assert!(
        found[0]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with(".eml")),
        "{rule} names the draft: {:#?}",
        found[0]
    );
    (
        found[0]["field"].as_str().unwrap_or_default().to_owned(),
        found[0]["line"].as_u64(),
    )
}

/// The 1-based line of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    let at = text.find(needle).expect("needle in text");
    text[..at].matches('\n').count() as u64 + 1
}

#[test]
fn the_base_draft_is_clean() {
    // So that every diagnostic below comes from the defect each test adds.
    let dir = campaign_with_draft(draft(HEADERS, PLAIN, HTML).as_bytes());
    let output = lint(dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", context(&output));
    report_schema::assert_valid(&output.stdout);
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["diagnostics"], Value::Array(Vec::new()));
}

#[test]
fn html_that_is_not_well_formed_is_read_as_a_browser_reads_it() {
    // Mis-nested and unclosed tags, a stray end tag, a truncated last line:
    // an HTML parser recovers as a browser does, and the opt-out is found.
    let html = HTML
        .replace(
            "<html><body>",
            "<html><body><div><table><tr><td><p>Welkom</td></div></span>",
        )
        .replace("</body></html>\n", "<p>Tot ziens<b><i>!</b>\n<p>Groet");
    let dir = campaign_with_draft(draft(HEADERS, PLAIN, &html).as_bytes());
    let output = lint(dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", context(&output));
}

#[test]
fn html_whose_broken_markup_swallows_the_opt_out_is_missing_opt_out() {
    // A missing closing quote: the link's href runs on into the text (up to
    // the next quote, or to the end, where the parser drops the tag).
    for broken in [
        r#"<p>Geen nieuwsbrief meer? <a href="{{ unsubscribe_url }}>Afmelden</a> of bezoek <a href="https://delinde.example/">de winkel</a></p>"#,
        r#"<p>Geen nieuwsbrief meer? <a href="{{ unsubscribe_url }}>Afmelden</a></p>"#,
    ] {
        let html = HTML.replace(
            r#"<p>Geen nieuwsbrief meer ontvangen? <a href="{{ unsubscribe_url }}">Afmelden</a></p>"#,
            broken,
        );
        let dir = campaign_with_draft(draft(HEADERS, PLAIN, &html).as_bytes());
        let diagnostics = linted_with_errors(&lint(dir.path()));
        let (field, _) = only(&diagnostics, "missing-opt-out");
        assert_eq!(field, "text/html", "{broken}");
    }
}

#[test]
fn from_twice_is_missing_sender_at_the_second() {
    let headers = HEADERS.replace(
        "To:",
        "From: Tuincentrum De Linde <info@delinde.example>\nTo:",
    );
    let eml = draft(&headers, PLAIN, HTML);
    let dir = campaign_with_draft(eml.as_bytes());
    let diagnostics = linted_with_errors(&lint(dir.path()));
    let (field, line) = only(&diagnostics, "missing-sender");
    assert_eq!(field, "From");
    assert_eq!(
        line,
        Some(line_of(&eml, "From: Tuincentrum De Linde <info@"))
    );
}

#[test]
fn list_unsubscribe_twice_is_invalid_at_the_second() {
    let headers = HEADERS.replace(
        "MIME-Version",
        "List-Unsubscribe: <https://delinde.example/uitschrijven>\nMIME-Version",
    );
    let eml = draft(&headers, PLAIN, HTML);
    let dir = campaign_with_draft(eml.as_bytes());
    let diagnostics = linted_with_errors(&lint(dir.path()));
    let (field, line) = only(&diagnostics, "invalid-list-unsubscribe");
    assert_eq!(field, "List-Unsubscribe");
    assert_eq!(
        line,
        Some(line_of(
            &eml,
            "List-Unsubscribe: <https://delinde.example/uit"
        ))
    );
}

#[test]
fn an_eml_without_a_body_is_refused_naming_the_file() {
    // Headers only, not even the empty line that ends them.
    let dir = campaign_with_draft(HEADERS.as_bytes());
    refused(&lint(dir.path()), "no body");
    // The empty line, then nothing.
    let dir = campaign_with_draft(format!("{HEADERS}\n\n\n").as_bytes());
    refused(&lint(dir.path()), "body is empty");
    // A multipart message whose only part is an attachment.
    let eml = format!(
        "{HEADERS}Content-Type: multipart/mixed; boundary=\"mix\"\n\n--mix\n\
         Content-Type: application/pdf; name=\"folder.pdf\"\n\
         Content-Disposition: attachment; filename=\"folder.pdf\"\n\
         Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--mix--\n"
    );
    let dir = campaign_with_draft(eml.as_bytes());
    refused(&lint(dir.path()), "no body");
}

#[test]
fn a_template_with_an_unclosed_tag_is_template_error_at_its_line() {
    let headers = HEADERS.replace("{{ first_name }}", "{{ first_name");
    let html = HTML.replace(
        "<p>Beste {{ first_name }},</p>",
        "{% if first_name %}\n<p>Beste {{ first_name }},</p>",
    );
    let eml = draft(&headers, PLAIN, &html);
    let dir = campaign_with_draft(eml.as_bytes());
    let diagnostics = linted_with_errors(&lint(dir.path()));
    let errors: Vec<(String, Option<u64>)> = diagnostics
        .iter()
        .filter(|d| d["rule"] == "template-error")
        .map(|d| {
            (
                d["field"].as_str().unwrap_or_default().to_owned(),
                d["line"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            ("Subject".to_owned(), Some(line_of(&eml, "Subject:"))),
            (
                "text/html".to_owned(),
                Some(line_of(&eml, "{% if first_name %}"))
            ),
        ],
        "{diagnostics:#?}"
    );
    // Nothing else: the broken templates' columns are not called unused.
    assert_eq!(diagnostics.len(), 2, "{diagnostics:#?}");
}

/// Appends a `size`-byte CSV attachment (base64, 76-character lines) to a
/// multipart/mixed draft, writing it piece by piece.
fn write_draft_with_csv_attachment(path: &Path, size: usize) {
    let file = std::fs::File::create(path).expect("draft.eml");
    let mut out = std::io::BufWriter::new(file);
    let headers = format!("{HEADERS}Content-Type: multipart/mixed; boundary=\"mix\"\n\n");
    let alternative = draft("", PLAIN, HTML);
    write!(
        out,
        "{headers}--mix\n{alternative}\n--mix\n\
         Content-Type: text/csv; name=\"klanten.csv\"\n\
         Content-Disposition: attachment; filename=\"klanten.csv\"\n\
         Content-Transfer-Encoding: base64\n\n"
    )
    .expect("write");
    // 57 bytes of CSV make one 76-character line of base64.
    let mut csv = Vec::with_capacity(size + 64);
    csv.extend_from_slice(b"email;naam\n");
    let mut i = 0u64;
    while csv.len() < size {
        writeln!(csv, "klant{i}@example.nl;Klant {i}").expect("write");
        i += 1;
    }
    csv.truncate(size);
    let engine = base64::engine::general_purpose::STANDARD;
    for chunk in csv.chunks(57) {
        out.write_all(engine.encode(chunk).as_bytes())
            .expect("write");
        out.write_all(b"\n").expect("write");
    }
    out.write_all(b"--mix--\n").expect("write");
    out.flush().expect("flush");
}

/// Address space for a lint of a draft with a 50 MB attachment: room for a
/// few copies of it, not for dozens.
const MEMORY_LIMIT_KIB: u64 = 600 * 1024;

/// The address-space cap needs `ulimit` (a POSIX shell).
#[cfg(unix)]
#[test]
fn a_50_mb_attachment_is_read_quickly_and_in_bounded_memory() {
    let dir = campaign_with_draft(b"");
    write_draft_with_csv_attachment(&dir.path().join("draft.eml"), 50 * 1024 * 1024);

    // The shell caps the address space, then becomes mailgate: an
    // allocation beyond the cap aborts the run and fails the test.
    let binary = assert_cmd::cargo::cargo_bin("mailgate");
    let started = Instant::now();
    let output = Command::new("sh")
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args([
            "-c",
            &format!(
                "ulimit -v {MEMORY_LIMIT_KIB} && exec \"$0\" lint campaign.toml --format json"
            ),
            &binary.to_string_lossy(),
        ])
        .timeout(Duration::from_secs(120))
        .output()
        .expect("mailgate runs");
    let elapsed = started.elapsed();

    let diagnostics = linted_with_errors(&output);
    let (field, _) = only(&diagnostics, "personal-data-attachment");
    assert_eq!(field, "klanten.csv");
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    // A debug build takes a few seconds on a small CI machine.
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}
