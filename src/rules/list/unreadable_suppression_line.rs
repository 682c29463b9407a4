//! `unreadable-suppression-line`: a line of a suppression list holds no e-mail address.

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
pub fn check(unreadable: &[u64], file: &str) -> Vec<Finding> {
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
