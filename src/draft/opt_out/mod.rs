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
//! ([`vocabulary`]). Quoted replies (`>` lines, `<blockquote type="cite">`),
//! forwarded messages, patches and code identifiers in a part are not the
//! sender's and do not count.

mod html;
mod text;
pub(crate) mod vocabulary;

use ego_tree::NodeId;
use scraper::{ElementRef, Html};

use super::{BodyPart, PartKind};
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

/// An opt-out link found in an HTML body, with what a later check needs to
/// decide whether it is visible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptOutLink {
    /// The `href` as written (template expressions not rendered).
    pub href: String,
    /// The link's text (with the `alt` text of images in it), whitespace
    /// collapsed.
    pub text: String,
    /// 1-based line in the HTML source where the `href` value was found;
    /// `None` when it could not be located (an estimate: the parser does not
    /// keep positions).
    pub line: Option<u64>,
    /// The `<a>` element first, then each enclosing element up to `<html>`.
    pub chain: Vec<ElementInfo>,
}

impl OptOutLink {
    /// The inline `style` attributes from the link up to the root, innermost
    /// first, skipping elements that have none.
    pub fn styles(&self) -> impl Iterator<Item = &str> {
        self.chain.iter().filter_map(|e| e.style.as_deref())
    }
}

/// The presentational facts of one element on an opt-out link's chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementInfo {
    /// Lower-case tag name (`a`, `span`, `td`, …).
    pub tag: String,
    /// The inline `style` attribute.
    pub style: Option<String>,
    /// The `class` attribute (for rules that read the `<style>` sheet).
    pub class: Option<String>,
    /// The `id` attribute (for `#id` rules of the `<style>` sheet).
    pub id: Option<String>,
    /// The element has the `hidden` attribute.
    pub hidden: bool,
    /// The `color` attribute (`<font color>`).
    pub color: Option<String>,
    /// The `bgcolor` attribute (`<td bgcolor>`, `<body bgcolor>`).
    pub bgcolor: Option<String>,
}

/// Every opt-out link in an HTML body, in document order: an `<a>` with a
/// working `href` (not empty, `#…` or `javascript:`) that is built from
/// `{{ unsubscribe_url }}`, points at an unsubscribe URL or `mailto:`, or
/// whose text or sentence says unsubscribe / opt out / no longer receive /
/// manage preferences / afmelden / …
pub fn opt_out_links(html: &str) -> Vec<OptOutLink> {
    let parsed = html::parsed(html);
    let (document, flow) = (&parsed.document, &parsed.flow);
    let flags = opt_out_flags(flow);
    let lines = href_lines(html, &flow.links);
    flow.links
        .iter()
        .zip(flags)
        .zip(lines)
        .filter(|((_, flag), _)| *flag)
        .map(|((link, _), line)| OptOutLink {
            href: link.href.clone(),
            text: link.text.clone(),
            line,
            chain: chain_of(document, link.node),
        })
        .collect()
}

/// How many elements of a link's chain are kept: Chrome's parser stops
/// nesting at 512 (deeper elements become siblings), so no reader sees
/// styles from deeper than that. A deeper link keeps its nearest ancestors
/// and the document's `<body>` and `<html>`, which bounds the work per
/// link.
const MAX_CHAIN: usize = 512;

fn chain_of(document: &Html, node: NodeId) -> Vec<ElementInfo> {
    let Some(anchor) = document.tree.get(node) else {
        return Vec::new();
    };
    let info = |e: ElementRef<'_>| {
        let element = e.value();
        ElementInfo {
            tag: element.name().to_ascii_lowercase(),
            style: element.attr("style").map(str::to_string),
            class: element.attr("class").map(str::to_string),
            id: element.attr("id").map(str::to_string),
            hidden: element.attr("hidden").is_some(),
            color: element.attr("color").map(str::to_string),
            bgcolor: element.attr("bgcolor").map(str::to_string),
        }
    };
    let mut chain: Vec<ElementInfo> = std::iter::once(anchor)
        .chain(anchor.ancestors())
        .filter_map(ElementRef::wrap)
        .take(MAX_CHAIN + 1)
        .map(info)
        .collect();
    if chain.len() > MAX_CHAIN {
        chain.truncate(MAX_CHAIN - 2);
        let html = document.root_element();
        if let Some(body) = html
            .children()
            .filter_map(ElementRef::wrap)
            .find(|e| e.value().name() == "body")
        {
            chain.push(info(body));
        }
        chain.push(info(html));
    }
    chain
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

