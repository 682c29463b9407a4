//! Input mailgate cannot work with: one clear message naming the file (and
//! line), exit code 2, no panic, and no half-written output.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

#[path = "support/report_schema.rs"]
mod report_schema;

const DRAFT: &str = "From: Shop <news@shop.example>\r\nTo: news@shop.example\r\n\
Subject: Hallo {{ first_name }}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Beste {{ first_name }}, afmelden: {{ unsubscribe_url }}\r\n";

fn lint(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("mailgate")
        .unwrap()
        .current_dir(dir)
        .arg("lint")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn assert_tool_error(output: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "stderr lacks {needle:?}: {stderr}");
    }
}

fn case(csv: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.csv"), csv).unwrap();
    std::fs::write(dir.path().join("d.eml"), DRAFT).unwrap();
    dir
}

const FLAGS: &[&str] = &[
    "--recipients",
    "r.csv",
    "--draft",
    "d.eml",
    "--product",
    "bbq",
];

#[test]
fn unbalanced_quote_names_the_line_where_it_opened() {
    let dir = case(
        b"email,first_name\njan@example.nl,Jan\n\"piet@example.nl,Piet\nkees@example.nl,Kees\n",
    );
    assert_tool_error(&lint(dir.path(), FLAGS), &["r.csv:3", "quote"]);
}

#[test]
fn binary_garbage_is_not_a_csv() {
    let mut bytes = b"email,first_name\n".to_vec();
    bytes.extend((0..4000u32).map(|i| (i * 7919 % 256) as u8));
    let dir = case(&bytes);
    assert_tool_error(&lint(dir.path(), FLAGS), &["r.csv"]);
}

#[test]
fn missing_files_are_named() {
    let dir = case(b"email\njan@example.nl\n");
    let output = lint(
        dir.path(),
        &["--recipients", "nope.csv", "--draft", "d.eml"],
    );
    assert_tool_error(&output, &["nope.csv"]);
    let output = lint(
        dir.path(),
        &["--recipients", "r.csv", "--draft", "nope.eml"],
    );
    assert_tool_error(&output, &["nope.eml"]);
    let output = lint(dir.path(), &["missing-campaign.toml"]);
    assert_tool_error(&output, &["missing-campaign.toml"]);
}

#[test]
fn a_draft_that_is_no_message() {
    let dir = case(b"email\njan@example.nl\n");
    std::fs::write(
        dir.path().join("d.eml"),
        "email,first_name\njan@example.nl,Jan\n",
    )
    .unwrap();
    assert_tool_error(&lint(dir.path(), FLAGS), &["d.eml"]);
}

#[test]
fn a_bad_row_is_a_diagnostic_not_the_end_of_the_run() {
    // A short row, an empty address and a garbage date: diagnostics on those
    // rows, and the rows after them are still judged.
    let dir = case(
        b"email,first_name,consent_at,consent_source\n\
          jan@example.nl\n\
          ,Leeg,2026-01-01,form\n\
          piet@example.nl,Piet,gisteren,form\n\
          kees@example.nl,Kees,2026-01-01,form\n",
    );
    let output = lint(
        dir.path(),
        &[
            "--recipients",
            "r.csv",
            "--draft",
            "d.eml",
            "--product",
            "bbq",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    report_schema::assert_valid(&output.stdout);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["summary"]["recipients"], 4);
    assert_eq!(json["summary"]["sendable"], 1, "{json}");
    let rules: Vec<(String, u64)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["scope"] == "recipient")
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(rules.contains(&("no-consent".to_owned(), 2)), "{rules:?}");
    assert!(
        rules.contains(&("invalid-address".to_owned(), 3)),
        "{rules:?}"
    );
    assert!(rules.contains(&("invalid-date".to_owned(), 4)), "{rules:?}");
}

#[test]
fn a_failed_run_leaves_no_half_written_report() {
    let dir = case(b"email,first_name\njan@example.nl,Jan\n\"piet@example.nl,Piet\n");
    assert_no_report_after_failure(&dir, &["r.csv:"]);
}

#[test]
fn a_failure_after_megabytes_of_streamed_report_leaves_nothing_either() {
    // The JSON report is streamed into its file while the list is read:
    // here several megabytes of no-consent diagnostics are in it when the
    // unclosed quote on the last line stops the run.
    let mut csv = b"email,first_name\n".to_vec();
    for i in 0..20_000 {
        csv.extend_from_slice(format!("person{i}@example.nl,Jan\n").as_bytes());
    }
    csv.extend_from_slice(b"\"piet@example.nl,Piet\n");
    let dir = case(&csv);
    assert_no_report_after_failure(&dir, &["r.csv:"]);
}

