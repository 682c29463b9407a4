//! `missing-sender-identity`: the body does not name the sending legal entity.

crate::declare_rule! {
    name: "missing-sender-identity",
    scope: draft,
    default: warning,
    order: 90,
    summary: "the body does not name the sending legal entity",
    explain: "missing_sender_identity.md",
}
