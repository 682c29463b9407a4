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

/// Runs `lint` in `dir` writing both per-recipient files; returns their bytes.
fn outputs(dir: &Path, flags: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let output = mailgate(dir)
        .args(["lint", "campaign.toml"])
        .args(["--report-out", "why.csv", "--sendable-out", "clean.csv"])
        .args(flags)
        .output()
        .expect("mailgate runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        std::fs::read(dir.join("why.csv")).expect("the report-out file"),
        std::fs::read(dir.join("clean.csv")).expect("the sendable-out file"),
    )
}

fn records(bytes: &[u8], delimiter: u8) -> Vec<Vec<String>> {
    let text = encoding_rs::WINDOWS_1252.decode(bytes).0;
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("a record").iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn outputs_of_a_dutch_excel_list_are_semicolon_windows_1252_crlf() {
    // Regression: a `;` + Windows-1252 list gave `,` + UTF-8 output that
    // Dutch Excel shows as one garbled column.
    let dir = copy_case("dutch-excel-aliases");
    let (report, clean) = outputs(dir.path(), &[]);
    for bytes in [&report, &clean] {
        assert!(std::str::from_utf8(bytes).is_err() || bytes.is_ascii());
        assert!(
            !bytes.starts_with(b"\xEF\xBB\xBF"),
            "no BOM was in the list"
        );
        let lines = bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty());
        for line in lines {
            assert!(line.ends_with(b"\r"), "CRLF like the list");
        }
    }
    assert!(report.starts_with(b"address;row;basis;sendable;rules\r\n"));
    assert!(
        clean.windows(5).any(|w| w == b"Ren\xE9e"),
        "Renée in Windows-1252"
    );
    let rows = records(&clean, b';');
    assert_eq!(rows[0][0], "E-mailadres");
    let addresses: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        addresses,
        [
            "jeroen.vandermeer@example.nl",
            "renee.brouwer@example.nl",
            "francoise.dubois@example.nl"
        ]
    );
    assert!(rows[1..].iter().any(|r| r.contains(&"Renée".to_owned())));
}

#[test]
fn outputs_of_a_utf8_list_with_a_bom_keep_the_bom() {
    let dir = copy_case("bom-semicolon");
    let (report, clean) = outputs(dir.path(), &[]);
    for bytes in [&report, &clean] {
        assert!(
            bytes.starts_with(b"\xEF\xBB\xBF"),
            "Excel's CSV UTF-8 has a BOM"
        );
        assert!(std::str::from_utf8(bytes).is_ok());
        assert!(bytes.contains(&b';'));
    }
}

#[test]
fn the_cleaned_list_keeps_only_used_columns_and_never_special_or_national_ids() {
    // Regression: the "clean" list still carried the health-data column.
    for flags in [
        &[][..],
        &["-A", "special-category-data", "-A", "unused-column"],
    ] {
        let dir = copy_case("special-category-data");
        let (_, clean) = outputs(dir.path(), flags);
        let rows = records(&clean, b',');
        assert_eq!(
            rows[0],
            ["email", "consent_at", "consent_source", "purchased"],
            "{flags:?}"
        );
    }
    let dir = copy_case("national-id");
    let (_, clean) = outputs(dir.path(), &["-A", "national-id"]);
    let rows = records(&clean, b',');
    assert_eq!(rows[0], ["email", "consent_at", "consent_source"]);
    assert_eq!(rows.len(), 8, "each sendable address once");
}

/// The messages of a JSON lint of `list` and `draft` with `--product P`.
fn messages(list: &str, draft: &str, product: &str) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("r.csv"), list).expect("write the list");
    let base =
        std::fs::read_to_string(case("dutch-excel-aliases").join("draft.eml")).expect("a draft");
    let draft = base.replacen("{{ voornaam }}, e-bikes", draft, 1);
    std::fs::write(dir.path().join("d.eml"), draft).expect("write the draft");
    let output = mailgate(dir.path())
        .args(["lint", "--recipients", "r.csv", "--draft", "d.eml"])
        .args(["--product", product, "--format", "json"])
        .output()
        .expect("mailgate runs");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap_or_default().to_owned(),
                d["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn did_you_mean_for_products_merge_fields_and_columns() {
    let list = "E-mailadres;Voornaam;Achternaam;Gekocht;Laatste aankoop;Herkomt\r\n\
                jan@example.nl;Jan;Jansen;e-bike;2026-05-01;eigen\r\n";
    let found = messages(list, "{{ voornam }}, e-bikes", "ebike");
    let message = |rule: &str| {
        found
            .iter()
            .find(|(r, _)| r == rule)
            .map(|(_, m)| m.clone())
            .unwrap_or_else(|| panic!("no {rule} in {found:?}"))
    };
    assert!(message("unknown-product").contains("did you mean `e-bike`?"));
    assert!(message("unknown-merge-field").contains("did you mean `voornaam`?"));
    let unused = message("unused-column");
    assert!(
        unused.contains("[columns] list_source = \"Herkomt\""),
        "{unused}"
    );
}

/// The list rules see the rows they ask for: a tally (`unknown-list-source`,
/// `unknown-customer-value`) every row, far past the first 10,000 that the
/// value samplers (`special-category-data`, `national-id`) look at; and a
/// sampler sees the last row of its sample.
#[test]
fn list_rules_see_every_row_or_their_sample() {
    let mut list = String::from("email,consent_at,consent_source,list_source,customer,notities\n");
    for row in 1..=12_000 {
        let (source, customer, note) = match row {
            10_000 => ("own", "", "diabetes"),
            11_500 => ("beurs Utrecht", "misschien", ""),
            _ => ("own", "", ""),
        };
        list.push_str(&format!(
            "r{row}@example.nl,2026-01-01,form,{source},{customer},{note}\n"
        ));
    }
    let found = messages(&list, "{{ notities }}, e-bikes", "e-bike");
    let lines = |rule: &str| -> Vec<String> {
        found
            .iter()
            .filter(|(r, _)| r == rule)
            .map(|(_, m)| m.clone())
            .collect()
    };
    // Row 10,000 is line 10,001 (the header is line 1).
    let special = lines("special-category-data");
    assert!(
        special
            .iter()
            .any(|m| m.contains("`notities`") && m.contains("diabetes")),
        "{found:?}"
    );
    let source = lines("unknown-list-source");
    assert!(
        source.len() == 1 && source[0].contains("beurs Utrecht") && source[0].contains("11501"),
        "{source:?}"
    );
    let customer = lines("unknown-customer-value");
    assert!(
        customer.len() == 1 && customer[0].contains("misschien"),
        "{customer:?}"
    );
}
