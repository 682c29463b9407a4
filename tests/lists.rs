//! Lists as real exports write them (issue 12): a listmonk export is
//! recognised with a note on what it does not record, and a mapped column
//! is a merge field under its own header in the messages `send` builds.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

fn case(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("cases")
        .join(name)
}

fn mailgate(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("mailgate").expect("the mailgate binary is built");
    cmd.current_dir(dir)
        .env_remove("MAILGATE_SMTP_PASSWORD")
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(60));
    cmd
}

/// A copy of a fixture case in a temporary folder.
fn copy_case(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for entry in std::fs::read_dir(case(name)).expect("the case") {
        let path = entry.expect("an entry").path();
        std::fs::copy(&path, dir.path().join(path.file_name().expect("a name"))).expect("copy");
    }
    dir
}

#[test]
fn a_listmonk_export_gets_a_note_that_it_records_no_consent() {
    let output = mailgate(&case("listmonk-export"))
        .args(["lint", "campaign.toml"])
        .output()
        .expect("mailgate runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let note = stdout
        .lines()
        .find(|l| l.starts_with("note: "))
        .unwrap_or_else(|| panic!("no note in\n{stdout}"));
    assert!(note.contains("listmonk"), "{note}");
    assert!(note.contains("no consent"), "{note}");
    assert!(note.contains("per-list"), "{note}");
    // Not a diagnostic: the JSON report is unchanged by it.
    let output = mailgate(&case("listmonk-export"))
        .args(["lint", "campaign.toml", "--format", "json"])
        .output()
        .expect("mailgate runs");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("per-list"));
    // Other lists get no such note.
    let output = mailgate(&case("mailchimp-full-export"))
        .args(["lint", "campaign.toml"])
        .output()
        .expect("mailgate runs");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("note: "));
}

#[test]
fn send_fills_a_merge_field_named_after_a_dutch_header() {
    // `Voornaam` maps to first_name; the draft says {{ voornaam }} and
    // {{ achternaam }}. `send` with no argument reads ./campaign.toml.
    let dir = copy_case("dutch-excel-aliases");
    let output = mailgate(dir.path())
        .args(["send", "--dry-run", "out", "--skip-blocked"])
        .output()
        .expect("mailgate runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut bodies = String::new();
    for entry in std::fs::read_dir(dir.path().join("out")).expect("messages") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "eml") {
            bodies.push_str(&std::fs::read_to_string(path).expect("a message"));
        }
    }
    assert!(bodies.contains("Beste Jeroen van der Meer,"), "{bodies}");
    assert!(
        bodies.contains("Subject: Jeroen, e-bikes met korting"),
        "{bodies}"
    );
}
