//! Acceptance tests written from SPEC.md alone, not from the implementation.
//!
//! Every folder in `fixtures/cases/` is one case: inputs plus an `expected.json`
//! (format in `fixtures/cases/README.md`). Each case runs
//! `mailgate lint <args> --format json` in its folder and checks the exit code, the
//! shape of the JSON report, the six summary counts and the exact multiset of
//! diagnostics. A failing case reports everything that is wrong with it at once.
//!
//! The README's demo (`fixtures/demo/`) is checked the same way from the repository
//! root, and once more in the human format.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use predicates::Predicate;
use serde_json::{Map, Value};

#[path = "support/report_schema.rs"]
mod report_schema;

const SUMMARY_KEYS: [&str; 6] = [
    "recipients",
    "sendable",
    "blocked",
    "errors",
    "warnings",
    "infos",
];
const DIAGNOSTIC_KEYS: [&str; 8] = [
    "rule",
    "severity",
    "scope",
    "message",
    "recipient",
    "file",
    "line",
    "field",
];
/// The keys of an expected diagnostic that are compared when present (`rule` always is).
const MATCH_KEYS: [&str; 5] = ["line", "field", "severity", "scope", "recipient"];

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cases_dir() -> PathBuf {
    repo_root().join("fixtures").join("cases")
}

/// `mailgate` with an environment that cannot turn colour on by accident.
fn mailgate(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("mailgate").expect("the mailgate binary is built");
    cmd.current_dir(cwd)
        .env_remove("CLICOLOR_FORCE")
        .env_remove("FORCE_COLOR")
        .env_remove("MAILGATE_SMTP_PASSWORD")
        .timeout(Duration::from_secs(60));
    cmd
}

