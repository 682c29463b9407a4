//! `purchased-without-consent`: a purchased-list address without consent data (soft opt-in never covers bought addresses).

crate::declare_rule! {
    name: "purchased-without-consent",
    scope: recipient,
    default: error,
    order: 30,
    summary: "a purchased-list address without consent data (soft opt-in never covers bought addresses)",
    explain: "purchased_without_consent.md",
}
