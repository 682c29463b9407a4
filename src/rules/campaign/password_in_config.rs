//! `password-in-config`: a password literal in the campaign file.

use crate::campaign::Campaign;
use crate::diagnostic::Finding;
use crate::rules::RuleId;

crate::declare_rule! {
    name: "password-in-config",
    scope: campaign,
    default: error,
    order: 40,
    summary: "a password literal in the campaign file",
    explain: "password_in_config.md",
}

/// A password literal in `[smtp]`: where it is written (never what).
pub fn check(campaign: &Campaign, out: &mut Vec<Finding>) {
    if let Some(place) = campaign.smtp.as_ref().and_then(|smtp| smtp.password_at) {
        out.push(
            Finding::new(
                RuleId::PasswordInConfig,
                "a password is written in the campaign file; remove it and set \
                 `password_env` to the name of an environment variable",
            )
            .at(place)
            .field("smtp.password"),
        );
    }
}
