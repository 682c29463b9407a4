//! `unknown-merge-field`: a template uses a variable that is no column and no built-in.

crate::declare_rule! {
    name: "unknown-merge-field",
    scope: draft,
    default: error,
    order: 120,
    summary: "a template uses a variable that is no column and no built-in",
    explain: "unknown_merge_field.md",
}
