//! `unreadable-suppression-line`: a line of a suppression list holds no e-mail address.
//!
//! Decided by the suppression reader, which keeps the lines it found no
//! address on ([`crate::recipients::suppression::Loaded::unreadable`]) and
//! refuses a file that is mostly such lines (exit 2); reported from here,
//! by the lint, as each suppression file is loaded (before the list is
//! read, so it is not one of the list checks that follow the rows).

use crate::diagnostic::Finding;
use crate::rules::RuleId;

crate::declare_rule! {
    name: "unreadable-suppression-line",
    scope: list,
    default: warning,
    order: 70,
    summary: "a line of a suppression list holds no e-mail address",
    explain: "unreadable_suppression_line.md",
}

/// The lines of one suppression file (shown as `file`) that hold no address.
pub fn findings(unreadable: &[u64], file: &str) -> Vec<Finding> {
    unreadable
        .iter()
        .map(|&line| {
            Finding::new(
                RuleId::UnreadableSuppressionLine,
                "this line of the suppression list holds no e-mail address, so the \
                 person it means stays sendable; write their address on it",
            )
            .file(file)
            .line(line)
        })
        .collect()
}
