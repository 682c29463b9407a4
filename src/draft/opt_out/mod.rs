//! Finding the opt-out (unsubscribe) possibility in a body part
//! (`missing-opt-out`, `hidden-opt-out`; SPEC §3 "How an opt-out is
//! recognised").
//!
//! Everything here reads the part's *template source*, before rendering: a
//! link to `{{ unsubscribe_url }}` is an opt-out whatever URL it becomes.
//!
//! A part offers an opt-out when a reader can stop the mailing with what it
//! shows:
//! - a working link (not empty, `#…`, `javascript:`) or `mailto:` whose URL,
//!   text, or sentence says opt-out; a link whose text is only "click here"
//!   borrows the sentence before it ("Keine Mails mehr? Hier klicken");
//! - a URL or address that says opt-out by itself (`…/unsubscribe?u=1`,
//!   a Mailman `listinfo` page, `dev-leave@lists.example.org`);
//! - `{{ unsubscribe_url }}` anywhere in the text;
//! - a sentence that says opt-out and carries its own mechanism, in it or
//!   the sentence next to it: a typed URL or address, "reply with STOP",
//!   "log in and change your preferences".
//!
//! What is said in words comes from the vocabulary files, one per language
//! (`vocabulary`). Quoted replies (`>` lines, `<blockquote type="cite">`),
//! forwarded messages, patches and code identifiers in a part are not the
//! sender's and do not count.
//!
//! This file holds the part-level decision (is there an opt-out?); beside it:
//! - `html`: an HTML body read as a reader sees it (blocks of text and their
//!   links), and its visible text and style sheets for other rules;
//! - `text`: a text body's readings, sentences and mechanisms;
//! - `href`: what a link target says by itself;
//! - `links`: the opt-out links of an HTML body, for `hidden-opt-out`;
//! - `vocabulary`: the words, per language.

mod href;
mod html;
mod links;
#[cfg(test)]
mod tests;
mod text;
pub(crate) mod vocabulary;

use super::{BodyPart, PartKind};
use href::href_is_opt_out;
pub use href::mentions_unsubscribe_url;
pub use html::{style_sheets, visible_text};
pub use links::{ElementInfo, OptOutLink, opt_out_links};
use text::{Reading, mechanism_in, sentences, urls_and_addresses};
use vocabulary::vocabulary;

/// True when the part offers a way out (see the module documentation).
/// HTML is read with an HTML parser.
pub fn has_opt_out(part: &BodyPart) -> bool {
    match part.kind {
        PartKind::Html => html_has_opt_out(&part.text),
        PartKind::Plain => text_has_opt_out(&part.text),
    }
}

/// [`has_opt_out`] for an HTML body: an opt-out link ([`opt_out_links`]),
/// or in the visible text outside links an opt-out URL or address, an
/// instruction with its mechanism, or `{{ unsubscribe_url }}`. Comments,
/// `<head>`, `<script>` and `<style>` are not read, and a dead link's text
/// is not read at all: `<a href="#">Afmelden</a>` is no opt-out.
pub fn html_has_opt_out(html: &str) -> bool {
    let parsed = html::parsed(html);
    if opt_out_flags(&parsed.flow).contains(&true) {
        return true;
    }
    let readings = html_readings(&parsed.flow);
    instruction_found(&readings)
}

/// [`has_opt_out`] for a text body: `{{ unsubscribe_url }}`, an opt-out URL
/// or address, or a sentence that tells the reader how to opt out and
/// carries its mechanism.
pub fn text_has_opt_out(text: &str) -> bool {
    instruction_found(&text::readings(text))
}

