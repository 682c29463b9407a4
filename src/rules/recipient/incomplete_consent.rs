//! `incomplete-consent`: consent has a date but no source, or a source but no date.

crate::declare_rule! {
    name: "incomplete-consent",
    scope: recipient,
    default: error,
    order: 40,
    summary: "consent has a date but no source, or a source but no date",
    explain: "incomplete_consent.md",
}
