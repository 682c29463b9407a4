//! `missing-sender`: the draft has no valid From.

crate::declare_rule! {
    name: "missing-sender",
    scope: draft,
    default: error,
    order: 70,
    summary: "the draft has no valid From",
    explain: "missing_sender.md",
}
