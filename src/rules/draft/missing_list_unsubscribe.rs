//! `missing-list-unsubscribe`: no List-Unsubscribe header and no unsubscribe_url to add one.

crate::declare_rule! {
    name: "missing-list-unsubscribe",
    scope: draft,
    default: warning,
    order: 30,
    summary: "no List-Unsubscribe header and no unsubscribe_url to add one",
    explain: "missing_list_unsubscribe.md",
}
