//! The CI formats of `mailgate lint`, on the README's demo: SARIF validated
//! against the official SARIF 2.1.0 schema (offline, `tests/data/`), GitHub
//! workflow annotations, and JUnit XML — each carrying the same diagnostics
//! as the JSON report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use assert_cmd::Command;
use predicates::Predicate;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde_json::Value;

#[path = "support/report_schema.rs"]
mod report_schema;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `mailgate lint fixtures/demo/campaign.toml --format FORMAT`: its stdout,
/// after checking the exit code (the demo has errors).
fn demo(format: &str) -> String {
    let output = Command::cargo_bin("mailgate")
        .expect("the mailgate binary is built")
        .current_dir(repo_root())
        .env("NO_COLOR", "1")
        .args(["lint", "fixtures/demo/campaign.toml", "--format", format])
        .timeout(Duration::from_secs(60))
        .output()
        .expect("mailgate runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    assert_eq!(
        output.status.code(),
        Some(1),
        "--format {format}\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// (rule, severity, line) of every diagnostic in the JSON report, counted.
fn demo_diagnostics() -> BTreeMap<(String, String, Option<u64>), usize> {
    let json = demo("json");
    report_schema::assert_valid(json.as_bytes());
    let report: Value = serde_json::from_str(&json).expect("JSON");
    let mut counts = BTreeMap::new();
    for d in report["diagnostics"].as_array().expect("diagnostics") {
        let key = (
            d["rule"].as_str().expect("rule").to_owned(),
            d["severity"].as_str().expect("severity").to_owned(),
            d["line"].as_u64(),
        );
        *counts.entry(key).or_default() += 1;
    }
    counts
}

// ------------------------------------------------------------------ SARIF

/// The interpreter that runs the schema validator (`scripts/setup-test-deps.sh`
/// installs its jsonschema package).
fn python() -> String {
    std::env::var("MAILGATE_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Validates `document` against the vendored SARIF 2.1.0 schema; returns the
/// violations (empty: valid).
fn sarif_violations(document: &Value) -> Vec<String> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("log.sarif");
    std::fs::write(&path, document.to_string()).expect("write the log");
    let output = std::process::Command::new(python())
        .arg(repo_root().join("tests/support/validate_json_schema.py"))
        .arg(schema_path())
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}); run scripts/setup-test-deps.sh",
                python()
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => Vec::new(),
        Some(1) => stdout.lines().map(str::to_owned).collect(),
        _ => panic!("the schema validator did not run:\n{stdout}\n{stderr}"),
    }
}

fn schema_path() -> PathBuf {
    repo_root().join("tests/data/sarif-schema-2.1.0.json")
}

#[test]
fn the_vendored_schema_is_sarif_2_1_0() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path()).expect("the vendored schema"))
            .expect("JSON");
    assert_eq!(
        schema["title"],
        "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    );
    assert_eq!(
        schema["properties"]["version"]["enum"],
        serde_json::json!(["2.1.0"])
    );
    assert_eq!(schema["required"], serde_json::json!(["version", "runs"]));
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let log: Value = serde_json::from_str(&demo("sarif")).expect("SARIF is JSON");
    let violations = sarif_violations(&log);
    assert!(violations.is_empty(), "{}", violations.join("\n"));

    // The same diagnostics as the JSON report, each located.
    let results = log["runs"][0]["results"].as_array().expect("results");
    let mut counts = BTreeMap::new();
    for r in results {
        let level = match r["level"].as_str().expect("level") {
            "note" => "info",
            other => other,
        };
        let region = &r["locations"][0]["physicalLocation"];
        assert!(
            region["artifactLocation"]["uri"].is_string(),
            "a result without a file: {r}"
        );
        let key = (
            r["ruleId"].as_str().expect("ruleId").to_owned(),
            level.to_owned(),
            region["region"]["startLine"].as_u64(),
        );
        *counts.entry(key).or_default() += 1;
    }
    assert_eq!(counts, demo_diagnostics());
    // Every rule's documentation travels with the log.
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    assert_eq!(rules.len(), mailgate::rules::RULES.len());
}

