//! `unrelated-product`: a customer without consent: the mailing promotes something not similar to what they bought.

crate::declare_rule! {
    name: "unrelated-product",
    scope: recipient,
    default: error,
    order: 20,
    summary: "a customer without consent: the mailing promotes something not similar to what they bought",
    explain: "unrelated_product.md",
}
