//! `stale-customer`: soft opt-in rests on a purchase older than soft_opt_in_months.

crate::declare_rule! {
    name: "stale-customer",
    scope: recipient,
    default: warning,
    // CASL: implied consent from a purchase lapses after two years.
    jurisdictions: { ca: error },
    order: 90,
    summary: "soft opt-in rests on a purchase older than soft_opt_in_months",
    explain: "stale_customer.md",
}
