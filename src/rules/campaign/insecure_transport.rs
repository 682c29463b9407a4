//! `insecure-transport`: tls = "none" to a host that is not loopback.

crate::declare_rule! {
    name: "insecure-transport",
    scope: campaign,
    default: error,
    order: 30,
    summary: "tls = \"none\" to a host that is not loopback",
    explain: "insecure_transport.md",
}
