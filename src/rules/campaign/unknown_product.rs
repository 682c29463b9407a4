//! `unknown-product`: a promoted product is in no product group and no customer's purchases.

crate::declare_rule! {
    name: "unknown-product",
    scope: campaign,
    default: warning,
    order: 20,
    summary: "a promoted product is in no product group and no customer's purchases",
    explain: "unknown_product.md",
}
