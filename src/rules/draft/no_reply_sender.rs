//! `no-reply-sender`: From or Reply-To is a no-reply address.

crate::declare_rule! {
    name: "no-reply-sender",
    scope: draft,
    default: warning,
    order: 80,
    summary: "From or Reply-To is a no-reply address",
    explain: "no_reply_sender.md",
}
