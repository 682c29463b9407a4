//! `damaged-encoding`: a body part's quoted-printable or base64 is damaged and was decoded leniently.

crate::declare_rule! {
    name: "damaged-encoding",
    scope: draft,
    default: warning,
    order: 140,
    summary: "a body part's quoted-printable or base64 is damaged and was decoded leniently",
    explain: "damaged_encoding.md",
}