/// A finding on a line mailgate can show (a list's header, the draft, the
/// campaign file) carries the columns of what it points at, as the human
/// report underlines it; a recipient row carries only its line.
#[test]
fn sarif_regions_have_columns_where_the_human_report_underlines() {
    let log: Value = serde_json::from_str(&demo("sarif")).expect("SARIF is JSON");
    let results = log["runs"][0]["results"].as_array().expect("results");
    let region_of = |rule: &str| {
        results
            .iter()
            .find(|r| r["ruleId"] == rule)
            .map(|r| r["locations"][0]["physicalLocation"]["region"].clone())
            .unwrap_or_else(|| panic!("no {rule} in the demo's SARIF"))
    };
    // `Klantnummer` starts at byte 32 of the header line (the human report: 1:33).
    let unused = region_of("unused-column");
    assert_eq!(
        (
            unused["startLine"].as_u64(),
            unused["startColumn"].as_u64(),
            unused["endColumn"].as_u64()
        ),
        (Some(1), Some(33), Some(44)),
        "{unused}"
    );
    let row = region_of("no-consent");
    assert!(row["startLine"].as_u64().is_some_and(|l| l > 1), "{row}");
    assert!(row.get("startColumn").is_none(), "{row}");
}

#[test]
fn the_schema_check_rejects_what_is_not_sarif_2_1_0() {
    // So that a green validation above means something.
    let log: Value = serde_json::from_str(&demo("sarif")).expect("SARIF is JSON");
    let mut old_version = log.clone();
    old_version["version"] = Value::from("2.0.0");
    let mut no_message = log.clone();
    no_message["runs"][0]["results"][0]
        .as_object_mut()
        .expect("a result")
        .remove("message");
    let mut bad_level = log;
    bad_level["runs"][0]["results"][0]["level"] = Value::from("fatal");
    for (what, document, pointer) in [
        ("version 2.0.0", old_version, "/version"),
        ("a result without message", no_message, "/runs/0/results/0"),
        ("level fatal", bad_level, "/runs/0/results/0/level"),
    ] {
        let violations = sarif_violations(&document);
        assert!(
            violations.iter().any(|v| v.starts_with(pointer)),
            "{what} should be rejected at {pointer}: {violations:?}"
        );
    }
}

// ------------------------------------------------------------------ GitHub

#[test]
fn github_annotations_are_workflow_commands_for_every_diagnostic() {
    let stdout = demo("github");
    let lines: Vec<&str> = stdout.lines().collect();
    let (summary, annotations) = lines.split_last().expect("output");
    assert!(
        summary.starts_with("mailgate: ") && summary.contains("sendable"),
        "{summary}"
    );
    let command = predicates::str::is_match(
        r"^::(error|warning|notice) file=[^,:]+,line=[1-9][0-9]*,title=[a-z0-9-]+::\S.*$",
    )
    .expect("a valid regex");
    let mut counts = BTreeMap::new();
    for line in annotations {
        assert!(command.eval(line), "not a workflow command: {line}");
        let (head, _) = line[2..].split_once("::").expect("::message");
        let (kind, properties) = head.split_once(' ').expect("properties");
        let property = |name: &str| {
            properties
                .split(',')
                .find_map(|p| p.strip_prefix(&format!("{name}=")))
                .expect("property")
        };
        let severity = if kind == "notice" { "info" } else { kind };
        let key = (
            property("title").to_owned(),
            severity.to_owned(),
            property("line").parse::<u64>().ok(),
        );
        *counts.entry(key).or_default() += 1;
    }
    // The demo has fewer than ten of each recipient rule, so none is summarised.
    assert_eq!(counts, demo_diagnostics());
}

