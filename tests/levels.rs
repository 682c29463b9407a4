//! Levels are the report, the judgement is the law (SPEC §2 "Blocked"): no
//! `[rules]` entry and no `-A/-W/-D` flag may change who is sendable, what
//! `--report-out` records, or whom `send --skip-blocked` writes to.
//!
//! Every recipient rule is set to every level, in the campaign file and on
//! the command line, on the README's demo (a Dutch Excel export that
//! triggers every recipient rule), under `nl` and under `ca`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

const RECIPIENT_RULES: [&str; 12] = [
    "no-consent",
    "unrelated-product",
    "purchased-without-consent",
    "incomplete-consent",
    "out-of-scope-consent",
    "unsubscribed",
    "invalid-address",
    "invalid-date",
    "stale-customer",
    "stale-consent",
    "duplicate-address",
    "empty-merge-field",
];

const LEVELS: [(&str, &str); 3] = [("allow", "-A"), ("warn", "-W"), ("deny", "-D")];

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("demo")
}

/// The demo in a temporary folder, its campaign under `jurisdiction`,
/// with consent ageing after a year (so that `stale-consent` fires too)
/// and `rules` added to its `[rules]` table.
fn campaign(jurisdiction: &str, rules: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for file in ["draft.eml", "recipients.csv", "unsubscribed.csv"] {
        std::fs::copy(demo().join(file), dir.path().join(file)).expect("copy the demo");
    }
    let toml = std::fs::read_to_string(demo().join("campaign.toml")).expect("the demo campaign");
    let toml = toml
        .replace(
            "jurisdiction = \"nl\"",
            &format!("jurisdiction = \"{jurisdiction}\""),
        )
        .replace(
            "[rules]\n",
            &format!("[rules]\nconsent_max_age_months = 12\n{rules}\n"),
        );
    assert!(
        toml.contains("consent_max_age_months"),
        "the demo has [rules]"
    );
    std::fs::write(dir.path().join("campaign.toml"), toml).expect("write the campaign");
    dir
}

fn mailgate(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("mailgate").expect("the mailgate binary is built");
    cmd.current_dir(dir)
        .env_remove("MAILGATE_SMTP_PASSWORD")
        .timeout(Duration::from_secs(60));
    cmd
}

/// What a lint decided: the report-out and sendable-out files, byte for
/// byte, and the summary's sendable and blocked counts.
#[derive(Debug, PartialEq, Eq)]
struct Decision {
    report: String,
    sendable: String,
    counts: (u64, u64),
}

fn lint(dir: &Path, flags: &[&str]) -> Decision {
    let output = mailgate(dir)
        .args(["lint", "campaign.toml", "--format", "json"])
        .args(["--report-out", "why.csv", "--sendable-out", "clean.csv"])
        .args(flags)
        .output()
        .expect("mailgate runs");
    let code = output.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "lint {flags:?} exited {code:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let count = |key: &str| json["summary"][key].as_u64().expect("a count");
    Decision {
        report: std::fs::read_to_string(dir.join("why.csv")).expect("the report-out file"),
        sendable: std::fs::read_to_string(dir.join("clean.csv")).expect("the sendable-out file"),
        counts: (count("sendable"), count("blocked")),
    }
}

