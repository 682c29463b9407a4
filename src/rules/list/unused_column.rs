//! `unused-column`: a column that no rule and no template uses is carried along.

crate::declare_rule! {
    name: "unused-column",
    scope: list,
    default: warning,
    order: 40,
    summary: "a column that no rule and no template uses is carried along",
    explain: "unused_column.md",
}
