//! `unknown-customer-value`: a `customer` value that is not yes/no (such rows are judged as non-customers).

crate::declare_rule! {
    name: "unknown-customer-value",
    scope: list,
    default: warning,
    order: 60,
    summary: "a `customer` value that is not yes/no (such rows are judged as non-customers)",
    explain: "unknown_customer_value.md",
}