fn load_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().expect("a list of strings").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Runs one case and panics with every problem found, or returns quietly.
fn check_case(expected_path: &Path, cwd: &Path) {
    let expected = load_json(expected_path);
    let args = strings(expected.get("args"));
    let mut cmd = mailgate(cwd);
    cmd.arg("lint").args(&args).args(["--format", "json"]);
    cmd.env("NO_COLOR", "1");
    let output = cmd.output().expect("mailgate runs");
    if output.status.code() != Some(2) {
        report_schema::assert_valid(&output.stdout);
    }

    let problems = compare(
        &expected,
        output.status.code(),
        &String::from_utf8_lossy(&output.stdout),
        &String::from_utf8_lossy(&output.stderr),
    );
    if !problems.is_empty() {
        panic!(
            "case {}\n  {}\n  command: mailgate lint {} --format json  (in {})\n\n{}\n\n--- stdout ---\n{}\n--- stderr ---\n{}",
            expected_path.display(),
            expected["description"].as_str().unwrap_or(""),
            args.join(" "),
            cwd.display(),
            problems
                .iter()
                .map(|p| format!("- {p}"))
                .collect::<Vec<_>>()
                .join("\n"),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
}

/// Everything that differs between `expected` and one run's exit code and output.
fn compare(expected: &Value, code: Option<i32>, stdout: &str, stderr: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let want_exit = expected["exit"].as_i64().expect("expected.json has exit");
    let got_exit = code.map(i64::from);
    if got_exit != Some(want_exit) {
        problems.push(format!("exit code: expected {want_exit}, got {got_exit:?}"));
    }
    if stdout.contains('\x1b') || stderr.contains('\x1b') {
        problems.push("ANSI escape in the output although NO_COLOR=1 and no terminal".into());
    }

    if want_exit == 2 {
        if stderr.trim().is_empty() {
            problems
                .push("exit 2 but stderr is empty: the user is not told what went wrong".into());
        }
        for needle in strings(expected.get("stderr_contains")) {
            if !stderr.contains(&needle) {
                problems.push(format!("stderr does not mention {needle:?}"));
            }
        }
        for re in strings(expected.get("stderr_matches")) {
            let pred = predicates::str::is_match(&re).expect("a valid regex in expected.json");
            if !pred.eval(stderr) {
                problems.push(format!("stderr does not match /{re}/"));
            }
        }
        return problems;
    }

    let report: Value = match serde_json::from_str(stdout) {
        Ok(v) => v,
        Err(e) => {
            problems.push(format!("stdout is not one JSON object: {e}"));
            return problems;
        }
    };
    let recipients_file = expected["recipients_file"].as_str();
    let actual = check_report_shape(&report, recipients_file, got_exit, &mut problems);

    if let (Some(want), Some(got)) = (
        expected["summary"].as_object(),
        report["summary"].as_object(),
    ) {
        for (key, value) in want {
            if got.get(key) != Some(value) {
                problems.push(format!(
                    "summary.{key}: expected {value}, got {}",
                    got.get(key).map_or("nothing".to_owned(), Value::to_string)
                ));
            }
        }
    }

    let want: Vec<Map<String, Value>> = expected["diagnostics"]
        .as_array()
        .expect("expected.json has diagnostics")
        .iter()
        .map(|d| d.as_object().expect("a diagnostic is an object").clone())
        .collect();
    let (missing, unexpected) = match_diagnostics(&want, &actual);
    for d in missing {
        problems.push(format!("missing diagnostic: {}", Value::Object(d.clone())));
    }
    for d in unexpected {
        problems.push(format!("unexpected diagnostic: {}", describe_actual(d)));
    }
    problems
}

/// Checks the report against SPEC §4 and returns its diagnostics.
fn check_report_shape<'a>(
    report: &'a Value,
    recipients_file: Option<&str>,
    exit: Option<i64>,
    problems: &mut Vec<String>,
) -> Vec<&'a Map<String, Value>> {
    let Some(top) = report.as_object() else {
        problems.push("the report is not a JSON object".into());
        return Vec::new();
    };
    if !top.get("mailgate").is_some_and(Value::is_string) {
        problems.push("\"mailgate\" (the version) is missing or not a string".into());
    }
    let summary = top.get("summary").and_then(Value::as_object);
    match summary {
        None => problems.push("\"summary\" is missing or not an object".into()),
        Some(s) => {
            for key in SUMMARY_KEYS {
                if !s.get(key).is_some_and(Value::is_u64) {
                    problems.push(format!("summary.{key} is missing or not a count"));
                }
            }
        }
    }
    let Some(list) = top.get("diagnostics").and_then(Value::as_array) else {
        problems.push("\"diagnostics\" is missing or not an array".into());
        return Vec::new();
    };

    let mut diagnostics = Vec::new();
    let (mut errors, mut warnings, mut infos) = (0u64, 0u64, 0u64);
    for d in list {
        let Some(d) = d.as_object() else {
            problems.push(format!("a diagnostic is not an object: {d}"));
            continue;
        };
        let what = describe_actual(d);
        for key in DIAGNOSTIC_KEYS {
            if !d.contains_key(key) {
                problems.push(format!("diagnostic lacks key {key:?}: {what}"));
            }
        }
        match d.get("severity").and_then(Value::as_str) {
            Some("error") => errors += 1,
            Some("warning") => warnings += 1,
            Some("info") => infos += 1,
            other => problems.push(format!("bad severity {other:?}: {what}")),
        }
        let scope = d.get("scope").and_then(Value::as_str);
        if !matches!(scope, Some("recipient" | "list" | "draft" | "campaign")) {
            problems.push(format!("bad scope {scope:?}: {what}"));
        }
        if d.get("message")
            .and_then(Value::as_str)
            .is_none_or(|m| m.trim().is_empty())
        {
            problems.push(format!("empty or missing message: {what}"));
        }
        for key in ["recipient", "file", "field"] {
            if d.get(key).is_some_and(|v| !v.is_null() && !v.is_string()) {
                problems.push(format!("{key} is neither a string nor null: {what}"));
            }
        }
        if d.get("line")
            .is_some_and(|v| !v.is_null() && v.as_u64().is_none_or(|n| n == 0))
        {
            problems.push(format!("line is neither a 1-based number nor null: {what}"));
        }
        if scope == Some("recipient") {
            if !d.get("recipient").is_some_and(Value::is_string) {
                problems.push(format!(
                    "a recipient diagnostic without its recipient: {what}"
                ));
            }
            if !d.get("line").is_some_and(Value::is_u64) {
                problems.push(format!(
                    "a recipient diagnostic without its CSV line: {what}"
                ));
            }
        }
        // A suppression list's findings name the suppression file.
        let about_suppression =
            d.get("rule").and_then(Value::as_str) == Some("unreadable-suppression-line");
        if let (Some("recipient" | "list"), Some(name), false) =
            (scope, recipients_file, about_suppression)
        {
            let file = d.get("file").and_then(Value::as_str).unwrap_or("");
            if !file.ends_with(name) {
                problems.push(format!("file should name {name:?}: {what}"));
            }
        }
        diagnostics.push(d);
    }

    if let Some(s) = summary {
        for (key, counted) in [("errors", errors), ("warnings", warnings), ("infos", infos)] {
            if let Some(n) = s.get(key).and_then(Value::as_u64)
                && n != counted
            {
                problems.push(format!(
                    "summary.{key} = {n}, but the report lists {counted} such diagnostics"
                ));
            }
        }
    }
    if let Some(code) = exit
        && (code == 1) != (errors > 0)
    {
        problems.push(format!(
            "exit code {code} does not fit {errors} error-level diagnostics"
        ));
    }
    diagnostics
}

