//! `missing-sender-identity`: the body does not name the sending legal entity.

use crate::campaign::Campaign;
use crate::diagnostic::Finding;
use crate::draft::{Draft, PartKind, opt_out};
use crate::levels::Jurisdiction;
use crate::rules::RuleId;

crate::declare_rule! {
    name: "missing-sender-identity",
    scope: draft,
    default: warning,
    order: 90,
    summary: "the body does not name the sending legal entity",
    explain: "missing_sender_identity.md",
}

/// Lower case with every run of whitespace made one space, for "does the
/// body contain" checks that survive line wrapping and HTML indentation.
fn squeeze(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The body must name the sender and (`missing-postal-address`, declared
/// beside this file) hold the postal address: one reading of the body for both.
pub fn check(draft: &Draft, campaign: &Campaign, file: &str, out: &mut Vec<Finding>) {
    let reported_before = out.len();
    // What the reader sees: an HTML part's text without its markup, so that
    // `<strong>De Linde</strong>&nbsp;B.V.` names "De Linde B.V.".
    let bodies: Vec<String> = draft
        .parts
        .iter()
        .map(|p| match p.kind {
            PartKind::Html => squeeze(&opt_out::visible_text(&p.text)),
            PartKind::Plain => squeeze(&p.text),
        })
        .collect();
    let named = |needle: &str| {
        let needle = squeeze(needle);
        bodies.iter().any(|b| b.contains(&needle))
    };
    let line = draft.parts.first().map(|p| p.line);
    if let Some(sender) = &campaign.sender
        && !named(sender)
    {
        out.push(
            Finding::new(
                RuleId::MissingSenderIdentity,
                format!(
                    "the body does not name the sender `{sender}`; recipients must see \
                         on whose behalf the mail is sent (ePrivacy art. 13(4))"
                ),
            )
            .file(file)
            .line(line),
        );
    }
    match &campaign.postal_address {
        Some(address) if !named(address) => out.push(
            Finding::new(
                RuleId::MissingPostalAddress,
                format!("the body does not contain the postal address `{address}`"),
            )
            .file(file)
            .line(line),
        ),
        None if campaign.jurisdiction == Jurisdiction::Us => out.push(
            Finding::new(
                RuleId::MissingPostalAddress,
                "CAN-SPAM requires a valid physical postal address in every commercial \
                 message; set `postal_address` in [campaign] and put it in the body"
                    .to_owned(),
            )
            .file(file)
            .line(line),
        ),
        _ => {}
    }
    // Both are about the body as a whole: they point at its first part
    // (line and type).
    let field = draft.parts.first().map_or("body", |p| p.kind.mime());
    for finding in &mut out[reported_before..] {
        finding.field = Some(field.to_owned());
    }
}