/// For each link of the flow, whether it is an opt-out link. Each
/// sentence is read once however many links it holds.
fn opt_out_flags(flow: &html::Flow) -> Vec<bool> {
    let v = vocabulary();
    let mut flags = vec![false; flow.links.len()];
    let kept = text::kept_lines(flow.units.iter().map(|u| u.text.as_str()));
    // The last sentence of the previous unit: what a link at the start of
    // a unit may borrow.
    let mut previous_last: Option<&str> = None;
    for (at, unit) in flow.units.iter().enumerate() {
        if !kept[at] {
            previous_last = None;
            continue;
        }
        let spans = sentences(&unit.text);
        let mut previous_says: Option<bool> = None;
        let mut says: Vec<Option<bool>> = vec![None; spans.len()];
        let mut says_at =
            |i: usize| *says[i].get_or_insert_with(|| v.says_opt_out(&unit.text[spans[i].clone()]));
        let mut first = 0;
        for (range, index) in &unit.links {
            let link = &flow.links[*index];
            if href_is_opt_out(&link.href) || v.says_opt_out(&link.text) {
                flags[*index] = true;
                continue;
            }
            // The sentences the link's text is in (links come in order).
            while first + 1 < spans.len() && spans[first].end <= range.start {
                first += 1;
            }
            let mut last = first;
            while last + 1 < spans.len() && spans[last].end < range.end {
                last += 1;
            }
            if (first..=last).any(&mut says_at) {
                flags[*index] = true;
                continue;
            }
            // "Keine Mails mehr? Hier klicken", "To unsubscribe, click
            // below: [link]", "You get this because of your subscription
            // settings. Click here to change them.": the sentence before
            // says what the link does.
            let sentence = &unit.text[spans[first].start..spans[last].end];
            let Some(before) = (match first {
                0 => previous_last,
                _ => Some(&unit.text[spans[first - 1].clone()]),
            }) else {
                continue;
            };
            // (A "click here" sentence is short: longer ones are not read.)
            let short = sentence.len() <= 240 && v.short_link_sentence(sentence);
            if (before.trim_end().ends_with(':') || short)
                && match first {
                    0 => *previous_says.get_or_insert_with(|| v.says_opt_out(before)),
                    _ => says_at(first - 1),
                }
            {
                flags[*index] = true;
            }
        }
        previous_last = spans.last().map(|s| &unit.text[s.clone()]);
    }
    flags
}

/// The flow's units as text readings, the text of working links blanked in
/// the copy that mechanisms are looked for in (a link is judged by
/// [`opt_out_flags`], not as a typed URL).
fn html_readings(flow: &html::Flow) -> Vec<Reading> {
    let kept = text::kept_lines(flow.units.iter().map(|u| u.text.as_str()));
    flow.units
        .iter()
        .zip(kept)
        .filter(|(_, kept)| *kept)
        .map(|(unit, _)| {
            let mut mechanisms = unit.text.clone().into_bytes();
            for (range, _) in &unit.links {
                for byte in &mut mechanisms[range.clone()] {
                    // Blank whole UTF-8 sequences: continuation bytes too.
                    *byte = b' ';
                }
            }
            Reading {
                text: unit.text.clone(),
                mechanisms: String::from_utf8_lossy(&mechanisms).into_owned(),
            }
        })
        .collect()
}

/// Whether the readings hold `{{ unsubscribe_url }}`, an opt-out URL or
/// address, or a sentence that says opt-out with a mechanism next to it.
fn instruction_found(readings: &[Reading]) -> bool {
    let v = vocabulary();
    for (at, reading) in readings.iter().enumerate() {
        if mentions_unsubscribe_url(&reading.mechanisms)
            || urls_and_addresses(&reading.mechanisms).any(href_is_opt_out)
        {
            return true;
        }
        let spans = sentences(&reading.text);
        for (i, span) in spans.iter().enumerate() {
            let sentence = &reading.text[span.clone()];
            if !v.says_opt_out(sentence) {
                continue;
            }
            let from = spans[i.saturating_sub(1)].start;
            let to = spans[(i + 1).min(spans.len() - 1)].end;
            let last = i + 1 == spans.len();
            let next = readings.get(at + 1);
            // "Removed from the list. You can subscribe again: …" reports
            // an opt-out done.
            if v.offers_resubscription(&reading.text[from..to])
                || (last && next.is_some_and(|n| v.offers_resubscription(&n.text)))
            {
                continue;
            }
            if mechanism_in(&reading.mechanisms[from..to]) {
                return true;
            }
            // "To unsubscribe, visit:" or "… click the link below" with
            // the URL alone in the next paragraph.
            if last && let Some(next) = next {
                let alone = next.mechanisms.split_whitespace().count() == 1;
                if (sentence.trim_end().ends_with(':') || alone) && mechanism_in(&next.mechanisms) {
                    return true;
                }
            }
        }
    }
    false
}
