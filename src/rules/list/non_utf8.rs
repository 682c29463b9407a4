//! `non-utf8`: the CSV is not UTF-8 and was read as Windows-1252.

use crate::diagnostic::Finding;
use crate::rules::RuleId;

crate::declare_rule! {
    name: "non-utf8",
    scope: list,
    default: warning,
    order: 50,
    summary: "the CSV is not UTF-8 and was read as Windows-1252",
    explain: "non_utf8.md",
}

/// The list was read as Windows-1252 from `first_line` on.
pub fn check(first_line: Option<u64>, file: &str) -> Option<Finding> {
    first_line.map(|line| {
        Finding::new(
            RuleId::NonUtf8,
            "the file is not UTF-8 and was read as Windows-1252; save it as UTF-8 \
             (in Excel: \"CSV UTF-8\") to be sure names come out right",
        )
        .file(file)
        .line(line)
    })
}
