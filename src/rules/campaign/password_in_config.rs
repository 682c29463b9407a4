//! `password-in-config`: a password literal in the campaign file.

crate::declare_rule! {
    name: "password-in-config",
    scope: campaign,
    default: error,
    order: 40,
    summary: "a password literal in the campaign file",
    explain: "password_in_config.md",
}
