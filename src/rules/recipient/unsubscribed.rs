//! `unsubscribed`: the person opted out, or the address is on a suppression list.

crate::declare_rule! {
    name: "unsubscribed",
    scope: recipient,
    default: info,
    order: 60,
    summary: "the person opted out, or the address is on a suppression list",
    explain: "unsubscribed.md",
}
