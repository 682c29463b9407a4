//! `invalid-address`: the address is not a deliverable RFC 5322 addr-spec.

crate::declare_rule! {
    name: "invalid-address",
    scope: recipient,
    default: warning,
    order: 70,
    summary: "the address is not a deliverable RFC 5322 addr-spec",
    explain: "invalid_address.md",
}