fn describe_actual(d: &Map<String, Value>) -> String {
    let mut short = Map::new();
    for key in [
        "rule",
        "line",
        "field",
        "severity",
        "scope",
        "recipient",
        "message",
    ] {
        if let Some(v) = d.get(key) {
            short.insert(key.to_owned(), v.clone());
        }
    }
    Value::Object(short).to_string()
}

fn matches(want: &Map<String, Value>, got: &Map<String, Value>) -> bool {
    want.get("rule") == got.get("rule")
        && MATCH_KEYS.iter().all(|k| {
            want.get(*k)
                .is_none_or(|w| got.get(*k).unwrap_or(&Value::Null) == w)
        })
}

type Diagnostic = Map<String, Value>;

/// Pairs expected with actual diagnostics; returns (missing, unexpected). The most
/// specific expectations pick first, so a loose one cannot take another's match.
fn match_diagnostics<'a, 'b>(
    want: &'a [Diagnostic],
    got: &[&'b Diagnostic],
) -> (Vec<&'a Diagnostic>, Vec<&'b Diagnostic>) {
    let mut order: Vec<&Diagnostic> = want.iter().collect();
    order.sort_by_key(|w| {
        std::cmp::Reverse(MATCH_KEYS.iter().filter(|k| w.contains_key(**k)).count())
    });
    let mut taken = vec![false; got.len()];
    let mut missing = Vec::new();
    for w in order {
        match (0..got.len()).find(|&i| !taken[i] && matches(w, got[i])) {
            Some(i) => taken[i] = true,
            None => missing.push(w),
        }
    }
    let unexpected = got
        .iter()
        .zip(&taken)
        .filter(|(_, t)| !**t)
        .map(|(d, _)| *d)
        .collect();
    (missing, unexpected)
}

// ------------------------------------------------------------------ the cases

/// Runs the case in `fixtures/cases/<name>/`.
fn run_case(name: &str) {
    let dir = cases_dir().join(name);
    check_case(&dir.join("expected.json"), &dir);
}

// One test per folder of fixtures/cases/ (generated by build.rs from the
// folders found there) and `CASES`, the list of them.
include!(concat!(env!("OUT_DIR"), "/rules/acceptance_cases.rs"));

#[test]
fn every_case_folder_has_an_expected_json() {
    assert!(!CASES.is_empty(), "no case found in fixtures/cases/");
    for case in CASES {
        assert!(
            cases_dir().join(case).join("expected.json").is_file(),
            "{case} has no expected.json"
        );
    }
}

/// The expectations themselves must add up, so a hand edit cannot drift: the
/// summary's error/warning/info counts are the diagnostics' severities, the exit
/// code follows from the errors, and sendable + blocked never exceeds the rows.
#[test]
fn expected_files_are_self_consistent() {
    let mut files: Vec<PathBuf> = CASES
        .iter()
        .map(|c| cases_dir().join(c).join("expected.json"))
        .collect();
    files.push(repo_root().join("fixtures/demo/expected.json"));
    for path in files {
        let e = load_json(&path);
        let exit = e["exit"].as_i64().expect("exit");
        if exit == 2 {
            assert!(
                !strings(e.get("stderr_contains")).is_empty(),
                "{}: an exit-2 case must say which file stderr names",
                path.display()
            );
            continue;
        }
        let s = &e["summary"];
        let count = |sev: &str| {
            e["diagnostics"]
                .as_array()
                .expect("diagnostics")
                .iter()
                .filter(|d| d["severity"] == sev)
                .count() as u64
        };
        for (key, sev) in [
            ("errors", "error"),
            ("warnings", "warning"),
            ("infos", "info"),
        ] {
            assert_eq!(
                s[key].as_u64(),
                Some(count(sev)),
                "{}: {key}",
                path.display()
            );
        }
        assert_eq!(exit == 1, count("error") > 0, "{}: exit", path.display());
        let rows = s["recipients"].as_u64().expect("recipients");
        let distinct =
            s["sendable"].as_u64().expect("sendable") + s["blocked"].as_u64().expect("blocked");
        assert!(
            distinct <= rows,
            "{}: more addresses than rows",
            path.display()
        );
    }
}

/// SPEC §3: every rule has a case that triggers it and a near miss, a case
/// that comes close without triggering it (`"near_miss"` in its
/// expected.json; fixtures/cases/README.md).
#[test]
fn every_rule_has_a_triggering_case_and_a_near_miss() {
    let mut triggered: BTreeSet<String> = BTreeSet::new();
    let mut near_missed: BTreeSet<String> = BTreeSet::new();
    for case in CASES {
        let expected = load_json(&cases_dir().join(case).join("expected.json"));
        let rules = |key: &str, field: Option<&str>| -> Vec<String> {
            expected[key]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|d| match field {
                    Some(field) => d[field].as_str().map(str::to_owned),
                    None => d.as_str().map(str::to_owned),
                })
                .collect()
        };
        triggered.extend(rules("diagnostics", Some("rule")));
        for rule in rules("near_miss", None) {
            assert!(
                mailgate::rules::RuleId::from_name(&rule).is_some(),
                "{case}: near_miss names `{rule}`, which is no rule"
            );
            near_missed.insert(rule);
        }
    }
    let names = || mailgate::rules::RULES.iter().map(|r| r.name);
    let untested: Vec<&str> = names().filter(|n| !triggered.contains(*n)).collect();
    assert!(
        untested.is_empty(),
        "rules no case in fixtures/cases triggers: {untested:?}"
    );
    let no_near_miss: Vec<&str> = names().filter(|n| !near_missed.contains(*n)).collect();
    assert!(
        no_near_miss.is_empty(),
        "rules no case in fixtures/cases names as its near miss: {no_near_miss:?}"
    );
}