#[test]
fn a_value_past_the_last_header_stops_the_lint_at_its_line() {
    // `de Vries, Piet` unquoted: the consent date lands under
    // consent_source and the source past the header. Judged as it stands,
    // the row's values would be under the wrong headers.
    let dir = case(
        b"email;last_name;consent_at;consent_source\n\
          jan@example.nl;Jansen;2026-01-01;form\n\
          piet@example.nl;de Vries; Piet;2026-01-01;form\n",
    );
    assert_no_report_after_failure(
        &dir,
        &["r.csv:3:", "5 values but the header names 4 columns", "`;`"],
    );
}

#[test]
fn empty_values_past_the_last_header_are_read_as_nothing() {
    // Some exports end every row with a delimiter or two.
    let dir = case(b"email,first_name\njan@example.nl,Jan,,\npiet@example.nl,Piet, ,\n");
    let mut args = FLAGS.to_vec();
    args.extend(["--format", "json"]);
    let output = lint(dir.path(), &args);
    // Judged as usual: two non-customers without consent.
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    report_schema::assert_valid(&output.stdout);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"]["recipients"], 2);
    let rules: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["scope"] == "recipient")
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["no-consent", "no-consent"], "{report}");
}

/// How the message about a quote that is never closed begins.
const NEVER_CLOSED: &str = "a quoted field opened on this line is never closed";

#[test]
fn a_quote_opened_at_the_end_of_the_last_line_is_never_closed() {
    // The opening quote is the last thing in the file but the line end:
    // its field holds just that line end.
    let dir = case(b"email,first_name\njan@example.nl,Jan\nx@example.nl,\"\n");
    assert_no_report_after_failure(&dir, &["r.csv:3:", NEVER_CLOSED]);
}

#[test]
fn a_quote_opened_at_the_end_of_a_semicolon_list_is_never_closed() {
    let dir = case(b"email;first_name\r\njan@example.nl;Jan\r\nx@example.nl;\"\r\n");
    assert_no_report_after_failure(&dir, &["r.csv:3:", NEVER_CLOSED]);
}

#[test]
fn a_quote_opened_as_the_last_byte_is_never_closed() {
    let dir = case(b"email,first_name\njan@example.nl,Jan\nx@example.nl,\"");
    assert_no_report_after_failure(&dir, &["r.csv:3:", NEVER_CLOSED]);
}

#[test]
fn a_quote_opened_before_the_last_lines_is_never_closed() {
    // The lines after it are swallowed into its field; the last one ends
    // in a doubled quote, which is a `"` in the value, not its end.
    let dir = case(
        b"email,first_name\njan@example.nl,Jan\nx@example.nl,\"Piet\n\
          kees@example.nl,Kees\nklaas@example.nl,\"\"\n",
    );
    assert_no_report_after_failure(&dir, &["r.csv:3:", NEVER_CLOSED]);
}

