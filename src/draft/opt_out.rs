//! Finding the opt-out (unsubscribe) possibility in a body part
//! (`missing-opt-out`, `hidden-opt-out`).
//!
//! Everything here reads the part's *template source*, before rendering: a
//! link to `{{ unsubscribe_url }}` is an opt-out whatever URL it becomes.
//!
//! Words are matched on tokens of folded text (lower case, accents removed,
//! split at anything that is not a letter or digit), in English, Dutch, German
//! and French, including Dutch and German separable verbs ("meld u hier af",
//! "melden Sie sich hier ab"). An opt-out word directly preceded by a negation
//! ("we never unsubscribe you", "u kunt zich niet afmelden") does not count.
//! Any other mention counts: in a newsletter, a sentence that names
//! unsubscribing is practically always the instruction, and `missing-opt-out`
//! is an error that blocks sending, so it leans towards not firing.

use scraper::{ElementRef, Html, Node, Selector};

use super::{BodyPart, PartKind};

/// True when the part offers a way out: a link whose URL or text says
/// unsubscribe/opt-out/manage preferences (nl, en, de, fr), a link built from
/// `{{ unsubscribe_url }}`, a `mailto:` unsubscribe, or — in a text part — a
/// plain instruction. HTML is read with an HTML parser.
pub fn has_opt_out(part: &BodyPart) -> bool {
    match part.kind {
        PartKind::Html => html_has_opt_out(&part.text),
        PartKind::Plain => text_has_opt_out(&part.text),
    }
}

/// [`has_opt_out`] for an HTML body: an opt-out link ([`opt_out_links`]), or
/// an instruction or `{{ unsubscribe_url }}` in the visible text outside
/// links. Comments, `<head>`, `<script>` and `<style>` are not read; text
/// inside a link only counts as that link's text, so
/// `<a href="#">Afmelden</a>` is no opt-out.
pub fn html_has_opt_out(html: &str) -> bool {
    let document = Html::parse_document(html);
    !links_in(&document, html).is_empty()
        || text_has_opt_out(&visible_text_outside_links(&document))
}

