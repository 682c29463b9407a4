//! `unknown-list-source`: a `list_source` value that is neither own nor purchased (such rows are judged as purchased).

crate::declare_rule! {
    name: "unknown-list-source",
    scope: list,
    default: warning,
    order: 30,
    summary: "a `list_source` value that is neither own nor purchased (such rows are judged as purchased)",
    explain: "unknown_list_source.md",
}
