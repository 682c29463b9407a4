//! Campaign rules (SPEC §3): `missing-product`, `unknown-product`,
//! `insecure-transport`, `password-in-config`. Each rule is a file of
//! `src/rules/campaign/`; a rule file with a `pub fn check` (of the
//! [`Check`] signature) needs only the campaign file and is run by
//! [`check_config`]; the product rules need the list read first.

use crate::campaign::Campaign;
use crate::diagnostic::Finding;

/// The check of a campaign rule that needs only the campaign file.
pub type Check = fn(&Campaign, &mut Vec<Finding>);

// The rule files of this scope (src/rules/campaign/) and `CHECKS`, the
// checks among them, found by build.rs.
include!(concat!(env!("OUT_DIR"), "/rules/campaign.rs"));

/// The rules that need only the campaign file.
pub fn check_config(campaign: &Campaign) -> Vec<Finding> {
    let mut out = Vec::new();
    for check in CHECKS {
        check(campaign, &mut out);
    }
    locate(out, campaign.display_path().as_deref())
}

/// The product rules, known after the list has been read: whether any
/// customer relies on soft opt-in, and which promoted products appeared in
/// some customer's purchases (and the names purchased, for suggestions).
pub fn check_products(
    campaign: &Campaign,
    file: Option<&str>,
    relies_on_soft_opt_in: bool,
    purchased: &[bool],
    purchased_names: &[String],
) -> Vec<Finding> {
    // Where the products were named: the campaign file's key, or the
    // `--product` flag (then there is no line in any file to point at).
    let from_flag = !campaign.products.is_empty() && campaign.products_line.is_none();
    let field = if from_flag || file.is_none() {
        "--product"
    } else {
        "campaign.product"
    };
    let mut out = Vec::new();
    missing_product::check_list(campaign, relies_on_soft_opt_in, field, &mut out);
    unknown_product::check_list(campaign, purchased, purchased_names, field, &mut out);
    locate(out, file.filter(|_| !from_flag))
}

/// Points every finding at the campaign file, when there is one.
fn locate(findings: Vec<Finding>, file: Option<&str>) -> Vec<Finding> {
    match file {
        Some(file) => findings.into_iter().map(|f| f.file(file)).collect(),
        None => findings,
    }
}
