//! `template-error`: a template does not parse.

crate::declare_rule! {
    name: "template-error",
    scope: draft,
    default: error,
    order: 130,
    summary: "a template does not parse",
    explain: "template_error.md",
}
