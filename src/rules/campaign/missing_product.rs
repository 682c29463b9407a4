//! `missing-product`: customers would rely on soft opt-in, but the campaign names no product.

crate::declare_rule! {
    name: "missing-product",
    scope: campaign,
    default: error,
    order: 10,
    summary: "customers would rely on soft opt-in, but the campaign names no product",
    explain: "missing_product.md",
}
