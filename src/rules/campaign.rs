//! Campaign rules: `password-in-config`, `insecure-transport`,
//! `missing-product`, `unknown-product`.

// The rule files of this scope (src/rules/campaign/), found by build.rs.
include!(concat!(env!("OUT_DIR"), "/rules/campaign.rs"));

pub use crate::campaign::is_loopback;
use crate::campaign::{Campaign, Tls};
use crate::diagnostic::Finding;
use crate::normalise::same_product;
use crate::rules::RuleId;

/// The rules that need only the campaign file.
pub fn check_config(campaign: &Campaign) -> Vec<Finding> {
    let file = campaign.display_path();
    let locate = |finding: Finding| match &file {
        Some(file) => finding.file(file),
        None => finding,
    };
    let mut findings: Vec<Finding> = campaign
        .findings
        .iter()
        .map(|f| locate(Finding::new(f.rule, &f.message).line(f.line).field(&f.key)))
        .collect();
    if let Some(smtp) = &campaign.smtp
        && smtp.tls == Tls::None
        && !is_loopback(&smtp.host)
    {
        findings.push(locate(
            Finding::new(
                RuleId::InsecureTransport,
                format!(
                    "tls = \"none\" sends mail and the password in clear text to {}; \
                         use \"starttls\" or \"tls\"",
                    smtp.host
                ),
            )
            .line(smtp.tls_line)
            .field("smtp.tls"),
        ));
    }
    findings
}

/// The product rules, known after the list has been read: whether any
/// customer relies on soft opt-in, and which promoted products appeared in
/// some customer's purchases.
pub fn check_products(
    campaign: &Campaign,
    file: Option<&str>,
    relies_on_soft_opt_in: bool,
    purchased: &[bool],
) -> Vec<Finding> {
    // Where the products were named: the campaign file's key, or the
    // `--product` flag (then there is no line in any file to point at).
    let from_flag = !campaign.products.is_empty() && campaign.products_line.is_none();
    let field = if from_flag || file.is_none() {
        "--product"
    } else {
        "campaign.product"
    };
    let locate = |finding: Finding| match file {
        Some(file) if !from_flag => finding.file(file),
        _ => finding,
    };
    let mut findings = Vec::new();
    if campaign.products.is_empty() {
        if relies_on_soft_opt_in {
            findings.push(locate(
                Finding::new(
                    RuleId::MissingProduct,
                    "customers would be mailed on soft opt-in, which covers only products \
                     similar to what they bought, but the campaign names no product; set \
                     `product = \"...\"` in [campaign] or pass --product",
                )
                .field(field),
            ));
        }
        return findings;
    }
    for (product, &seen) in campaign.products.iter().zip(purchased) {
        let grouped = campaign
            .product_groups
            .iter()
            .any(|g| g.products.iter().any(|p| same_product(p, product)));
        if !grouped && !seen {
            findings.push(locate(
                Finding::new(
                    RuleId::UnknownProduct,
                    format!(
                        "`{product}` is in no [products] group and no customer bought it: \
                         a typo? soft opt-in can cover nobody for it"
                    ),
                )
                .line(campaign.products_line)
                .field(field),
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "127.3.4.5", "::1", "[::1]"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "smtp.example.nl",
            "10.0.0.1",
            "192.168.1.1",
            "localhost.example.nl",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