// ------------------------------------------------------------------ JUnit

/// One `<testcase>`: its name and the children it has.
#[derive(Debug, Default)]
struct JunitCase {
    name: String,
    children: Vec<String>,
    failure_type: Option<String>,
}

fn attribute(element: &BytesStart<'_>, name: &str) -> Option<String> {
    element
        .try_get_attribute(name)
        .expect("well-formed attributes")
        .map(|a| {
            a.normalized_value(XmlVersion::Explicit1_0)
                .expect("escaped text")
                .into_owned()
        })
}

/// Parses the report with quick-xml, checking that it is well-formed (one
/// root, every element closed in order), and returns the root's attributes
/// and every test case.
fn parse_junit(xml: &str) -> (BTreeMap<String, String>, Vec<JunitCase>) {
    let mut reader = Reader::from_str(xml);
    let mut open: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut root = BTreeMap::new();
    let mut cases: Vec<JunitCase> = Vec::new();
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed at {}: {e}", reader.buffer_position()));
        let (element, empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                assert_eq!(open.pop().as_deref(), Some(name.as_str()), "misnested");
                continue;
            }
            Event::Text(t) => {
                assert!(
                    !open.is_empty() || t.iter().all(u8::is_ascii_whitespace),
                    "text outside the root"
                );
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = String::from_utf8_lossy(element.name().as_ref()).into_owned();
        if open.is_empty() {
            roots += 1;
            for a in element.attributes() {
                let a = a.expect("an attribute");
                root.insert(
                    String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                    a.normalized_value(XmlVersion::Explicit1_0)
                        .expect("escaped text")
                        .into_owned(),
                );
            }
            root.insert("<name>".to_owned(), name.clone());
        }
        if name == "testcase" {
            cases.push(JunitCase {
                name: attribute(element, "name").expect("a test case name"),
                ..JunitCase::default()
            });
        } else if open.last().is_some_and(|p| p == "testcase") {
            let case = cases.last_mut().expect("the open test case");
            if name == "failure" {
                case.failure_type = attribute(element, "type");
            }
            case.children.push(name.clone());
        }
        if !empty {
            open.push(name);
        }
    }
    assert!(open.is_empty(), "unclosed elements: {open:?}");
    assert_eq!(roots, 1, "one root element");
    (root, cases)
}

#[test]
fn junit_is_well_formed_with_a_failing_case_per_error_rule() {
    let xml = demo("junit");
    assert!(xml.starts_with("<?xml"), "{xml}");
    let (root, cases) = parse_junit(&xml);
    assert_eq!(root["<name>"], "testsuites");

    let diagnostics = demo_diagnostics();
    let failing: Vec<&str> = cases
        .iter()
        .filter(|c| c.children.iter().any(|child| child == "failure"))
        .map(|c| c.name.as_str())
        .collect();
    let mut error_rules: Vec<&str> = diagnostics
        .keys()
        .filter(|(_, severity, _)| severity == "error")
        .map(|(rule, _, _)| rule.as_str())
        .collect();
    error_rules.dedup();
    let mut failing_sorted = failing.clone();
    failing_sorted.sort_unstable();
    error_rules.sort_unstable();
    error_rules.dedup();
    assert_eq!(failing_sorted, error_rules);
    assert!(failing.contains(&"no-consent"), "{failing:?}");

    // A warning rule passes, with its findings as output; the failure names its rule.
    let stale = cases
        .iter()
        .find(|c| c.name == "stale-customer")
        .expect("stale-customer");
    assert_eq!(stale.children, ["system-out"]);
    for case in cases.iter().filter(|c| c.failure_type.is_some()) {
        assert_eq!(case.failure_type.as_deref(), Some(case.name.as_str()));
    }
    assert_eq!(root["tests"], mailgate::rules::RULES.len().to_string());
    assert_eq!(root["failures"], failing.len().to_string());
}

