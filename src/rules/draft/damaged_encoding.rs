//! `damaged-encoding`: a body part's quoted-printable or base64 is damaged and was decoded leniently.

use crate::campaign::Campaign;
use crate::diagnostic::Finding;
use crate::draft::Draft;
use crate::rules::RuleId;

crate::declare_rule! {
    name: "damaged-encoding",
    scope: draft,
    default: warning,
    order: 140,
    summary: "a body part's quoted-printable or base64 is damaged and was decoded leniently",
    explain: "damaged_encoding.md",
}

/// A part read as a mail client reads it, but said to be damaged.
pub fn check(draft: &Draft, _campaign: &Campaign, file: &str, out: &mut Vec<Finding>) {
    for part in &draft.parts {
        if let Some(damage) = &part.damaged {
            out.push(
                Finding::new(
                    RuleId::DamagedEncoding,
                    format!(
                        "the {} part's {} is damaged ({}); it was decoded as mail clients \
                         decode it. Save the draft again from your mail client to be sure it \
                         reads as intended",
                        part.kind.mime(),
                        damage.encoding,
                        damage.what
                    ),
                )
                .file(file)
                .line(damage.line)
                .field(part.kind.mime()),
            );
        }
    }
}