/// Whether a link target says opt-out by itself: built from
/// `{{ unsubscribe_url }}`; a URL whose words (path, query) say it; a
/// `mailto:` whose address, subject or body says it.
fn href_is_opt_out(href: &str) -> bool {
    if mentions_unsubscribe_url(href) {
        return true;
    }
    let v = vocabulary();
    let decoded = percent_decode(&href.replace("&amp;", "&"));
    let mut says = false;
    vocabulary::for_each_clause(
        &decoded.replace(['.', ':', '?', ',', ';', '(', ')'], " "),
        |tokens| {
            says = says || v.phrases.occurs_in(tokens) || v.address_phrases.occurs_in(tokens);
        },
    );
    if says {
        return true;
    }
    // The local part of an address: `dev-leave@`, `leave-12-34@`.
    let address = decoded
        .strip_prefix("mailto:")
        .or_else(|| decoded.strip_prefix("MAILTO:"))
        .unwrap_or(&decoded);
    if let Some((local, _)) = address.split_once('@') {
        let local = local.rsplit(['/', ' ', '<']).next().unwrap_or(local);
        let mut says = false;
        vocabulary::for_each_clause(local, |tokens| {
            says = says || v.local_part_phrases.occurs_in(tokens);
        });
        return says;
    }
    false
}

/// The text of every `<style>` element of an HTML body (outside
/// `<template>` and the like too: a sheet applies wherever it stands).
pub fn style_sheets(html: &str) -> Vec<String> {
    let parsed = html::parsed(html);
    let Ok(styles) = scraper::Selector::parse("style") else {
        return Vec::new();
    };
    parsed
        .document
        .select(&styles)
        .map(|style| style.text().collect::<String>())
        .collect()
}

/// The 1-based source line of each link's `href`, found by reading the
/// source's `href` attributes in order (the parser keeps no positions). A
/// link whose `href` is not among the next few found is `None`.
fn href_lines(source: &str, links: &[html::FlowLink]) -> Vec<Option<u64>> {
    let found = text::href_attributes(source);
    let mut cursor = 0;
    links
        .iter()
        .map(|link| {
            let ahead = found.get(cursor..)?.iter().take(64);
            let at = ahead.clone().position(|(_, value)| *value == link.href)?;
            let line = found[cursor + at].0;
            cursor += at + 1;
            Some(line)
        })
        .collect()
}

/// The text a reader sees of an HTML body: character references decoded,
/// markup, comments, `<head>`, `<script>` and `<style>` left out, and a line
/// break between blocks (`<p>`, `<br>`, `<td>`, …). CSS hiding is not
/// applied. For rules that ask whether the body *says* something, such as
/// the sender's name or postal address.
pub fn visible_text(html: &str) -> String {
    let flow = html::flow(&html::parsed(html).document, true);
    let mut text = String::new();
    for unit in flow.units {
        text.push('\n');
        text.push_str(&unit.text);
    }
    text
}

/// An `href` that holds markup: its closing quote is missing, so the value
/// runs on into the text and tags after it (`href="{{ unsubscribe_url }}>
/// Afmelden</a> … <a href="`). `<` and `>` never stand unencoded in a URL;
/// inside template expressions (`{{ a > b }}`) they are not looked at.
pub(super) fn swallowed_markup(href: &str) -> bool {
    let mut rest = href;
    loop {
        let next_tag = ["{{", "{%"].iter().filter_map(|open| rest.find(open)).min();
        let outside = &rest[..next_tag.unwrap_or(rest.len())];
        if outside.contains(['<', '>']) {
            return true;
        }
        let Some(at) = next_tag else {
            return false;
        };
        let close = if rest[at..].starts_with("{{") {
            "}}"
        } else {
            "%}"
        };
        match rest[at + 2..].find(close) {
            Some(end) => rest = &rest[at + 2 + end + 2..],
            None => return false,
        }
    }
}

