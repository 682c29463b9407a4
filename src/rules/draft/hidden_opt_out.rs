//! `hidden-opt-out`: the HTML opt-out is hidden from the reader.

crate::declare_rule! {
    name: "hidden-opt-out",
    scope: draft,
    default: error,
    order: 20,
    summary: "the HTML opt-out is hidden from the reader",
    explain: "hidden_opt_out.md",
}
