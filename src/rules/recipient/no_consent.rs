//! `no-consent`: a non-customer on the own list carries no consent data at all.

crate::declare_rule! {
    name: "no-consent",
    scope: recipient,
    default: error,
    order: 10,
    summary: "a non-customer on the own list carries no consent data at all",
    explain: "no_consent.md",
}
