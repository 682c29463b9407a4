//! `non-utf8`: the CSV is not UTF-8 and was read as Windows-1252.

crate::declare_rule! {
    name: "non-utf8",
    scope: list,
    default: warning,
    order: 50,
    summary: "the CSV is not UTF-8 and was read as Windows-1252",
    explain: "non_utf8.md",
}