// ------------------------------------------------------------------ the demo

#[test]
fn demo_json() {
    check_case(
        &repo_root().join("fixtures/demo/expected.json"),
        &repo_root(),
    );
}

/// Whole numbers in `line`, so "25" does not match inside "125" or "2025".
fn has_number(line: &str, n: u64) -> bool {
    line.split(|c: char| !c.is_ascii_digit())
        .any(|token| token == n.to_string())
}

#[test]
fn demo_human_output() {
    let expected = load_json(&repo_root().join("fixtures/demo/expected.json"));
    let rules: BTreeSet<&str> = expected["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["rule"].as_str().expect("rule"))
        .collect();
    let sendable = expected["summary"]["sendable"].as_u64().expect("sendable");
    let blocked = expected["summary"]["blocked"].as_u64().expect("blocked");

    // Once with NO_COLOR, once without it but with a colour-capable TERM: stdout is a
    // pipe here, so neither run may colour.
    for no_color in [true, false] {
        let mut cmd = mailgate(&repo_root());
        cmd.args(["lint", "fixtures/demo/campaign.toml"]);
        if no_color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR").env("TERM", "xterm-256color");
        }
        let output = cmd.output().expect("mailgate runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let context =
            format!("NO_COLOR={no_color}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");

        assert_eq!(output.status.code(), Some(1), "exit code; {context}");
        assert!(
            !stdout.contains('\x1b') && !stderr.contains('\x1b'),
            "ANSI escapes while not on a terminal; {context}"
        );
        for rule in &rules {
            assert!(stdout.contains(rule), "{rule} is not mentioned; {context}");
        }
        let summary_line = |word: &str, n: u64| {
            stdout
                .lines()
                .any(|l| l.to_lowercase().contains(word) && has_number(l, n))
        };
        assert!(
            summary_line("sendable", sendable),
            "no summary line with {sendable} sendable; {context}"
        );
        assert!(
            summary_line("blocked", blocked),
            "no summary line with {blocked} blocked; {context}"
        );
    }
}

// ------------------------------------------------------------------ the harness itself

/// A report that says exactly what `expected` says, as a correct mailgate would.
fn report_from_expected(expected: &Value) -> Value {
    let file = expected["recipients_file"]
        .as_str()
        .unwrap_or("recipients.csv");
    let diagnostics: Vec<Value> = expected["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            let scope = d["scope"].as_str().expect("scope");
            let on_list = matches!(scope, "recipient" | "list");
            serde_json::json!({
                "rule": d["rule"],
                "severity": d["severity"],
                "scope": scope,
                "message": "as expected",
                "recipient": if scope == "recipient" { Value::from("someone@example.nl") } else { Value::Null },
                "file": if on_list { Value::from(file) } else { Value::from("draft.eml") },
                "line": d.get("line").cloned().unwrap_or(Value::Null),
                "field": d.get("field").cloned().unwrap_or(Value::Null),
            })
        })
        .collect();
    serde_json::json!({
        "mailgate": "0.1.0",
        "summary": expected["summary"],
        "diagnostics": diagnostics,
    })
}

