//! `unknown-product`: a promoted product is in no product group and no customer's purchases.

use crate::campaign::Campaign;
use crate::diagnostic::Finding;
use crate::normalise::same_product;
use crate::rules::RuleId;

crate::declare_rule! {
    name: "unknown-product",
    scope: campaign,
    default: warning,
    order: 20,
    summary: "a promoted product is in no product group and no customer's purchases",
    explain: "unknown_product.md",
}

/// Promoted products in no `[products]` group that no customer bought
/// (`purchased[i]`: whether some row's purchases named `products[i]`;
/// `field`: where the products are named).
pub fn check_list(campaign: &Campaign, purchased: &[bool], field: &str, out: &mut Vec<Finding>) {
    for (product, &seen) in campaign.products.iter().zip(purchased) {
        let grouped = campaign
            .product_groups
            .iter()
            .any(|g| g.products.iter().any(|p| same_product(p, product)));
        if !grouped && !seen {
            out.push(
                Finding::new(
                    RuleId::UnknownProduct,
                    format!(
                        "`{product}` is in no [products] group and no customer bought it: \
                         a typo? soft opt-in can cover nobody for it"
                    ),
                )
                .line(campaign.products_line)
                .field(field),
            );
        }
    }
}
