//! Diagnostics point at what they are about — a list's header cell, a draft
//! header's value, a campaign key — in the human report (the underline) and
//! in SARIF (`startColumn`/`endColumn`, UTF-16 code units), wherever on the
//! line that is: before, they searched the line for the field's name and
//! found the first occurrence.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A campaign in a new directory: the `unknown-product` case's files, with
/// `recipients.csv` and, when given, `draft.eml` replaced.
fn campaign(recipients: &str, draft: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let case = repo_root().join("fixtures/cases/unknown-product");
    for name in ["campaign.toml", "draft.eml"] {
        std::fs::copy(case.join(name), dir.path().join(name)).expect("copied");
    }
    std::fs::write(dir.path().join("recipients.csv"), recipients).expect("written");
    if let Some(draft) = draft {
        std::fs::write(dir.path().join("draft.eml"), draft).expect("written");
    }
    dir
}

/// `mailgate lint campaign.toml --format FORMAT` in `dir`: its stdout.
fn lint(dir: &Path, format: &str) -> String {
    let output = Command::cargo_bin("mailgate")
        .expect("the mailgate binary is built")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(["lint", "campaign.toml", "--format", format])
        .timeout(Duration::from_secs(60))
        .output()
        .expect("mailgate runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// Every SARIF result of `rule`: (startLine, startColumn, endColumn).
fn sarif_regions(sarif: &str, rule: &str) -> Vec<(i64, i64, i64)> {
    let log: Value = serde_json::from_str(sarif).expect("SARIF is JSON");
    let run = &log["runs"][0];
    assert_eq!(run["columnKind"], "utf16CodeUnits");
    run["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["ruleId"] == rule)
        .map(|r| {
            let region = &r["locations"][0]["physicalLocation"]["region"];
            let n = |key: &str| region[key].as_i64().unwrap_or_else(|| panic!("{key}: {r}"));
            (n("startLine"), n("startColumn"), n("endColumn"))
        })
        .collect()
}

/// The human report's underline below the line ending in `line_text`: the
/// column (0-based, in characters of the source line) where the carets
/// start, and how many there are.
fn underline(human: &str, line_text: &str) -> (usize, usize) {
    let lines: Vec<&str> = human.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.ends_with(line_text))
        .unwrap_or_else(|| panic!("no line ending in {line_text:?} in\n{human}"));
    let source = lines[at];
    let bar = source.find('|').expect("a gutter") + 2;
    let marks = lines[at + 1];
    let first = marks.find('^').expect("carets");
    let count = marks[first..].chars().take_while(|&c| c == '^').count();
    (marks[..first].chars().count() - bar, count)
}

const ROWS: &str = "ans@example.nl,ja,garden-furniture,x,y\n";

#[test]
fn a_column_named_inside_an_earlier_header_is_underlined_at_its_own_cell() {
    // `ref` occurs first inside `ref_old`: the search found that one.
    let header = "email,customer,purchased,ref_old,ref";
    let dir = campaign(&format!("{header}\n{ROWS}"), None);
    let human = lint(dir.path(), "human");
    assert!(
        human.contains("column `ref` is used by no template"),
        "{human}"
    );
    let marks: Vec<(usize, usize)> = human
        .split("warning[unused-column]")
        .skip(1)
        .map(|block| underline(block, header))
        .collect();
    assert!(marks.contains(&(25, 7)), "ref_old: {marks:?}\n{human}");
    assert!(marks.contains(&(33, 3)), "ref: {marks:?}\n{human}");

    let regions = sarif_regions(&lint(dir.path(), "sarif"), "unused-column");
    assert!(regions.contains(&(1, 26, 33)), "{regions:?}");
    assert!(regions.contains(&(1, 34, 37)), "{regions:?}");
}

#[test]
fn sarif_columns_of_a_non_ascii_header_are_utf16_code_units() {
    // `ï` is 2 bytes and 1 UTF-16 unit, `🏠` 4 bytes and 2 units.
    let header = "email,customer,purchased,\"Geïnteresseerd 🏠\",ref";
    let dir = campaign(&format!("{header}\n{ROWS}"), None);
    let regions = sarif_regions(&lint(dir.path(), "sarif"), "unused-column");
    // `Geïnteresseerd 🏠` from column 27 (after the quote), 17 units long;
    // `ref` after `",`.
    assert!(regions.contains(&(1, 27, 44)), "{regions:?}");
    assert!(regions.contains(&(1, 46, 49)), "{regions:?}");
    let human = lint(dir.path(), "human");
    let marks: Vec<(usize, usize)> = human
        .split("warning[unused-column]")
        .skip(1)
        .map(|block| underline(block, header))
        .collect();
    // In characters: `🏠` is one character (two columns wide on a
    // terminal: annotate-snippets draws two carets for it).
    assert!(marks.contains(&(26, 17)), "{marks:?}\n{human}");
}

#[test]
fn a_draft_header_whose_name_recurs_in_its_value_is_pointed_at_by_its_value() {
    let case = repo_root().join("fixtures/cases/unknown-product/draft.eml");
    let draft = std::fs::read_to_string(case).expect("the fixture's draft");
    let from = "From: \"From team\" <noreply@delinde.example>";
    let draft = draft.replacen(
        "From: Tuincentrum De Linde <nieuwsbrief@delinde.example>",
        from,
        1,
    );
    let dir = campaign(
        "email,customer,purchased\nans@example.nl,ja,garden-furniture\n",
        Some(&draft),
    );
    let human = lint(dir.path(), "human");
    let block = human
        .split("warning[no-reply-sender]")
        .nth(1)
        .unwrap_or_else(|| panic!("no no-reply-sender in\n{human}"));
    assert_eq!(underline(block, from), (6, from.len() - 6), "{human}");
    let regions = sarif_regions(&lint(dir.path(), "sarif"), "no-reply-sender");
    assert_eq!(regions, [(1, 7, from.len() as i64 + 1)]);
}

/// `mailgate ARGS` in `dir`, standard output and error piped (not a
/// terminal) and `NO_COLOR` unset: (exit code, stdout, stderr).
fn run_piped(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::cargo_bin("mailgate")
        .expect("the mailgate binary is built")
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("mailgate runs");
    (
        output.status.code(),
        String::from_utf8(output.stdout).expect("UTF-8 output"),
        String::from_utf8(output.stderr).expect("UTF-8 errors"),
    )
}

#[test]
fn a_config_error_is_shown_with_its_line_and_a_caret_under_the_value() {
    let dir = campaign("email\njan@example.nl\n", None);
    let toml = std::fs::read_to_string(dir.path().join("campaign.toml")).expect("read");
    let toml = toml.replace("jurisdiction = \"nl\"", "jurisdiction = \"de\"");
    std::fs::write(dir.path().join("campaign.toml"), format!("{toml}wat = 1\n")).expect("written");
    let (code, stdout, stderr) = run_piped(dir.path(), &["lint", "campaign.toml"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stdout, "");
    // All problems at once, each with its place and line; no colour in a pipe.
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
    assert!(
        stderr.contains(
            "error: unknown jurisdiction `de`; expected nl, eu, us or ca\n \
             --> campaign.toml:9:16\n  |\n9 | jurisdiction = \"de\"\n  |                ^^^^\n"
        ),
        "{stderr}"
    );
    // Under [products], the last table: a group must list products.
    assert!(
        stderr.contains(
            "error: `wat` must be an array of strings, not integer\n  \
             --> campaign.toml:15:7\n   |\n15 | wat = 1\n   |       ^\n"
        ),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("error: the campaign settings are not usable (2 problems); nothing was checked or sent\n"),
        "{stderr}"
    );
}

#[test]
fn a_password_literal_was_printed_under_its_diagnostic() {
    let case = repo_root().join("fixtures/cases/password-in-config");
    let secret = "Tuin2027!";
    let toml = std::fs::read_to_string(case.join("campaign.toml")).expect("the fixture");
    assert!(toml.contains(secret), "the fixture holds the literal");
    let (code, stdout, _) = run_piped(&case, &["lint", "campaign.toml"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("password = ********"), "{stdout}");
    assert!(!stdout.contains(secret), "{stdout}");
    let out = tempfile::tempdir().expect("a temporary directory");
    let html = out.path().join("report.html");
    let html_arg = html.to_str().expect("a UTF-8 path");
    run_piped(
        &case,
        &[
            "lint",
            "campaign.toml",
            "--format",
            "html",
            "--output",
            html_arg,
        ],
    );
    let page = std::fs::read_to_string(&html).expect("the HTML report");
    assert!(
        page.contains("<mark>password</mark> = ********</pre>"),
        "the line, its key marked, its value concealed"
    );
    assert!(!page.contains(secret));
}

#[test]
fn an_unknown_product_is_pointed_at_in_the_list_of_products() {
    let dir = campaign("email,customer,purchased\nans@example.nl,ja,bbq\n", None);
    let toml = std::fs::read_to_string(dir.path().join("campaign.toml")).expect("read");
    let line = "products = [\"bbq\", \"bb\"]";
    let toml = toml.replace("product = \"hammocks\"", line);
    std::fs::write(dir.path().join("campaign.toml"), toml).expect("written");
    let regions = sarif_regions(&lint(dir.path(), "sarif"), "unknown-product");
    // `"bb"`, not `bbq` and not the whole line.
    assert_eq!(regions, [(5, 20, 24)]);
    let human = lint(dir.path(), "human");
    let block = human
        .split("warning[unknown-product]")
        .nth(1)
        .unwrap_or_else(|| panic!("no unknown-product in\n{human}"));
    assert_eq!(underline(block, line), (19, 4), "{human}");
}

#[test]
fn a_header_after_blank_lines_was_reported_on_line_1() {
    let header = "email,customer,purchased,ref";
    let dir = campaign(
        &format!("\n\n{header}\nans@example.nl,ja,garden-furniture,x\n"),
        None,
    );
    let report: Value = serde_json::from_str(&lint(dir.path(), "json")).expect("JSON");
    let lines: Vec<&Value> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "unused-column")
        .map(|d| &d["line"])
        .collect();
    assert_eq!(lines, [&Value::from(3)], "{report}");
    let regions = sarif_regions(&lint(dir.path(), "sarif"), "unused-column");
    assert_eq!(regions, [(3, 26, 29)]);
}

#[test]
fn a_tab_separated_header_was_shown_with_its_tabs_escaped() {
    let dir = campaign(
        "email\tcustomer\tpurchased\tref_old\tref\n\
         ans@example.nl\tja\tgarden-furniture\tx\ty\n",
        None,
    );
    let human = lint(dir.path(), "human");
    // The tabs are laid out as indentation, and the column counts a tab as
    // one, as SARIF does.
    assert!(!human.contains("\\t"), "{human}");
    assert!(human.contains("--> recipients.csv:1:34\n"), "{human}");
    let regions = sarif_regions(&lint(dir.path(), "sarif"), "unused-column");
    assert!(regions.contains(&(1, 34, 37)), "{regions:?}");
}