/// `{{ unsubscribe_url }}`, with any whitespace, whitespace control
/// (`{{- … -}}`) or filters (`{{ unsubscribe_url | safe }}`).
pub fn mentions_unsubscribe_url(text: &str) -> bool {
    text.match_indices("{{").any(|(at, _)| {
        let expr = text[at + 2..].trim_start_matches(['-', '+']).trim_start();
        expr.strip_prefix("unsubscribe_url")
            .is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(&hi), Some(&lo)) = (bytes.get(i + 1), bytes.get(i + 2))
            && let (Some(hi), Some(lo)) = (hex(hi), hex(lo))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::load;
    use super::*;

    #[track_caller]
    fn text_yes(text: &str) {
        assert!(text_has_opt_out(text), "should be an opt-out: {text:?}");
    }

    #[track_caller]
    fn text_no(text: &str) {
        assert!(
            !text_has_opt_out(text),
            "should not be an opt-out: {text:?}"
        );
    }

    #[track_caller]
    fn html_yes(html: &str) {
        assert!(html_has_opt_out(html), "should be an opt-out: {html:?}");
    }

    #[track_caller]
    fn html_no(html: &str) {
        assert!(
            !html_has_opt_out(html),
            "should not be an opt-out: {html:?}"
        );
    }

    #[test]
    fn dutch_text_instructions() {
        text_yes("Wilt u geen nieuwsbrief meer ontvangen? Meld u af via https://shop.example/nb");
        text_yes("Geen mails meer? Meld je hier eenvoudig af: https://shop.example/a");
        text_yes("Reply with 'afmelden' to stop.");
        text_yes("Uitschrijven kan altijd via https://shop.example/u of via info@shop.example.");
        text_yes("Klik hier om je af te melden: https://shop.example/x");
        text_yes("Wil je deze mail niet meer ontvangen, meld je dan af bij info@shop.example");
    }

    #[test]
    fn english_german_french_text_instructions() {
        text_yes("To unsubscribe, reply to this e-mail with STOP.");
        text_yes("Opt out: https://shop.example/o");
        text_yes("Manage your email preferences at https://shop.example/p");
        text_yes("Keine E-Mails mehr erhalten? Melden Sie sich hier ab: https://shop.example/x");
        text_yes("Newsletter abbestellen: https://shop.example/x");
        text_yes("Se désinscrire : https://boutique.example/x");
        text_yes("Pour vous désabonner, répondez STOP à ce message.");
    }

    #[test]
    fn unsubscribe_url_in_any_spelling() {
        text_yes("{{ unsubscribe_url }}");
        text_yes("Klik: {{unsubscribe_url|safe}}");
        text_yes("{{- unsubscribe_url -}}");
        assert!(mentions_unsubscribe_url("<{{ unsubscribe_url|e }}>"));
        assert!(!mentions_unsubscribe_url("{{ unsubscribe_url_old }}"));
        assert!(!mentions_unsubscribe_url("{{ shop_url }} unsubscribe_url"));
    }

    #[test]
    fn text_without_opt_out() {
        text_no("Bedankt voor uw bestelling! Tot ziens in de winkel.");
        // Subscribing is not unsubscribing.
        text_no("Meld je aan voor onze workshop via https://shop.example/workshop");
        text_no("Aanmelden kan tot vrijdag.");
    }

    #[test]
    fn denied_opt_out_is_no_instruction() {
        text_no("We never unsubscribe you without asking.");
        text_no("U kunt zich niet afmelden.");
        text_no("Vous ne pouvez pas vous désinscrire.");
        text_no("You can't opt out of service messages.");
        // A negation elsewhere in the sentence is the usual lead-in.
        text_yes("If you do not want these e-mails go to https://shop.example/u to unsubscribe");
        text_yes("Sie möchten keinen Newsletter mehr? Hier abmelden: https://shop.example/a");
    }

    #[test]
    fn wording_without_a_mechanism_is_no_opt_out_in_text() {
        // The link was lost when the text part was made: nothing to act on.
        text_no("Geen mails meer? Meld je hier eenvoudig af.");
        text_no("Uitschrijven kan altijd via onze website.");
        text_no("Pour vous désabonner, cliquez ici.");
        text_no("Unsubscribe | Privacy policy\n\nShop: https://shop.example/");
        // The URL on its own after an instruction that ends the paragraph.
        text_yes("To stop receiving these emails, use the link below\n\nhttps://s.example/x");
        text_yes("Para darse de baja visite:\n\nhttps://tienda.example/x");
    }

    #[test]
    fn short_link_text_counts_when_its_sentence_says_what_it_does() {
        html_yes(
            r#"<p>Si ya no deseas recibir estos correos, haz clic <a href="https://t.example/b">aquí</a>.</p>"#,
        );
        html_yes(
            r#"<p>Per non ricevere più la newsletter clicca <a href="https://n.example/c">qui</a></p>"#,
        );
        html_yes(
            r#"<p>Keine Mails mehr?</p><p><a href="https://s.example/a">Hier klicken</a></p>"#,
        );
        html_yes(
            r#"<td>To unsubscribe, click below:</td></tr><tr><td><a href="https://s.example/u">Link</a></td>"#,
        );
        // "Here" in a sentence that does not say opt-out.
        html_no(
            r#"<p>Our summer sale starts now, click <a href="https://s.example/sale">here</a>.</p>"#,
        );
        // A link next to the wording that is not "click here".
        html_no(
            r#"<p>You can unsubscribe at any time. <a href="https://s.example/privacy">Privacy policy</a></p>"#,
        );
    }

    #[test]
    fn opt_out_wording_whose_only_link_is_dead_is_no_opt_out() {
        html_no(
            r##"<p>If you no longer wish to receive these emails, <a href="#">click here</a>.</p>"##,
        );
        html_no(r##"<p><a href="#">Unsubscribe</a> | www.shop.example</p>"##);
        html_no(
            r#"<p>Si no quieres recibir más correos <a href="javascript:void(0)">haz clic aquí</a></p>"#,
        );
    }

    #[test]
    fn quoted_replies_and_forwarded_mail_are_not_the_senders_opt_out() {
        text_no(
            "Sounds good!\n\nOn Mon, 1 Mar 2027, Shop wrote:\n> To unsubscribe visit https://shop.example/u\n",
        );
        text_no(
            "FYI\n\n---------- Forwarded message ---------\nFrom: Shop <n@shop.example>\n\
             Date: Mon\n\nTo unsubscribe visit https://shop.example/u\n",
        );
        text_no(
            "Thanks\n\n________________________________\nFrom: Shop\nSent: Monday\n\
             To: me\n\nUnsubscribe: https://shop.example/u\n",
        );
        // A mailing list's footer after the quote is the list's own.
        text_yes(
            "Thanks\n\n-----Original Message-----\nFrom: a\nSent: b\n\nold text\n\
             _______________________________________________\ndev mailing list\n\
             https://lists.example.org/mailman/listinfo/dev\n",
        );
        html_no(
            r#"<p>Sounds good!</p><blockquote type="cite"><p>If you no longer wish to receive, <a href="https://shop.example/u">click here</a></p></blockquote>"#,
        );
        html_no(
            r#"<p>FYI</p><div class="gmail_quote"><a href="https://shop.example/unsubscribe">Unsubscribe</a></div>"#,
        );
        html_no(
            r#"<p>Thanks</p><div id="divRplyFwdMsg"><b>From:</b> Shop</div><div><a href="https://shop.example/unsubscribe">Unsubscribe</a></div>"#,
        );
    }

    #[test]
    fn code_and_patches_are_no_opt_out() {
        text_no(
            "Fix the leak.\n\ndiff --git a/src/bus.c b/src/bus.c\n--- a/src/bus.c\n+++ b/src/bus.c\n\
             @@ -1,3 +1,3 @@\n-  unsubscribe(bus, https://x.example/);\n+  unsubscribe_all(bus);\n",
        );
        text_no("The handler returns err_unsubscribe_event; see https://bugs.example/42");
        text_no("Call client.unsubscribe(topic) after https://docs.example/api is read.");
        html_no(
            r#"<p>Use <code>unsubscribe()</code> as in <a href="https://docs.example/">the docs</a>.</p>"#,
        );
    }

    #[test]
    fn mailing_list_footers() {
        text_yes(
            "_______________________________________________\nusers mailing list\nusers@lists.example.org\nhttps://lists.example.org/mailman/listinfo/users\n",
        );
        text_yes("To unsubscribe send an email to users-leave@lists.example.org\n");
        text_yes("Send a blank message to leave-123-456@lists.example.com\n");
        text_yes(
            "To unsubscribe from this group and stop receiving emails from it, send an email to dev+unsubscribe@googlegroups.com.",
        );
        html_yes(r#"<p><a href="https://groups.io/g/dev/leave/12/abc">Unsubscribe</a></p>"#);
        html_yes(
            r#"<p>(un)subscription information: <a href="https://lists.example.org/options/dev">options</a></p>"#,
        );
    }

    #[test]
    fn html_links() {
        html_yes(r#"<p>Geen mails meer? <a href="{{ unsubscribe_url }}">Klik hier</a></p>"#);
        html_yes(r#"<a href="{{unsubscribe_url|e}}">here</a>"#);
        html_yes(r#"<a href="https://shop.example/nieuwsbrief/afmelden?e=1">Klik</a>"#);
        html_yes(r#"<a href="https://shop.example/n">Newsletter abmelden</a>"#);
        html_yes(r#"<a href="https://boutique.example/p">Se d&eacute;sinscrire</a>"#);
        html_yes(r#"<a href="https://shop.example/p">Manage email preferences</a>"#);
        html_yes(r#"<a href="mailto:afmelden@shop.example">mail ons</a>"#);
        html_yes(r#"<a href="mailto:info@shop.example?subject=Unsubscribe">e-mail</a>"#);
        html_yes(r#"<a href="https://shop.example/u%2Dx/d%C3%A9sinscription">ici</a>"#);
        html_yes(r#"<a href="https://shop.example/p"><img src="x.png" alt="Unsubscribe"></a>"#);
    }

    #[test]
    fn html_instruction_outside_a_link() {
        html_yes("<p>Afmelden? Stuur een e-mail naar info@shop.example</p>");
        html_yes("<p>Afmelden: {{ unsubscribe_url }}</p>");
    }

    #[test]
    fn a_link_whose_quote_is_missing_is_no_opt_out() {
        // The href runs on to the next quote, swallowing the link text and tags.
        html_no(
            r#"<p><a href="{{ unsubscribe_url }}>Afmelden</a> of bezoek <a href="https://shop.example/">de winkel</a></p>"#,
        );
        // Unterminated to the end: the parser drops the tag.
        html_no(r#"<p>Geen mail meer? <a href="{{ unsubscribe_url }}>Afmelden</a></p>"#);
        // Comparisons inside template expressions are not markup.
        html_yes(r#"<a href="{% if n > 1 %}{{ unsubscribe_url }}{% endif %}">Afmelden</a>"#);
        assert!(swallowed_markup(
            "{{ unsubscribe_url }}>Afmelden</a> of <a href="
        ));
        assert!(!swallowed_markup(
            "https://shop.example/afmelden?e={{ email | urlencode }}"
        ));
        assert!(!swallowed_markup("{{ broken"));
    }

    #[test]
    fn html_without_opt_out() {
        html_no(r#"<p>Bezoek <a href="https://shop.example/">onze winkel</a>.</p>"#);
        // Only in a comment, a script, a style sheet or the head.
        html_no(r#"<p>Hallo</p><!-- <a href="{{ unsubscribe_url }}">Afmelden</a> -->"#);
        html_no(r#"<script>var a = "unsubscribe";</script><p>Hallo</p>"#);
        html_no(r#"<style>.unsubscribe { color: red }</style><p>Hallo</p>"#);
        html_no("<html><head><title>Afmelden</title></head><body><p>Hallo</p></body></html>");
        // A link that goes nowhere is no working opt-out.
        html_no(r##"<p><a href="#">Afmelden</a></p>"##);
        html_no(r#"<p><a href="">Unsubscribe</a></p>"#);
        html_no(r#"<p><a href="javascript:void(0)">Unsubscribe</a></p>"#);
        // Another program's merge tag, or a relative path: nowhere to go
        // when mailgate sends it.
        html_no(r#"<p><a href="*|UNSUB|*">Unsubscribe from this list</a></p>"#);
        html_no(r#"<p><a href="%unsubscribe_url%">Unsubscribe</a></p>"#);
        html_no(r#"<p><a href="unsubscribe.html">Unsubscribe</a></p>"#);
    }

    #[test]
    fn visible_text_of_html() {
        let text = visible_text(
            "<html><head><title>T</title><style>p{}</style></head><body>\
             <p><strong>Jansen</strong>&nbsp;&amp;&nbsp;Zn B.V.<br>Dorpsstraat&nbsp;1</p>\
             <!-- verborgen --><p><a href=\"x\">link</a></p></body></html>",
        );
        let words: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(
            words,
            ["Jansen", "&", "Zn", "B.V.", "Dorpsstraat", "1", "link"]
        );
    }

    #[test]
    fn opt_out_links_carry_the_style_chain() {
        let html = "<html><body>\n<div style=\"display:none\"><p>\n<span style=\"color:#fff\">\
                    <a style=\"font-size:0\" href=\"{{ unsubscribe_url }}\">Afmelden</a></span>\
                    </p></div>\n<p><a href=\"https://shop.example/\">Shop</a></p>\n\
                    <p><font color=\"white\"><a href=\"https://shop.example/unsubscribe?a=1&amp;b=2\" \
                    hidden>Unsubscribe</a></font></p>\n</body></html>";
        let links = opt_out_links(html);
        assert_eq!(links.len(), 2, "{links:#?}");

        let first = &links[0];
        assert_eq!(first.href, "{{ unsubscribe_url }}");
        assert_eq!(first.text, "Afmelden");
        assert_eq!(first.line, Some(3));
        let tags: Vec<&str> = first.chain.iter().map(|e| e.tag.as_str()).collect();
        assert_eq!(tags, ["a", "span", "p", "div", "body", "html"]);
        assert_eq!(
            first.styles().collect::<Vec<_>>(),
            ["font-size:0", "color:#fff", "display:none"]
        );

        let second = &links[1];
        assert_eq!(second.href, "https://shop.example/unsubscribe?a=1&b=2");
        assert_eq!(second.line, Some(5));
        assert!(second.chain[0].hidden);
        assert_eq!(second.chain[1].color.as_deref(), Some("white"));
    }

    #[test]
    fn drafts_from_mail_clients() {
        let d = load("thunderbird_alternative.eml");
        assert!(d.parts.iter().all(has_opt_out));
        let d = load("apple_latin1_base64.eml");
        assert!(has_opt_out(&d.parts[0]), "reply with 'afmelden'");
        assert!(has_opt_out(&d.parts[1]), "mailto with subject Afmelden");
        let d = load("html_only.eml");
        assert!(has_opt_out(&d.parts[0]));
    }

    #[test]
    fn outlook_opt_out_only_in_html_leaves_the_text_part_lacking() {
        let d = load("outlook_windows1252.eml");
        assert_eq!(d.parts[0].kind, PartKind::Plain);
        assert!(!has_opt_out(&d.parts[0]), "the text part has no opt-out");
        assert_eq!(d.parts[1].kind, PartKind::Html);
        assert!(
            has_opt_out(&d.parts[1]),
            "Klik hier → {{{{ unsubscribe_url }}}}"
        );
        let links = opt_out_links(&d.parts[1].text);
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].text, "Klik hier");
        assert_eq!(
            links[0].chain[1].style.as_deref(),
            Some("font-size:8.0pt;color:gray")
        );
    }
}
