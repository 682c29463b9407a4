//! Campaign rules (SPEC §3): `missing-product`, `unknown-product`,
//! `insecure-transport`, `password-in-config`. Each rule is a file of
//! `src/rules/campaign/`; a rule file with a `pub fn check` (of the
//! [`Check`] signature) needs only the campaign file and is run by
//! [`check_config`]; the product rules need the list read first: a
//! [`ProductTally`] follows the rows for them.

use crate::campaign::Campaign;
use crate::diagnostic::Finding;
use crate::judge::{Judge, Verdict};
use crate::recipients::Row;

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

/// What the product rules (`missing-product`, `unknown-product`) learn
/// from the rows: whether any customer relies on soft opt-in, which
/// promoted products appear in some customer's purchases, and the names
/// purchased (what an unknown product may be a misspelling of).
#[derive(Debug)]
pub struct ProductTally {
    relies_on_soft_opt_in: bool,
    /// By promoted product: whether some row purchased it.
    purchased_promoted: Vec<bool>,
    /// Once every promoted product is seen, no row needs looking at for it.
    all_promoted_seen: bool,
    purchased_names: Vec<String>,
}

impl ProductTally {
    pub fn new(campaign: &Campaign) -> Self {
        ProductTally {
            relies_on_soft_opt_in: false,
            purchased_promoted: vec![false; campaign.products.len()],
            all_promoted_seen: campaign.products.is_empty(),
            purchased_names: Vec::new(),
        }
    }

    /// Looks at one row and the judge's verdict on it.
    #[inline]
    pub fn row(&mut self, judge: &Judge<'_>, row: &Row<'_>, verdict: &Verdict<'_>) {
        self.relies_on_soft_opt_in |= verdict.soft_opt_in_tried;
        if !self.all_promoted_seen {
            judge.mark_purchased_products(row, &mut self.purchased_promoted);
            judge.note_purchased_names(row, &mut self.purchased_names);
            self.all_promoted_seen = self.purchased_promoted.iter().all(|&seen| seen);
        }
    }

    /// The product rules' findings, after the last row.
    pub fn finish(&self, campaign: &Campaign) -> Vec<Finding> {
        check_products(
            campaign,
            campaign.display_path().as_deref(),
            self.relies_on_soft_opt_in,
            &self.purchased_promoted,
            &self.purchased_names,
        )
    }
}

/// The product rules, known after the list has been read: whether any
/// customer relies on soft opt-in, and which promoted products appeared in
/// some customer's purchases (and the names purchased, for suggestions).
fn check_products(
    campaign: &Campaign,
    file: Option<&str>,
    relies_on_soft_opt_in: bool,
    purchased: &[bool],
    purchased_names: &[String],
) -> Vec<Finding> {
    // Where the products were named: the campaign file's key, or the
    // `--product` flag (then there is no line in any file to point at).
    let from_flag = !campaign.products.is_empty() && campaign.products_at.is_none();
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