#[test]
fn the_junit_check_rejects_broken_xml() {
    // So that a green parse above means something.
    for broken in [
        "<testsuites><testsuite></testsuites>",
        "<testsuites></testsuites><testsuites/>",
        "<testsuites><testcase name=\"a\"></testsuites>",
    ] {
        let result = std::panic::catch_unwind(|| parse_junit(broken));
        assert!(result.is_err(), "accepted {broken}");
    }
}

// ------------------------------------------------------------------ pipes

#[test]
fn a_closed_pipe_is_no_error_in_any_format() {
    // `mailgate lint … | head`: the reader goes away before the report is
    // written; that is not the tool failing (exit 2).
    for format in ["human", "json", "sarif", "github", "junit"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mailgate"))
            .current_dir(repo_root())
            .env("NO_COLOR", "1")
            .args(["lint", "fixtures/demo/campaign.toml", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mailgate starts");
        drop(child.stdout.take());
        let output = child.wait_with_output().expect("mailgate ends");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.code() != Some(2) && !stderr.contains("error"),
            "--format {format}: exit {:?}\n{stderr}",
            output.status.code()
        );
    }
}

// ------------------------------------------------------------------ JSON to a file

/// `mailgate lint ARGS --format json`, to stdout and with `--output`, in
/// `dir`: both reports' bytes, after checking that the runs agree.
fn json_both_ways(dir: &std::path::Path, args: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let run = |extra: &[&str]| {
        Command::cargo_bin("mailgate")
            .expect("the mailgate binary is built")
            .current_dir(dir)
            .arg("lint")
            .args(args)
            .args(["--format", "json"])
            .args(extra)
            .timeout(Duration::from_secs(60))
            .output()
            .expect("mailgate runs")
    };
    let to_stdout = run(&[]);
    let to_file = run(&["--output", "report.json"]);
    assert_eq!(to_stdout.status.code(), to_file.status.code());
    assert!(
        to_file.stdout.is_empty(),
        "--output writes nothing to stdout"
    );
    let file = std::fs::read(dir.join("report.json")).expect("the report file");
    report_schema::assert_valid(&file);
    report_schema::assert_valid(&to_stdout.stdout);
    (to_stdout.stdout, file)
}

#[test]
fn json_to_a_file_is_the_same_bytes_as_to_stdout() {
    // The file is written in place with the summary filled in at the end;
    // stdout gets it through a spill. A reader must not see a difference.
    let dir = tempfile::tempdir().unwrap();
    let copy = |name: &str| {
        std::fs::copy(
            repo_root().join("fixtures/demo").join(name),
            dir.path().join(name),
        )
        .unwrap();
    };
    for name in [
        "campaign.toml",
        "draft.eml",
        "recipients.csv",
        "unsubscribed.csv",
    ] {
        copy(name);
    }
    let (stdout, file) = json_both_ways(dir.path(), &["campaign.toml"]);
    assert_eq!(
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(file.clone()).unwrap()
    );
    let report: Value = serde_json::from_slice(&file).expect("valid JSON");
    assert_eq!(report["summary"]["recipients"], 50);
    assert_eq!(report["summary"]["sendable"], 25);
    assert_eq!(
        report["diagnostics"].as_array().unwrap().len() as u64,
        ["errors", "warnings", "infos"]
            .iter()
            .map(|k| report["summary"][k].as_u64().unwrap())
            .sum::<u64>()
    );
    // The keys in SPEC §4's order: the summary before the diagnostics.
    let text = String::from_utf8(file).unwrap();
    let at = |key: &str| text.find(key).unwrap();
    assert!(at("\"mailgate\"") < at("\"summary\"") && at("\"summary\"") < at("\"diagnostics\""));
}

#[test]
fn json_of_a_clean_lint_to_a_file_is_the_same_bytes_as_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("mailgate")
        .unwrap()
        .args(["init"])
        .arg(dir.path().join("new"))
        .assert()
        .success();
    let (stdout, file) = json_both_ways(&dir.path().join("new"), &["campaign.toml"]);
    assert_eq!(stdout, file);
    let report: Value = serde_json::from_slice(&file).expect("valid JSON");
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(report["diagnostics"], serde_json::json!([]));
}

