//! `missing-sender`: the draft has no valid From.

use crate::campaign::Campaign;
use crate::diagnostic::Finding;
use crate::draft::{Draft, HeaderLine};
use crate::recipients::address::is_deliverable;
use crate::rules::RuleId;

crate::declare_rule! {
    name: "missing-sender",
    scope: draft,
    default: error,
    order: 70,
    summary: "the draft has no valid From",
    explain: "missing_sender.md",
}

/// From must hold exactly one valid address, once.
pub fn check(draft: &Draft, _campaign: &Campaign, file: &str, out: &mut Vec<Finding>) {
    let from_headers: Vec<_> = draft.headers_named("From").collect();
    let from = draft.addresses("From").unwrap_or_default();
    let valid: Vec<&str> = from
        .mailboxes
        .iter()
        .filter_map(|m| m.address.as_deref())
        .filter(|a| is_deliverable(a))
        .collect();
    let problem = if from_headers.is_empty() {
        Some("the draft has no From header".to_owned())
    } else if from_headers.len() > 1 {
        Some("From appears more than once (RFC 5322 allows one)".to_owned())
    } else if valid.len() != 1 {
        Some(format!(
            "From `{}` does not hold exactly one valid address",
            from_headers[0].value
        ))
    } else {
        None
    };
    if let Some(problem) = problem {
        out.push(
            Finding::new(
                RuleId::MissingSender,
                format!("{problem}; write e.g. `From: De Linde <nieuwsbrief@delinde.example>`"),
            )
            .file(file)
            .at(from_headers.get(1).or(from_headers.first()).map(|h| h.place()))
            .field("From"),
        );
    } else if let Err(problem) = crate::message::sender(draft) {
        // The From that send builds, built here the same way: a From the
        // checks above accept but the message builder cannot use (a
        // control character in its display name) must stop the lint, not
        // the send.
        out.push(
            Finding::new(RuleId::MissingSender, problem)
                .file(file)
                .at(draft.header("From").map(HeaderLine::place))
                .field("From"),
        );
    }
}
