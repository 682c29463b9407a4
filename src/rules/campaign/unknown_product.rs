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
/// `purchased_names`: names seen in the list's purchases, for a
/// did-you-mean; `field`: where the products are named).
pub fn check_list(
    campaign: &Campaign,
    purchased: &[bool],
    purchased_names: &[String],
    field: &str,
    out: &mut Vec<Finding>,
) {
    let known: Vec<&str> = campaign
        .product_groups
        .iter()
        .flat_map(|g| g.products.iter().map(String::as_str))
        .chain(purchased_names.iter().map(String::as_str))
        .collect();
    for (index, (product, &seen)) in campaign.products.iter().zip(purchased).enumerate() {
        let grouped = campaign
            .product_groups
            .iter()
            .any(|g| g.products.iter().any(|p| same_product(p, product)));
        if !grouped && !seen {
            let hint = crate::suggest::suggest(product, &known)
                .map(|near| format!("; did you mean `{near}`?"))
                .unwrap_or_else(|| ": a typo?".to_owned());
            out.push(
                Finding::new(
                    RuleId::UnknownProduct,
                    format!(
                        "`{product}` is in no [products] group and no customer bought it \
                         (soft opt-in can cover nobody for it){hint}"
                    ),
                )
                // The product as written in the file, else the key (a
                // place from `--product` is none).
                .at(campaign.product_places.get(index).copied().or(campaign.products_at))
                .field(field),
            );
        }
    }
}
