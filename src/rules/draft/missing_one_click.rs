//! `missing-one-click`: no RFC 8058 one-click unsubscribe with an https URI.

crate::declare_rule! {
    name: "missing-one-click",
    scope: draft,
    default: warning,
    order: 50,
    summary: "no RFC 8058 one-click unsubscribe with an https URI",
    explain: "missing_one_click.md",
}