/// Lints the list in `dir` with a consent column, so that its rows are
/// sendable, and returns the cleaned list (`--sendable-out`).
fn sendable_list(dir: &tempfile::TempDir) -> String {
    // The names go into the body only: a line break in a Subject value is
    // refused (invalid-merge-value), which is not what these lists test.
    std::fs::write(
        dir.path().join("d.eml"),
        DRAFT.replace("Subject: Hallo {{ first_name }}", "Subject: Hallo"),
    )
    .unwrap();
    let output = lint(
        dir.path(),
        &[
            "--recipients",
            "r.csv",
            "--draft",
            "d.eml",
            "--product",
            "bbq",
            "--sendable-out",
            "clean.csv",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    std::fs::read_to_string(dir.path().join("clean.csv")).unwrap()
}

const CONSENT_HEADER: &str = "email,consent_at,consent_source,first_name\n";

/// Lints a list whose last row ends in `last` (a quoted value), followed by
/// each of `ends`, and checks that the row comes out in the cleaned list as
/// `cleaned`.
fn assert_last_row_lints(last: &str, ends: &[&str], cleaned: &str) {
    for end in ends {
        let csv = format!(
            "{CONSENT_HEADER}jan@example.nl,2026-01-01,form,Jan\n\
             piet@example.nl,2026-01-01,form,{last}{end}"
        );
        let clean = sendable_list(&case(csv.as_bytes()));
        let row = format!("piet@example.nl,2026-01-01,form,{cleaned}\n");
        assert!(clean.ends_with(&row), "{end:?}: {clean}");
    }
}

#[test]
fn a_closed_quote_as_the_last_thing_in_the_file_lints() {
    assert_last_row_lints("\"Piet\"", &["", "\n"], "Piet");
}

#[test]
fn a_closed_quote_ending_in_a_doubled_quote_lints() {
    let quoted = "\"he said \"\"hi\"\"\"";
    assert_last_row_lints(quoted, &["", "\n"], quoted);
}

#[test]
fn a_multi_line_quote_closed_on_the_last_line_lints() {
    let quoted = "\"Piet\nde Vries\"";
    assert_last_row_lints(quoted, &["", "\n", "\r\n"], quoted);
}

fn assert_no_report_after_failure(dir: &tempfile::TempDir, needles: &[&str]) {
    let output = lint(
        dir.path(),
        &[
            "--recipients",
            "r.csv",
            "--draft",
            "d.eml",
            "--format",
            "json",
            "--output",
            "report.json",
            "--report-out",
            "why.csv",
        ],
    );
    assert_tool_error(&output, needles);
    assert!(!dir.path().join("report.json").exists());
    assert!(!dir.path().join("why.csv").exists());
    assert_eq!(file_names(dir.path()), ["d.eml", "r.csv"], "left behind");
}

/// The names of the files in `dir`, sorted.
fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn report_and_sendable_outputs() {
    let dir = case(
        b"email,first_name,consent_at,consent_source\n\
          jan@example.nl,Jan,2026-01-01,form\n\
          piet@example.nl,Piet,,\n\
          JAN@example.nl,Jan,2026-01-01,form\n",
    );
    let output = lint(
        dir.path(),
        &[
            "--recipients",
            "r.csv",
            "--draft",
            "d.eml",
            "--product",
            "bbq",
            "--report-out",
            "why.csv",
            "--sendable-out",
            "clean.csv",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let why = std::fs::read_to_string(dir.path().join("why.csv")).unwrap();
    assert_eq!(
        why,
        "address,row,basis,sendable,rules\n\
         jan@example.nl,2,consent,yes,\n\
         piet@example.nl,3,none,no,no-consent\n\
         JAN@example.nl,4,consent,yes,duplicate-address\n"
    );
    let clean = std::fs::read_to_string(dir.path().join("clean.csv")).unwrap();
    assert_eq!(
        clean,
        "email,first_name,consent_at,consent_source\njan@example.nl,Jan,2026-01-01,form\n"
    );
}

/// `mailgate lint` reading a list from a FIFO that the test keeps open, so
/// that it is in the middle of the list when `signal` arrives: the report
/// being written must be gone afterwards, and the exit code is 130.
#[cfg(unix)]
fn interrupted_lint_leaves_no_partial_report(signal: &str) {
    use std::io::Write;
    use std::process::{Command as Process, Stdio};
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("d.eml"), DRAFT).unwrap();
    let fifo = dir.path().join("r.csv");
    let made = Process::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let mut child = Process::new(assert_cmd::cargo::cargo_bin("mailgate"))
        .current_dir(dir.path())
        .args(["lint", "--recipients", "r.csv", "--draft", "d.eml"])
        .args(["--format", "json", "--output", "report.json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mailgate starts");
    // More than the 16 KiB mailgate reads up front to sniff the file, and
    // the FIFO stays open: mailgate then waits for the rest.
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    writer.write_all(b"email,first_name\n").unwrap();
    for i in 0..2_000 {
        writeln!(writer, "person{i}@example.nl,Jan").unwrap();
    }
    writer.flush().unwrap();
    let names = || file_names(dir.path());
    let started = Instant::now();
    while names().len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no report started: {:?}",
            names()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = Process::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let status = child.wait().unwrap();
    drop(writer);
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_eq!(
        names(),
        ["d.eml", "r.csv"],
        "the partial report is left behind"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_lint_leaves_no_partial_report() {
    interrupted_lint_leaves_no_partial_report("-INT");
}

#[cfg(unix)]
#[test]
fn sigterm_during_a_lint_leaves_no_partial_report() {
    interrupted_lint_leaves_no_partial_report("-TERM");
}
