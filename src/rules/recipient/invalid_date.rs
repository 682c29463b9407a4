//! `invalid-date`: a date the judgement needs does not parse.

crate::declare_rule! {
    name: "invalid-date",
    scope: recipient,
    default: error,
    order: 80,
    summary: "a date the judgement needs does not parse",
    explain: "invalid_date.md",
}