/// The harness accepts a report that matches and names each kind of drift, so a
/// red case means mailgate and SPEC disagree, not that the test is broken.
#[test]
fn harness_accepts_a_matching_report_and_names_each_difference() {
    let expected = load_json(&repo_root().join("fixtures/demo/expected.json"));
    let report = report_from_expected(&expected);
    let problems = compare(&expected, Some(1), &report.to_string(), "");
    assert!(problems.is_empty(), "{problems:#?}");

    // One diagnostic fewer: reported missing, and the counts no longer add up.
    let mut fewer = report.clone();
    let removed = fewer["diagnostics"]
        .as_array_mut()
        .expect("array")
        .remove(0);
    let problems = compare(&expected, Some(1), &fewer.to_string(), "");
    assert!(
        problems.iter().any(|p| p.starts_with("missing diagnostic")
            && p.contains(removed["rule"].as_str().expect("rule"))),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("but the report lists")),
        "{problems:#?}"
    );

    // A diagnostic on the wrong line: one missing, one unexpected.
    let mut moved = report.clone();
    moved["diagnostics"][0]["line"] = Value::from(999);
    let problems = compare(&expected, Some(1), &moved.to_string(), "");
    assert!(
        problems.iter().any(|p| p.starts_with("missing diagnostic")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("unexpected diagnostic")),
        "{problems:#?}"
    );

    // Wrong exit code, wrong count, colour, a key left out.
    let mut bad = report.clone();
    bad["summary"]["sendable"] = Value::from(0);
    bad["diagnostics"][0]
        .as_object_mut()
        .expect("object")
        .remove("field");
    let problems = compare(&expected, Some(0), &format!("\x1b[1m{bad}"), "");
    assert!(
        problems.iter().any(|p| p.starts_with("exit code")),
        "{problems:#?}"
    );
    assert!(problems.iter().any(|p| p.contains("ANSI")), "{problems:#?}");
    assert!(
        problems.iter().any(|p| p.contains("not one JSON object")),
        "{problems:#?}"
    );
    let problems = compare(&expected, Some(1), &bad.to_string(), "");
    assert!(
        problems.iter().any(|p| p.starts_with("summary.sendable")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("lacks key \"field\"")),
        "{problems:#?}"
    );

    // Exit 2: stderr must name the file.
    let exit2 = load_json(&cases_dir().join("exit2-missing-recipients/expected.json"));
    assert!(
        compare(
            &exit2,
            Some(2),
            "",
            "error: cannot read ontvangers.csv: not found"
        )
        .is_empty()
    );
    let problems = compare(&exit2, Some(2), "", "error: file not found");
    assert!(
        problems.iter().any(|p| p.contains("ontvangers.csv")),
        "{problems:#?}"
    );
}

/// Every case's own expectations pass the harness when rendered as a report.
#[test]
fn harness_accepts_every_case_rendered_from_its_expectations() {
    for case in CASES {
        let expected = load_json(&cases_dir().join(case).join("expected.json"));
        if expected["exit"] == 2 {
            continue;
        }
        let code = expected["exit"].as_i64().map(|c| c as i32);
        let report = report_from_expected(&expected);
        let problems = compare(&expected, code, &report.to_string(), "");
        assert!(problems.is_empty(), "{case}: {problems:#?}");
    }
}
