//! `personal-data-attachment`: an attachment is a spreadsheet, CSV or vCard, or holds e-mail addresses.

crate::declare_rule! {
    name: "personal-data-attachment",
    scope: draft,
    default: error,
    order: 110,
    summary: "an attachment is a spreadsheet, CSV or vCard, or holds e-mail addresses",
    explain: "personal_data_attachment.md",
}
