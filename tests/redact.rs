//! `--redact` / `--no-redact` (SPEC §4): `row N` instead of addresses in
//! every output format; the default for sarif, github and junit, whose
//! reports go to CI services; human, JSON and HTML keep addresses unless
//! asked. Checked on the README's demo (every address of its list) and on a
//! list whose messages quote addresses in other cells.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

#[path = "support/report_schema.rs"]
mod report_schema;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const FORMATS: [&str; 6] = ["human", "json", "sarif", "github", "junit", "html"];

/// `mailgate lint CAMPAIGN --format FORMAT EXTRA…` in `dir`: its stdout.
fn lint(dir: &Path, campaign: &str, format: &str, extra: &[&str]) -> String {
    let output = Command::cargo_bin("mailgate")
        .expect("the mailgate binary is built")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(["lint", campaign, "--format", format])
        .args(extra)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("mailgate runs");
    if format == "json" {
        report_schema::assert_valid(&output.stdout);
    }
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "--format {format} {extra:?}: exit {:?}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Every address in the demo's list (its first column), as written.
fn demo_addresses() -> Vec<String> {
    let list = std::fs::read_to_string(repo_root().join("fixtures/demo/recipients.csv"))
        .expect("the demo list");
    list.lines()
        .skip(1)
        .filter_map(|line| line.split(';').next())
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The addresses of `addresses` that `report` shows (case-insensitively,
/// and HTML- or URL-escaped as a format may write them).
fn shown<'a>(report: &str, addresses: &'a [String]) -> Vec<&'a str> {
    let report = report.to_lowercase();
    addresses
        .iter()
        .map(String::as_str)
        .filter(|a| {
            let a = a.to_lowercase();
            report.contains(&a)
                || report.contains(&a.replace('@', "&#64;"))
                || report.contains(&a.replace('@', "%40"))
        })
        .collect()
}

#[test]
fn redacted_reports_of_every_format_hold_no_address_of_the_list() {
    let addresses = demo_addresses();
    let root = repo_root();
    for format in FORMATS {
        let report = lint(&root, "fixtures/demo/campaign.toml", format, &["--redact"]);
        let leaked = shown(&report, &addresses);
        assert!(
            leaked.is_empty(),
            "--format {format} --redact shows {leaked:?}"
        );
        // The blocked rows are still there, by row.
        assert!(
            report.contains("row 19") && report.contains("row 36"),
            "--format {format} --redact names no rows:\n{report}"
        );
    }
}

#[test]
fn ci_formats_are_redacted_by_default_and_no_redact_turns_it_off() {
    let addresses = demo_addresses();
    let root = repo_root();
    for format in ["sarif", "github", "junit"] {
        let report = lint(&root, "fixtures/demo/campaign.toml", format, &[]);
        let leaked = shown(&report, &addresses);
        assert!(leaked.is_empty(), "--format {format} shows {leaked:?}");
        assert!(report.contains("row 36"), "--format {format}:\n{report}");

        let report = lint(
            &root,
            "fixtures/demo/campaign.toml",
            format,
            &["--no-redact"],
        );
        assert!(
            report.contains("stijn.bosman@example.nl"),
            "--format {format} --no-redact hides the addresses"
        );
        // The last flag wins, as with other on/off flags.
        let report = lint(
            &root,
            "fixtures/demo/campaign.toml",
            format,
            &["--no-redact", "--redact"],
        );
        assert!(shown(&report, &addresses).is_empty(), "--format {format}");
    }
}

#[test]
fn human_json_and_html_keep_addresses_unless_asked() {
    let root = repo_root();
    for format in ["human", "json", "html"] {
        let report = lint(&root, "fixtures/demo/campaign.toml", format, &[]);
        assert!(
            report.contains("stijn.bosman@example.nl"),
            "--format {format} hides addresses without --redact"
        );
    }
}

#[test]
fn addresses_quoted_in_messages_and_cells_are_redacted_too() {
    // An address that is invalid without an `@`, one with two, and
    // addresses inside other cells that messages and the HTML report
    // quote: a consent scope, a list source, an opt-out cell.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let list = "email,customer,purchased,consent_at,consent_source,consent_scope,list_source,unsubscribed_at\n\
                jan.klant-lijst.test,no,,,,,,\n\
                piet@@klant-lijst.test,no,,,,,,\n\
                kees@klant-lijst.test,no,,2026-01-01,form,fietsen kees.private@privé.test,,\n\
                mies@klant-lijst.test,no,,,,,bought from mies.seller@verkoper.test,\n\
                wim@klant-lijst.test,no,,,,,,afgemeld door wim.partner@partner.test\n\
                anna@klant-lijst.test,yes,bbq,,,,,\n";
    std::fs::write(dir.path().join("recipients.csv"), list).expect("write the list");
    std::fs::write(
        dir.path().join("draft.eml"),
        "From: Shop <news@shop.example>\r\nSubject: Hallo\r\n\
         List-Unsubscribe: <https://shop.example/u>\r\n\r\n\
         Hallo! Afmelden: https://shop.example/afmelden\r\n",
    )
    .expect("write the draft");
    std::fs::write(
        dir.path().join("campaign.toml"),
        "[campaign]\nname = \"t\"\ndraft = \"draft.eml\"\nrecipients = \"recipients.csv\"\n\
         product = \"bbq\"\nsender = \"Shop\"\ntoday = \"2027-03-01\"\n",
    )
    .expect("write the campaign");
    let personal = [
        "jan.klant-lijst.test",
        "piet@@klant-lijst.test",
        "kees@klant-lijst.test",
        "kees.private@privé.test",
        "mies@klant-lijst.test",
        "mies.seller@verkoper.test",
        "wim@klant-lijst.test",
        "wim.partner@partner.test",
        "anna@klant-lijst.test",
    ]
    .map(str::to_owned);
    for format in FORMATS {
        let plain = lint(dir.path(), "campaign.toml", format, &["--no-redact"]);
        assert!(
            !shown(&plain, &personal).is_empty(),
            "--format {format}: the unredacted report shows no address at all:\n{plain}"
        );
        let report = lint(dir.path(), "campaign.toml", format, &["--redact"]);
        let leaked = shown(&report, &personal);
        assert!(
            leaked.is_empty(),
            "--format {format} --redact shows {leaked:?}:\n{report}"
        );
    }
}
