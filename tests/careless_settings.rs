//! Careless lists and settings: each test is named after what broke, and
//! checks that the message names the file, line and what to do.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

const DRAFT: &str = "From: Shop <news@shop.example>\r\nTo: news@shop.example\r\n\
Subject: Hallo {{ first_name }}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Beste {{ first_name }}, Shop. Afmelden: {{ unsubscribe_url }}\r\n";

fn mailgate(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("mailgate")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn folder(csv: &str, campaign: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.csv"), csv).unwrap();
    std::fs::write(dir.path().join("d.eml"), DRAFT).unwrap();
    std::fs::write(
        dir.path().join("campaign.toml"),
        format!(
            "[campaign]\nname = \"t\"\ndraft = \"d.eml\"\nrecipients = \"r.csv\"\n\
             product = \"bbq\"\n{campaign}"
        ),
    )
    .unwrap();
    dir
}

/// Where the config error whose message starts with `message` points:
/// the `file:line:column` of the `-->` line under its title.
fn config_error_at(stderr: &str, message: &str) -> Option<String> {
    let mut lines = stderr.lines();
    lines.find(|l| l.starts_with(&format!("error: {message}")))?;
    let at = lines.next()?.trim_start().strip_prefix("--> ")?;
    Some(at.to_owned())
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn two_consent_at_columns_were_read_as_the_first_silently() {
    let dir = folder(
        "email,first_name,consent_at,Consent Date,consent_source\n\
         jan@example.nl,Jan,,2026-01-01,form\n",
        "",
    );
    let output = mailgate(dir.path(), &["lint", "campaign.toml"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("r.csv:1"), "{err}");
    assert!(
        err.contains("\"consent_at\" (column 3) and \"Consent Date\" (column 4)"),
        "{err}"
    );
    // [columns] settles it.
    let dir = folder(
        "email,first_name,consent_at,Consent Date,consent_source\n\
         jan@example.nl,Jan,,2026-01-01,form\n",
        "[columns]\nconsent_at = \"Consent Date\"\n",
    );
    let output = mailgate(dir.path(), &["lint", "campaign.toml", "--format", "json"]);
    assert_ne!(output.status.code(), Some(2), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["summary"]["sendable"], 1, "{json}");
}

#[test]
fn connections_zero_was_rejected_by_a_message_that_allows_it() {
    let dir = folder(
        "email\njan@example.nl\n",
        "[smtp]\nhost = \"127.0.0.1\"\nport = 0\ntls = \"none\"\nconnections = 0\n",
    );
    let output = mailgate(dir.path(), &["lint", "campaign.toml"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert_eq!(
        config_error_at(&err, "`connections` must be a whole number from 1 to 64").as_deref(),
        Some("campaign.toml:10:15"),
        "{err}"
    );
    assert_eq!(
        config_error_at(&err, "`port` must be a whole number from 1 to 65535").as_deref(),
        Some("campaign.toml:8:8"),
        "{err}"
    );
}

#[test]
fn a_toml_recursion_limit_error_pointed_at_line_1() {
    let keys = vec!["a"; 300].join(".");
    let dir = folder("email\njan@example.nl\n", &format!("\n[{keys}]\nb = 1\n"));
    let output = mailgate(dir.path(), &["lint", "campaign.toml"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert_eq!(
        config_error_at(&err, "not valid TOML").as_deref(),
        Some("campaign.toml:7:1"),
        "{err}"
    );
}

#[test]
fn without_a_campaign_file_the_product_location_was_empty() {
    let dir = folder("email,first_name\njan@example.nl,Jan\n", "");
    let output = mailgate(
        dir.path(),
        &[
            "lint",
            "--recipients",
            "r.csv",
            "--draft",
            "d.eml",
            "--product",
            "bbq",
        ],
    );
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        out.contains("warning[unknown-product]: --product: `bbq`"),
        "{out}"
    );
    assert!(!out.contains(" (campaign.product)"), "{out}");
}

#[test]
fn a_full_disk_was_reported_with_its_text_twice() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let dir = folder("email,first_name\njan@example.nl,Jan\n", "");
    let output = mailgate(
        dir.path(),
        &["lint", "campaign.toml", "--report-out", "/dev/full"],
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("/dev/full"), "names the file: {err}");
    assert_eq!(err.matches("No space left on device").count(), 1, "{err}");
}

#[test]
fn cannot_create_a_temporary_file_named_no_path() {
    let dir = folder("email,first_name\njan@example.nl,Jan\n", "");
    let missing = dir.path().join("no-such-dir");
    let output = Command::cargo_bin("mailgate")
        .unwrap()
        .current_dir(dir.path())
        .args(["lint", "campaign.toml", "--format", "json"])
        .env("TMPDIR", &missing)
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("TMPDIR"), "says what to do: {err}");
}
