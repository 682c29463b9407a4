//! `missing-opt-out`: a body part offers no unsubscribe link or instruction.

use crate::campaign::Campaign;
use crate::diagnostic::Finding;
use crate::draft::{Draft, opt_out};
use crate::rules::RuleId;

crate::declare_rule! {
    name: "missing-opt-out",
    scope: draft,
    default: error,
    order: 10,
    summary: "a body part offers no unsubscribe link or instruction",
    explain: "missing_opt_out.md",
}

/// Every alternative (plain text, HTML) must offer a way out.
pub fn check(draft: &Draft, _campaign: &Campaign, file: &str, out: &mut Vec<Finding>) {
    for part in &draft.parts {
        if !opt_out::has_opt_out(part) {
            out.push(
                Finding::new(
                    RuleId::MissingOptOut,
                    format!(
                        "the {} part offers no way to unsubscribe; add a link to \
                         {{{{ unsubscribe_url }}}} (e.g. \"Afmelden\")",
                        part.kind.mime()
                    ),
                )
                .file(file)
                .line(part.line)
                .field(part.kind.mime()),
            );
        }
    }
}