/// The addresses `--report-out` marks sendable and blocked (lower case).
fn sendable_and_blocked(report: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    // Written in the input's dialect: the demo's `;` (or `,` before).
    let header = report.lines().next().unwrap_or_default();
    let delimiter = if header.contains(';') { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(report.as_bytes());
    let mut sendable = BTreeSet::new();
    let mut blocked = BTreeSet::new();
    for record in reader.records() {
        let record = record.expect("a report row");
        let address = record[0].to_lowercase();
        if &record[3] == "yes" {
            sendable.insert(address);
        } else {
            blocked.insert(address);
        }
    }
    (sendable, blocked)
}

#[test]
fn the_baseline_triggers_every_recipient_rule() {
    // Otherwise the tests below could pass without testing anything.
    for jurisdiction in ["nl", "ca"] {
        let dir = campaign(jurisdiction, "");
        let decision = lint(dir.path(), &[]);
        for rule in RECIPIENT_RULES {
            assert!(
                decision.report.contains(rule),
                "{jurisdiction}: no row of the demo records `{rule}`"
            );
        }
        let (sendable, blocked) = sendable_and_blocked(&decision.report);
        assert!(!sendable.is_empty() && !blocked.is_empty());
    }
}

#[test]
fn no_level_in_the_campaign_file_changes_who_is_sendable() {
    for jurisdiction in ["nl", "ca"] {
        let baseline = lint(campaign(jurisdiction, "").path(), &[]);
        for rule in RECIPIENT_RULES {
            for (key, _) in LEVELS {
                let dir = campaign(jurisdiction, &format!("{key} = [\"{rule}\"]"));
                assert_eq!(
                    lint(dir.path(), &[]),
                    baseline,
                    "{jurisdiction}: [rules] {key} = [\"{rule}\"] changed the decision"
                );
            }
        }
        // Everything allowed at once.
        let all: Vec<String> = RECIPIENT_RULES.iter().map(|r| format!("\"{r}\"")).collect();
        let dir = campaign(jurisdiction, &format!("allow = [{}]", all.join(", ")));
        assert_eq!(
            lint(dir.path(), &[]),
            baseline,
            "{jurisdiction}: all allowed"
        );
    }
}

#[test]
fn no_level_flag_changes_who_is_sendable() {
    for jurisdiction in ["nl", "ca"] {
        let dir = campaign(jurisdiction, "");
        let baseline = lint(dir.path(), &[]);
        for rule in RECIPIENT_RULES {
            for (_, flag) in LEVELS {
                assert_eq!(
                    lint(dir.path(), &[flag, rule]),
                    baseline,
                    "{jurisdiction}: {flag} {rule} changed the decision"
                );
            }
        }
        let mut all = Vec::new();
        for rule in RECIPIENT_RULES {
            all.extend(["-A", rule]);
        }
        assert_eq!(lint(dir.path(), &all), baseline, "{jurisdiction}: all -A");
    }
}

#[test]
fn level_flags_change_the_report_and_the_exit_code() {
    let dir = campaign("nl", "");
    let run = |flags: &[&str]| {
        let output = mailgate(dir.path())
            .args(["lint", "campaign.toml", "--format", "json"])
            .args(flags)
            .output()
            .expect("mailgate runs");
        let json: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
        let rules: Vec<String> = json["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .map(|d| format!("{}:{}", d["rule"], d["severity"]))
            .collect();
        (output.status.code(), rules)
    };
    let (code, rules) = run(&[]);
    assert_eq!(code, Some(1));
    assert!(rules.contains(&"\"unsubscribed\":\"info\"".to_owned()));
    assert!(rules.contains(&"\"invalid-address\":\"warning\"".to_owned()));
    let (_, rules) = run(&["-D", "unsubscribed", "-A", "invalid-address"]);
    assert!(rules.contains(&"\"unsubscribed\":\"error\"".to_owned()));
    assert!(!rules.iter().any(|r| r.starts_with("\"invalid-address\"")));
    // The last flag wins, as with clippy, and flags win over the file.
    let (_, rules) = run(&["-A", "unsubscribed", "-W", "unsubscribed"]);
    assert!(rules.contains(&"\"unsubscribed\":\"warning\"".to_owned()));
    let (_, rules) = run(&["-W", "unsubscribed", "-A", "unsubscribed"]);
    assert!(!rules.iter().any(|r| r.starts_with("\"unsubscribed\"")));
    let dir = campaign("nl", "deny = [\"unsubscribed\"]");
    let output = mailgate(dir.path())
        .args([
            "lint",
            "campaign.toml",
            "--format",
            "json",
            "-A",
            "unsubscribed",
        ])
        .output()
        .expect("mailgate runs");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("\"unsubscribed\""));
    // Every error-level recipient rule allowed: only the warnings are left.
    let dir = campaign("nl", "");
    let mut flags = Vec::new();
    for rule in RECIPIENT_RULES {
        flags.extend(["-A", rule]);
    }
    let (code, _) = run(&flags);
    let _ = dir;
    assert_eq!(code, Some(0), "nothing error-level is left");
}

#[test]
fn an_unknown_rule_flag_is_a_usage_error_with_a_suggestion() {
    let dir = campaign("nl", "");
    for flag in ["-A", "-W", "-D", "--allow"] {
        let output = mailgate(dir.path())
            .args(["lint", "campaign.toml", flag, "no-consnet"])
            .output()
            .expect("mailgate runs");
        assert_eq!(output.status.code(), Some(2), "{flag}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("no-consnet"), "{stderr}");
        assert!(stderr.contains("did you mean `no-consent`"), "{stderr}");
    }
}

/// The `To` address of every message `send --dry-run` wrote (lower case).
fn dry_run_recipients(out: &Path) -> Vec<String> {
    let mut to = Vec::new();
    for entry in std::fs::read_dir(out).expect("the dry-run folder") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let message = std::fs::read_to_string(path).expect("a message");
        let line = message
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("to:"))
            .expect("a To header");
        let address = line[3..].trim();
        let address = address
            .rsplit_once('<')
            .map_or(address, |(_, a)| a.trim_end_matches('>'));
        to.push(address.to_lowercase());
    }
    to.sort();
    to
}

#[test]
fn send_skip_blocked_never_writes_to_a_blocked_person_whatever_the_levels() {
    let baseline = lint(campaign("nl", "").path(), &[]);
    let (sendable, blocked) = sendable_and_blocked(&baseline.report);
    let sendable: Vec<String> = sendable.into_iter().collect();
    for rule in RECIPIENT_RULES {
        for (key, _) in LEVELS {
            let dir = campaign("nl", &format!("{key} = [\"{rule}\"]"));
            let output = mailgate(dir.path())
                .args([
                    "send",
                    "campaign.toml",
                    "--dry-run",
                    "out",
                    "--skip-blocked",
                ])
                .output()
                .expect("mailgate runs");
            assert_eq!(
                output.status.code(),
                Some(0),
                "{key} {rule}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let written = dry_run_recipients(&dir.path().join("out"));
            for address in &written {
                assert!(
                    !blocked.contains(address),
                    "{key} = [\"{rule}\"]: a message to blocked {address}"
                );
            }
            assert_eq!(written, sendable, "{key} = [\"{rule}\"]");
        }
    }
}
