//! `duplicate-address`: the address occurred on an earlier row (it is sent once).

crate::declare_rule! {
    name: "duplicate-address",
    scope: recipient,
    default: warning,
    order: 110,
    summary: "the address occurred on an earlier row (it is sent once)",
    explain: "duplicate_address.md",
}
