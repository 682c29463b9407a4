//! `empty-merge-field`: the template uses a field that is empty for this recipient.

crate::declare_rule! {
    name: "empty-merge-field",
    scope: recipient,
    default: warning,
    order: 120,
    summary: "the template uses a field that is empty for this recipient",
    explain: "empty_merge_field.md",
}
