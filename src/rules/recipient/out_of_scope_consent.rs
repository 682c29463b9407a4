//! `out-of-scope-consent`: consent exists but its scope does not cover a promoted product.

crate::declare_rule! {
    name: "out-of-scope-consent",
    scope: recipient,
    default: error,
    order: 50,
    summary: "consent exists but its scope does not cover a promoted product",
    explain: "out_of_scope_consent.md",
}
