//! `unreadable-suppression-line`: a line of a suppression list holds no e-mail address.

crate::declare_rule! {
    name: "unreadable-suppression-line",
    scope: list,
    default: warning,
    order: 70,
    summary: "a line of a suppression list holds no e-mail address",
    explain: "unreadable_suppression_line.md",
}
