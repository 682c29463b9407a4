//! `docs/rules.md` is generated from the rule registry; this test fails when
//! it is out of date. Regenerate with `MAILGATE_BLESS=1 cargo test --test rules_doc`.

use std::path::Path;

use assert_cmd::Command;

#[test]
fn rules_doc_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let expected = mailgate::rules::catalogue_markdown();
    if std::env::var_os("MAILGATE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/rules.md is out of date; run `MAILGATE_BLESS=1 cargo test --test rules_doc`"
    );
}

#[test]
fn explain_works_for_every_rule_that_rules_lists() {
    let listing = Command::cargo_bin("mailgate")
        .unwrap()
        .arg("rules")
        .assert()
        .success();
    let stdout = String::from_utf8(listing.get_output().stdout.clone()).unwrap();
    let names: Vec<&str> = stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names.len(), mailgate::rules::RULES.len());
    for name in names {
        let out = Command::cargo_bin("mailgate")
            .unwrap()
            .args(["explain", name])
            .assert()
            .success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        assert!(
            text.starts_with(&format!("# {name}")),
            "explain {name} printed:\n{text}"
        );
        assert!(!text.contains("TODO"), "explain {name} is a placeholder");
    }
}

#[test]
fn explain_unknown_rule_is_a_usage_error() {
    Command::cargo_bin("mailgate")
        .unwrap()
        .args(["explain", "no-consnt"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("did you mean `no-consent`"));
}
