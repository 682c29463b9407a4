//! `invalid-list-unsubscribe`: the List-Unsubscribe header is not a list of <http(s)/mailto URIs>.

crate::declare_rule! {
    name: "invalid-list-unsubscribe",
    scope: draft,
    default: error,
    order: 40,
    summary: "the List-Unsubscribe header is not a list of <http(s)/mailto URIs>",
    explain: "invalid_list_unsubscribe.md",
}