/// [`has_opt_out`] for a text body: `{{ unsubscribe_url }}`, an opt-out URL
/// or `mailto:`, or a sentence that tells the reader how to opt out.
pub fn text_has_opt_out(text: &str) -> bool {
    mentions_unsubscribe_url(text) || mentions_opt_out(text)
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
/// whose text says unsubscribe / opt out / manage preferences / afmelden / …
pub fn opt_out_links(html: &str) -> Vec<OptOutLink> {
    links_in(&Html::parse_document(html), html)
}

fn links_in(document: &Html, source: &str) -> Vec<OptOutLink> {
    let Ok(anchors) = Selector::parse("a[href]") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    // Where to look for the next link's href, so that two links with the
    // same href get their own lines.
    let mut cursor = 0;
    for anchor in document.select(&anchors) {
        if inside_unrendered(&anchor) {
            continue;
        }
        let href = anchor.value().attr("href").unwrap_or_default().trim();
        if !is_working_href(href) {
            continue;
        }
        let text = link_text(&anchor);
        if !(href_is_opt_out(href) || text_has_opt_out(&text)) {
            continue;
        }
        let line = locate(source, href, &mut cursor);
        let chain = std::iter::once(*anchor)
            .chain(anchor.ancestors())
            .filter_map(ElementRef::wrap)
            .map(|e| {
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
            })
            .collect();
        found.push(OptOutLink {
            href: href.to_string(),
            text,
            line,
            chain,
        });
    }
    found
}

/// Elements whose content a reader never sees as body text.
const UNRENDERED: [&str; 6] = ["head", "script", "style", "template", "noscript", "title"];

/// Elements after which text continues on a new line (so that sentences in
/// separate paragraphs or cells are not read as one).
const BLOCKS: [&str; 17] = [
    "p",
    "div",
    "br",
    "li",
    "tr",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "ul",
    "ol",
    "blockquote",
];

fn inside_unrendered(element: &ElementRef<'_>) -> bool {
    element
        .ancestors()
        .filter_map(ElementRef::wrap)
        .any(|e| UNRENDERED.contains(&e.value().name()))
}

fn is_working_href(href: &str) -> bool {
    let lower = href.to_ascii_lowercase();
    !(href.is_empty()
        || href.starts_with('#')
        || lower.starts_with("javascript:")
        || lower == "about:blank"
        || swallowed_markup(href))
}

/// An `href` that holds markup: its closing quote is missing, so the value
/// runs on into the text and tags after it (`href="{{ unsubscribe_url }}>
/// Afmelden</a> … <a href="`). `<` and `>` never stand unencoded in a URL;
/// inside template expressions (`{{ a > b }}`) they are not looked at.
fn swallowed_markup(href: &str) -> bool {
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

fn href_is_opt_out(href: &str) -> bool {
    // A mailto: address or subject, and a URL's path and query, are read
    // like text: tokens such as `afmelden` or `unsubscribe` in them count.
    mentions_unsubscribe_url(href) || mentions_opt_out(&percent_decode(href))
}

/// The text a reader sees for a link: its text and its images' `alt`.
fn link_text(anchor: &ElementRef<'_>) -> String {
    let mut text = String::new();
    for node in anchor.descendants() {
        match node.value() {
            Node::Text(t) => text.push_str(t),
            Node::Element(e) if e.name() == "img" => {
                if let Some(alt) = e.attr("alt") {
                    text.push(' ');
                    text.push_str(alt);
                    text.push(' ');
                }
            }
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of the body outside links, unrendered elements and comments,
/// with a line break before each block element.
fn visible_text_outside_links(document: &Html) -> String {
    text_of(document, true)
}

/// The text a reader sees of an HTML body: character references decoded,
/// markup, comments, `<head>`, `<script>` and `<style>` left out, and a line
/// break before each block element (`<p>`, `<br>`, `<td>`, …). CSS hiding is
/// not applied. For rules that ask whether the body *says* something, such
/// as the sender's name or postal address.
pub fn visible_text(html: &str) -> String {
    text_of(&Html::parse_document(html), false)
}

fn text_of(document: &Html, skip_links: bool) -> String {
    let mut text = String::new();
    for node in document.root_element().descendants() {
        match node.value() {
            Node::Element(e) if BLOCKS.contains(&e.name()) => text.push('\n'),
            Node::Text(t) => {
                let hidden = node.ancestors().filter_map(ElementRef::wrap).any(|e| {
                    let name = e.value().name();
                    (skip_links && name == "a") || UNRENDERED.contains(&name)
                });
                if !hidden {
                    text.push_str(t);
                }
            }
            _ => {}
        }
    }
    text
}

/// Finds `href` in the source from `cursor` on (also as written with
/// `&amp;`) and returns its 1-based line.
fn locate(source: &str, href: &str, cursor: &mut usize) -> Option<u64> {
    let rest = source.get(*cursor..)?;
    let at = rest
        .find(href)
        .or_else(|| rest.find(&href.replace('&', "&amp;")))?;
    let offset = *cursor + at;
    *cursor = offset + 1;
    Some(source[..offset].matches('\n').count() as u64 + 1)
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

/// How an opt-out is said, as tokens of folded text.
enum Phrase {
    /// A token starting with this (`afmeld` → afmelden, afmelding, afmeldlink).
    Prefix(&'static str),
    /// Exactly this token.
    Word(&'static str),
    /// These tokens in a row.
    Words(&'static [&'static str]),
    /// The first token, then the second within this many tokens after it
    /// (separable verbs: "meld u hier af").
    Split(&'static str, &'static str, usize),
}

const PHRASES: &[Phrase] = &[
    // English
    Phrase::Prefix("unsubscrib"),
    Phrase::Word("unsub"),
    Phrase::Prefix("optout"),
    Phrase::Words(&["opt", "out"]),
    Phrase::Words(&["email", "preferences"]),
    Phrase::Words(&["mail", "preferences"]),
    Phrase::Words(&["subscription", "preferences"]),
    Phrase::Words(&["stop", "receiving"]),
    Phrase::Split("manage", "preferences", 3),
    Phrase::Split("update", "preferences", 3),
    Phrase::Split("change", "preferences", 3),
    // Dutch
    Phrase::Prefix("afmeld"),
    Phrase::Words(&["af", "te", "melden"]),
    Phrase::Split("meld", "af", 4),
    Phrase::Prefix("uitschrijv"),
    Phrase::Words(&["uit", "te", "schrijven"]),
    Phrase::Split("schrijf", "uit", 4),
    Phrase::Prefix("mailvoorkeur"),
    Phrase::Words(&["voorkeuren", "beheren"]),
    Phrase::Split("beheer", "voorkeuren", 3),
    // German
    Phrase::Prefix("abmeld"),
    Phrase::Word("abzumelden"),
    Phrase::Split("melden", "ab", 4),
    Phrase::Split("melde", "ab", 4),
    Phrase::Word("austragen"),
    Phrase::Word("auszutragen"),
    Phrase::Split("tragen", "aus", 4),
    Phrase::Split("trage", "aus", 4),
    Phrase::Split("trag", "aus", 4),
    Phrase::Prefix("abbestell"),
    // French
    Phrase::Prefix("desinscri"),
    Phrase::Prefix("desabonn"),
    Phrase::Split("gerer", "preferences", 3),
];

/// Words that, right before an opt-out phrase, deny it.
const NEGATIONS: &[&str] = &[
    "never", "not", "cannot", "cant", "dont", "doesnt", "wont", "nooit", "niet", "geen", "nie",
    "nicht", "kein", "keine", "jamais", "pas",
];

/// Whether the text names a way to opt out in a clause that does not deny it.
fn mentions_opt_out(text: &str) -> bool {
    let folded = fold(text);
    folded
        .split(|c: char| ".!?;:,()[]{}|<>\"\n\r".contains(c))
        .any(|clause| {
            let tokens: Vec<&str> = clause
                .split(|c: char| !c.is_alphanumeric())
                .filter(|t| !t.is_empty())
                .collect();
            (0..tokens.len()).any(|p| phrase_at(&tokens, p) && !negated(&tokens, p))
        })
}

fn phrase_at(tokens: &[&str], p: usize) -> bool {
    let token = tokens[p];
    PHRASES.iter().any(|phrase| match *phrase {
        Phrase::Prefix(prefix) => token.starts_with(prefix),
        Phrase::Word(word) => token == word,
        Phrase::Words(words) => tokens[p..].starts_with(words),
        Phrase::Split(first, last, within) => {
            token == first && tokens[p + 1..].iter().take(within + 1).any(|t| *t == last)
        }
    })
}

/// A negation one or two tokens before the phrase ("never unsubscribe",
/// "niet afmelden", "ne pouvez pas vous désinscrire"). Only that close: "if
/// you do not want these e-mails, click here to unsubscribe" is an
/// instruction.
fn negated(tokens: &[&str], p: usize) -> bool {
    tokens[p.saturating_sub(2)..p]
        .iter()
        .any(|t| NEGATIONS.contains(t))
}

/// Lower case, accents removed (so "désinscrire" and "desinscrire" match),
/// apostrophes dropped (so "can't" is one token, `cant`).
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            '\'' | '\u{2019}' => {}
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => out.push('a'),
            'ç' => out.push('c'),
            'è' | 'é' | 'ê' | 'ë' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' => out.push('i'),
            'ñ' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => out.push('o'),
            'ù' | 'ú' | 'û' | 'ü' => out.push('u'),
            'ý' | 'ÿ' => out.push('y'),
            'ß' => out.push_str("ss"),
            _ => out.push(c),
        }
    }
    out
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
        text_yes("Geen mails meer? Meld je hier eenvoudig af.");
        text_yes("Reply with 'afmelden' to stop.");
        text_yes("Uitschrijven kan altijd via onze website.");
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
        text_yes("Se desinscrire");
        text_yes("Pour vous désabonner, cliquez ici.");
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
        text_yes("If you do not want these e-mails click here to unsubscribe");
        text_yes("Sie möchten keinen Newsletter mehr? Hier abmelden.");
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
