//! `special-category-data`: a column holds GDPR art. 9 special-category data (health, religion, ...).

crate::declare_rule! {
    name: "special-category-data",
    scope: list,
    default: error,
    order: 10,
    summary: "a column holds GDPR art. 9 special-category data (health, religion, ...)",
    explain: "special_category_data.md",
}
