//! `missing-postal-address`: the body does not contain the sender's postal address.

crate::declare_rule! {
    name: "missing-postal-address",
    scope: draft,
    default: info,
    // CAN-SPAM 15 U.S.C. 7704(a)(5)(A)(iii): a valid physical postal address.
    jurisdictions: { us: error },
    order: 100,
    summary: "the body does not contain the sender's postal address",
    explain: "missing_postal_address.md",
}
