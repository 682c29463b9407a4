//! `invalid-merge-value`: a merge value that cannot go into this recipient's
//! message headers (checked by the same code that builds them for `send`).

crate::declare_rule! {
    name: "invalid-merge-value",
    scope: recipient,
    default: error,
    order: 130,
    summary: "a merge value cannot go into this recipient's Subject or unsubscribe URL",
    explain: "invalid_merge_value.md",
}
