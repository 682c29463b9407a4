//! `exposed-recipients`: To/Cc would show every recipient the others' addresses.

crate::declare_rule! {
    name: "exposed-recipients",
    scope: draft,
    default: error,
    order: 60,
    summary: "To/Cc would show every recipient the others' addresses",
    explain: "exposed_recipients.md",
}
