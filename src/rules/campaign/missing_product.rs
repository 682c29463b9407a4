//! `missing-product`: customers would rely on soft opt-in, but the campaign names no product.

use crate::campaign::Campaign;
use crate::diagnostic::Finding;
use crate::rules::RuleId;

crate::declare_rule! {
    name: "missing-product",
    scope: campaign,
    default: error,
    order: 10,
    summary: "customers would rely on soft opt-in, but the campaign names no product",
    explain: "missing_product.md",
}

/// Customers would rely on soft opt-in, but the campaign names no product
/// (known after the list has been read). `field`: where the products are
/// named (the campaign key or `--product`).
pub fn check_list(
    campaign: &Campaign,
    relies_on_soft_opt_in: bool,
    field: &str,
    out: &mut Vec<Finding>,
) {
    if campaign.products.is_empty() && relies_on_soft_opt_in {
        out.push(
            Finding::new(
                RuleId::MissingProduct,
                "customers would be mailed on soft opt-in, which covers only products \
                 similar to what they bought, but the campaign names no product; set \
                 `product = \"...\"` in [campaign] or pass --product",
            )
            // `products = []`: the key that names none.
            .at(campaign.products_at)
            .field(field),
        );
    }
}
