//! `national-id`: a column holds national identification numbers (BSN, SSN).

crate::declare_rule! {
    name: "national-id",
    scope: list,
    default: error,
    order: 20,
    summary: "a column holds national identification numbers (BSN, SSN)",
    explain: "national_id.md",
}
