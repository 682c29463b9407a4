//! `missing-opt-out`: a body part offers no unsubscribe link or instruction.

crate::declare_rule! {
    name: "missing-opt-out",
    scope: draft,
    default: error,
    order: 10,
    summary: "a body part offers no unsubscribe link or instruction",
    explain: "missing_opt_out.md",
}
