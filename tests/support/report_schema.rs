//! Every JSON report a test produces — `lint --format json` reports and
//! `send --format json` summaries — is checked against the published
//! schema, `docs/report.schema.json`, by Python's jsonschema (installed by
//! `scripts/setup-test-deps.sh`): one validator process per test binary,
//! fed one report per line. Include with
//! `#[path = "support/report_schema.rs"] mod report_schema;`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The validator: its process, the pipe to it and the lines from it.
struct Validator {
    _child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

fn validator() -> &'static Mutex<Validator> {
    static VALIDATOR: OnceLock<Mutex<Validator>> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let python = std::env::var("MAILGATE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = Command::new(&python)
            .arg(root.join("tests/support/validate_json_schema.py"))
            .arg("--serve")
            .arg(root.join("docs/report.schema.json"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {python} ({e}); run scripts/setup-test-deps.sh")
            });
        let input = child.stdin.take().expect("its stdin");
        let output = BufReader::new(child.stdout.take().expect("its stdout"));
        Mutex::new(Validator {
            _child: child,
            input,
            output,
        })
    })
}

/// The violations of `report` against the schema (empty: valid); a report
/// that is not JSON at all is one violation.
pub fn violations(report: &[u8]) -> Vec<String> {
    let document: serde_json::Value = match serde_json::from_slice(report) {
        Ok(document) => document,
        Err(e) => return vec![format!("not JSON: {e}")],
    };
    // A test that failed while holding the lock leaves the pipe as it was.
    let mut validator = validator().lock().unwrap_or_else(|e| e.into_inner());
    let mut line = serde_json::to_string(&document).expect("JSON to text");
    line.push('\n');
    validator
        .input
        .write_all(line.as_bytes())
        .and_then(|()| validator.input.flush())
        .expect("the schema validator takes the report (is python3's jsonschema installed?)");
    let mut answer = String::new();
    validator
        .output
        .read_line(&mut answer)
        .expect("the schema validator answers");
    serde_json::from_str(&answer)
        .unwrap_or_else(|e| panic!("the schema validator did not answer ({e}): {answer:?}"))
}

/// Panics unless `report` (what `lint` or `send --format json` printed)
/// follows the schema.
pub fn assert_valid(report: &[u8]) {
    let violations = violations(report);
    assert!(
        violations.is_empty(),
        "the JSON report does not follow docs/report.schema.json:\n{}\n--- report ---\n{}",
        violations.join("\n"),
        String::from_utf8_lossy(&report[..report.len().min(4000)])
    );
}
