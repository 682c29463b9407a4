//! `--format junit`: a JUnit XML report for CI systems that read test
//! results. Each rule is a test case in a suite per scope; a rule with
//! error-level findings fails, with the count and the first examples.

use std::collections::BTreeMap;
use std::io::{self, Write};

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{Emitter, Summary};
use crate::diagnostic::{Diagnostic, Scope, Severity};
use crate::escape;
use crate::rules::{RULES, RuleId};

const EXAMPLES: usize = 20;

#[derive(Default)]
struct RuleResults {
    severity: Option<Severity>,
    count: u64,
    examples: Vec<String>,
}

#[derive(Default)]
pub struct JunitEmitter {
    rules: BTreeMap<RuleId, RuleResults>,
}

impl JunitEmitter {
    pub fn new() -> Self {
        Self::default()
    }
}

fn example(d: &Diagnostic) -> String {
    let f = d;
    let mut at = f.file.unwrap_or_default().to_owned();
    if let Some(line) = f.line {
        at.push_str(&format!(":{line}"));
    }
    let text = match f.recipient {
        Some(r) => format!("{at}: {r}: {}", f.message),
        None => format!("{at}: {}", f.message),
    };
    // A list value's control characters are shown escaped: most are not
    // even allowed in XML, and a CI log prints the text as it is.
    escape::control_chars(&text).into_owned()
}

impl Emitter for JunitEmitter {
    fn diagnostic(&mut self, d: &Diagnostic) -> io::Result<()> {
        let results = self.rules.entry(d.rule()).or_default();
        results.severity = Some(d.severity);
        results.count += 1;
        if results.examples.len() < EXAMPLES {
            results.examples.push(example(d));
        }
        Ok(())
    }

    fn plain(&self) -> bool {
        true
    }

    fn finish(&mut self, _summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
        let mut report = Report::new("mailgate");
        for scope in [Scope::Campaign, Scope::Draft, Scope::List, Scope::Recipient] {
            let mut suite = TestSuite::new(scope.as_str());
            for rule in RULES.iter().filter(|r| r.scope == scope) {
                let results = self.rules.get(&rule.id);
                let count = results.map_or(0, |r| r.count);
                let examples = results.map(|r| r.examples.join("\n")).unwrap_or_default();
                let failed = results.is_some_and(|r| r.severity == Some(Severity::Error));
                let status = if failed {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status
                        .set_message(format!("{count} × {}", rule.summary))
                        .set_type(rule.name)
                        .set_description(examples.clone());
                    status
                } else {
                    TestCaseStatus::success()
                };
                let mut case = TestCase::new(rule.name, status);
                case.set_classname(format!("mailgate.{}", scope.as_str()));
                if !failed && count > 0 {
                    // Warnings and infos pass, with the findings as output.
                    case.set_system_out(format!("{count} finding(s)\n{examples}"));
                }
                suite.add_test_case(case);
            }
            report.add_test_suite(suite);
        }
        // Serialised into memory first (a few examples per rule: small), so
        // that an error writing `out` keeps its kind: a closed pipe
        // (`mailgate lint --format junit | head`) is no tool error.
        let mut xml = Vec::new();
        report
            .serialize(&mut xml)
            .map_err(|e| io::Error::other(e.to_string()))?;
        out.write_all(&xml)?;
        writeln!(out)
    }
}
