//! `stale-consent`: consent older than consent_max_age_months.

crate::declare_rule! {
    name: "stale-consent",
    scope: recipient,
    default: warning,
    order: 100,
    summary: "consent older than consent_max_age_months",
    explain: "stale_consent.md",
}