// ------------------------------------------------------------------ JSON schema

#[test]
fn the_report_schema_rejects_what_is_not_a_report() {
    // So that every test's check against docs/report.schema.json means
    // something: each change below breaks SPEC §4's format.
    let report: Value = serde_json::from_str(&demo("json")).expect("JSON");
    let mut cases: Vec<(&str, Value, &str)> = Vec::new();
    let mut no_summary = report.clone();
    no_summary.as_object_mut().unwrap().remove("summary");
    cases.push(("no summary", no_summary, "/"));
    let mut negative = report.clone();
    negative["summary"]["blocked"] = Value::from(-1);
    cases.push(("a negative count", negative, "/summary/blocked"));
    let mut severity = report.clone();
    severity["diagnostics"][0]["severity"] = Value::from("fatal");
    cases.push(("severity fatal", severity, "/diagnostics/0/severity"));
    let mut missing_key = report.clone();
    missing_key["diagnostics"][0]
        .as_object_mut()
        .unwrap()
        .remove("field");
    cases.push(("a diagnostic without field", missing_key, "/diagnostics/0"));
    let mut extra = report.clone();
    extra["diagnostics"][0]["extra"] = Value::from(1);
    cases.push(("an unknown key", extra, "/diagnostics/0"));
    let recipient_at = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .position(|d| d["scope"] == "recipient")
        .expect("a recipient diagnostic");
    let mut no_line = report.clone();
    no_line["diagnostics"][recipient_at]["line"] = Value::Null;
    let pointer = format!("/diagnostics/{recipient_at}/line");
    cases.push(("a recipient diagnostic without line", no_line, &pointer));
    for (what, document, pointer) in cases {
        let violations = report_schema::violations(document.to_string().as_bytes());
        assert!(
            violations.iter().any(|v| v.starts_with(pointer)),
            "{what} should be rejected at {pointer}: {violations:?}"
        );
    }
    assert!(report_schema::violations(report.to_string().as_bytes()).is_empty());
}

// ------------------------------------------------------------------ JSON into `> file`

#[test]
fn json_into_a_redirected_file_is_the_same_as_output_and_appends_after_what_is_there() {
    // `mailgate lint … > report.json` streams into the file and goes back
    // for the summary, as --output does; `>>` (append) must not be sought
    // back into: there the report comes after what the file held.
    let dir = tempfile::tempdir().unwrap();
    let run = |stdout: std::fs::File, extra: &[&str]| {
        let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("mailgate"))
            .current_dir(repo_root())
            .args(["lint", "fixtures/demo/campaign.toml", "--format", "json"])
            .args(extra)
            .stdout(stdout)
            .status()
            .expect("mailgate runs");
        assert_eq!(status.code(), Some(1));
    };
    let output = dir.path().join("output.json");
    run(
        std::fs::File::create(dir.path().join("unused")).unwrap(),
        &["--output", output.to_str().unwrap()],
    );
    let redirected = dir.path().join("redirected.json");
    run(std::fs::File::create(&redirected).unwrap(), &[]);
    let expected = std::fs::read(&output).unwrap();
    report_schema::assert_valid(&expected);
    assert_eq!(std::fs::read(&redirected).unwrap(), expected);

    let appended = dir.path().join("appended.json");
    std::fs::write(&appended, b"before\n").unwrap();
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(&appended)
        .unwrap();
    run(file, &[]);
    let mut want = b"before\n".to_vec();
    want.extend_from_slice(&expected);
    assert_eq!(std::fs::read(&appended).unwrap(), want);
}
