//! Files the user did not ask to change: an output that names an input, two
//! outputs that name one file, and outputs that are devices, FIFOs or
//! symbolic links (what `>` in a shell writes through, mailgate does too).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[path = "support/report_schema.rs"]
mod report_schema;

/// The demo campaign, copied into a temporary directory.
fn demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    for name in [
        "campaign.toml",
        "draft.eml",
        "recipients.csv",
        "unsubscribed.csv",
    ] {
        std::fs::copy(demo.join(name), dir.path().join(name)).unwrap();
    }
    dir
}

fn mailgate(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailgate"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Every file of `dir` with its bytes, sorted by name.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).unwrap_or_default();
            (name, bytes)
        })
        .collect();
    files.sort();
    files
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn lint_report_out_naming_an_input_destroyed_it() {
    let dir = demo();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--report-out", "recipients.csv"],
            "--report-out recipients.csv is the recipient list this run reads",
        ),
        (
            &["--output", "campaign.toml"],
            "--output campaign.toml is the campaign file this run reads",
        ),
        (
            &["--sendable-out", "./draft.eml"],
            "--sendable-out ./draft.eml is the draft this run reads",
        ),
        (
            &["--report-out", "unsubscribed.csv"],
            "--report-out unsubscribed.csv is a suppression file this run reads",
        ),
        // Any name of the file, here through a directory and back.
        (
            &["--report-out", "x/../recipients.csv"],
            "is the recipient list this run reads",
        ),
    ];
    std::fs::create_dir(dir.path().join("x")).unwrap();
    let before = snapshot(dir.path());
    for (flags, needle) in cases {
        let mut args = vec!["lint", "campaign.toml"];
        args.extend_from_slice(flags);
        let output = mailgate(dir.path(), &args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{flags:?}: {}",
            stderr(&output)
        );
        assert!(stderr(&output).contains(needle), "{}", stderr(&output));
        assert!(output.stdout.is_empty(), "{flags:?}: a report was written");
        assert_eq!(snapshot(dir.path()), before, "{flags:?} changed a file");
    }
}

#[cfg(unix)]
#[test]
fn lint_output_through_a_hard_or_symbolic_link_to_an_input_destroyed_it() {
    let dir = demo();
    std::fs::hard_link(
        dir.path().join("recipients.csv"),
        dir.path().join("hard.csv"),
    )
    .unwrap();
    std::os::unix::fs::symlink("draft.eml", dir.path().join("link.eml")).unwrap();
    let before = snapshot(dir.path());
    for flags in [["--sendable-out", "hard.csv"], ["--output", "link.eml"]] {
        let output = mailgate(dir.path(), &["lint", "campaign.toml", flags[0], flags[1]]);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("this run reads"),
            "{}",
            stderr(&output)
        );
        assert_eq!(snapshot(dir.path()), before);
    }
    assert!(
        std::fs::symlink_metadata(dir.path().join("link.eml"))
            .unwrap()
            .is_symlink()
    );
}

#[test]
fn two_outputs_naming_one_file_overwrote_each_other() {
    let dir = demo();
    let before = snapshot(dir.path());
    let output = mailgate(
        dir.path(),
        &[
            "lint",
            "campaign.toml",
            "--report-out",
            "out.csv",
            "--sendable-out",
            "./out.csv",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .contains("--sendable-out ./out.csv and --report-out out.csv are the same file"),
        "{}",
        stderr(&output)
    );
    assert_eq!(snapshot(dir.path()), before, "something was written");
}

#[cfg(unix)]
#[test]
fn output_to_dev_null_replaced_the_device() {
    use std::os::unix::fs::FileTypeExt;
    let dir = demo();
    let output = mailgate(
        dir.path(),
        &[
            "lint",
            "campaign.toml",
            "--format",
            "json",
            "--output",
            "/dev/null",
            "--report-out",
            "/dev/null",
            "--sendable-out",
            "/dev/null",
        ],
    );
    // The demo has blocked recipients: exit 1, the reports discarded.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let null = std::fs::metadata("/dev/null").unwrap();
    assert!(null.file_type().is_char_device(), "/dev/null was replaced");
    assert_eq!(null.len(), 0);
}

#[cfg(unix)]
#[test]
fn output_to_a_fifo_replaced_the_fifo() {
    use std::os::unix::fs::FileTypeExt;
    let dir = demo();
    let fifo = dir.path().join("report.pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let output = mailgate(
        dir.path(),
        &[
            "lint",
            "campaign.toml",
            "--format",
            "json",
            "--output",
            "report.pipe",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = reader.join().unwrap();
    report_schema::assert_valid(text.as_bytes());
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["summary"]["recipients"], 50, "{report}");
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

#[cfg(unix)]
#[test]
fn output_through_a_symlink_replaced_the_link() {
    let dir = demo();
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    std::fs::write(reports.join("2027-03.csv"), "old").unwrap();
    std::os::unix::fs::symlink("reports/2027-03.csv", dir.path().join("latest.csv")).unwrap();
    let output = mailgate(
        dir.path(),
        &["lint", "campaign.toml", "--report-out", "latest.csv"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let link: PathBuf = dir.path().join("latest.csv");
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    let written = std::fs::read_to_string(reports.join("2027-03.csv")).unwrap();
    assert!(
        // In the demo list's dialect (`;`, as Dutch Excel writes).
        written.starts_with("address;row;basis;sendable;rules"),
        "{written}"
    );
    // Nothing else was left in either directory.
    assert_eq!(std::fs::read_dir(&reports).unwrap().count(), 1);
}

#[test]
fn send_journal_naming_an_empty_suppression_file_turned_it_into_a_journal() {
    let dir = demo();
    std::fs::write(dir.path().join("unsubscribed.csv"), "").unwrap();
    let before = snapshot(dir.path());
    let output = mailgate(
        dir.path(),
        &[
            "send",
            "campaign.toml",
            "--journal",
            "unsubscribed.csv",
            "--skip-blocked",
            "--yes",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--journal unsubscribed.csv is a suppression file this run reads"),
        "{}",
        stderr(&output)
    );
    assert_eq!(snapshot(dir.path()), before);
}

/// `--output /dev/stdout` with standard output appended to a log (`>>`):
/// the link chain led to the log, which was replaced by a rename, and
/// everything the log held before was lost.
#[test]
fn output_to_dev_stdout_appended_to_a_log_replaced_the_log() {
    let dir = demo();
    let log = dir.path().join("run.log");
    std::fs::write(&log, "earlier run\n").unwrap();
    let appended = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_mailgate"))
        .current_dir(dir.path())
        .args(["lint", "--format", "json", "--output", "/dev/stdout"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(appended)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "the demo has errors");
    let text = std::fs::read_to_string(&log).unwrap();
    let report = text
        .strip_prefix("earlier run\n")
        .unwrap_or_else(|| panic!("the log lost its first line: {text:.200}"));
    let json: serde_json::Value = serde_json::from_str(report).unwrap();
    assert_eq!(json["summary"]["recipients"], 50);
}
