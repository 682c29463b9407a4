//! `hidden-opt-out`: the HTML opt-out is hidden from the reader.

use crate::campaign::Campaign;
use crate::diagnostic::Finding;
use crate::draft::{Draft, PartKind, opt_out, visibility};
use crate::rules::RuleId;

crate::declare_rule! {
    name: "hidden-opt-out",
    scope: draft,
    default: error,
    order: 20,
    summary: "the HTML opt-out is hidden from the reader",
    explain: "hidden_opt_out.md",
}

/// `hidden-opt-out`: an HTML part whose opt-out links are all hidden by their
/// styling. A part without opt-out links is `missing-opt-out`'s business, and
/// one visible link is enough.
pub fn check(draft: &Draft, _campaign: &Campaign, file: &str, out: &mut Vec<Finding>) {
    for (index, part) in draft.parts.iter().enumerate() {
        if part.kind != PartKind::Html {
            continue;
        }
        let links = opt_out::opt_out_links(&part.text);
        let hidden = visibility::all_hidden(&part.text, &links);
        let (Some(link), Some(hiding)) = (links.first(), hidden.and_then(|h| h.into_iter().next()))
        else {
            continue;
        };
        let which = if links.len() == 1 {
            format!("the opt-out link `{}`", link.text)
        } else {
            format!(
                "all {} opt-out links are hidden; the first, `{}`,",
                links.len(),
                link.text
            )
        };
        out.push(
            Finding::new(
                RuleId::HiddenOptOut,
                format!(
                    "{which} is hidden by {}: the opt-out must be offered clearly and \
                     distinctly (ePrivacy art. 13(2)); make it visible with a readable size \
                     and a colour that contrasts with its background",
                    hiding.describe(link)
                ),
            )
            .file(file)
            .line(link.line.map_or(part.line, |l| draft.eml_line(index, l)))
            .field(part.kind.mime()),
        );
    }
}
