//! Whether a reader can see an opt-out link in an HTML body
//! (`hidden-opt-out`): the few CSS facts that hide it, read from inline
//! `style` attributes, presentational attributes (`hidden`, `color`,
//! `bgcolor`) and the part's `<style>` sheets.
//!
//! Style sheets and declarations are parsed with simplecss, which also
//! matches their selectors (type, class, id, attribute, descendant and child
//! selectors) against the link's chain of ancestors; CSS values (colours,
//! lengths) are read with cssparser's tokenizer and colour tables. Of the
//! cascade, specificity, source order, `!important` and inheritance are
//! modelled; `@media` blocks are skipped (they apply only sometimes), and so
//! are sibling selectors (`+`), because the chain does not record siblings.
//!
//! A link is hidden when it or an ancestor has `display:none`, `opacity:0`
//! or the `hidden` attribute, when the `visibility` or `font-size` it
//! inherits is `hidden`/`collapse` or zero, or when its text colour is
//! transparent or equals the background it sits on.
//!
//! Two choices follow what mail clients do rather than the letter of "an
//! ancestor's colour":
//! - A link does not inherit its parent's text colour: the client's style
//!   sheet gives `<a href>` its own link colour (blue), so
//!   `<td style="color:#fff"><a href=…>` shows a blue link. Only a colour
//!   set on the link itself (inline, by a matching `<style>` rule, or
//!   `color: inherit`) counts.
//! - Where no element sets a background, the background is white, the
//!   canvas every mail client starts from (dark modes aside).
//!
//! `mso-hide:all` is not counted as hiding: it hides from Outlook only, and
//! is the usual partner of an Outlook-only copy in a conditional comment,
//! which an HTML parser sees as a comment.
//!
//! Styles of the link's *descendants* are not read (a link whose text sits
//! in a `<span style="display:none">` is not caught).

use std::collections::HashMap;

use cssparser::{ParseError, Parser, Token};
use simplecss::{AttributeOperator, DeclarationTokenizer, PseudoClass, StyleSheet};

use super::opt_out::{ElementInfo, OptOutLink};

/// Why a link cannot be seen: what hides it and on which element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hiding {
    /// Index into the link's [`OptOutLink::chain`] of the element that
    /// hides it (0: the link itself).
    pub element: usize,
    /// What hides it, as CSS (`display:none`, `color #ffffff on #ffffff`).
    pub reason: String,
}

impl Hiding {
    /// "`display:none`, set on the enclosing `<div>`" or "…, set on the link
    /// itself".
    pub fn describe(&self, link: &OptOutLink) -> String {
        let on = match (self.element, link.chain.get(self.element)) {
            (0, _) | (_, None) => "the link itself".to_owned(),
            (_, Some(e)) => format!("the enclosing <{}>", e.tag),
        };
        format!("{}, set on {on}", self.reason)
    }
}

/// For each link of `html` (as found by
/// [`opt_out_links`](super::opt_out::opt_out_links)), why it is hidden, or
/// `None` when a reader can see it.
pub fn hidden_links(html: &str, links: &[OptOutLink]) -> Vec<Option<Hiding>> {
    let sheets = style_sheet_texts(html);
    let sheet = parse_sheets(&sheets);
    links.iter().map(|link| why_hidden(&sheet, link)).collect()
}

/// Why each link is hidden when every one of them is; `None` as soon as one
/// is visible (the links after it are not looked at, so a body with
/// thousands of visible opt-out links costs one look).
pub fn all_hidden(html: &str, links: &[OptOutLink]) -> Option<Vec<Hiding>> {
    let sheets = style_sheet_texts(html);
    let sheet = parse_sheets(&sheets);
    links.iter().map(|link| why_hidden(&sheet, link)).collect()
}

fn parse_sheets(texts: &[String]) -> StyleSheet<'_> {
    let mut sheet = StyleSheet::new();
    for text in texts {
        sheet.parse_more(text);
    }
    sheet
}

/// The text of every `<style>` element, with the `<!--`/`-->` wrappers that
/// old mail templates put around their rules blanked out (simplecss does not
/// read them).
fn style_sheet_texts(html: &str) -> Vec<String> {
    super::opt_out::style_sheets(html)
        .into_iter()
        .map(|sheet| sheet.replace("<!--", "    ").replace("-->", "   "))
        .collect()
}

/// The declared values of one element: property (lower case) → value
/// (lower case, trimmed), after the cascade.
type Declared = HashMap<String, String>;

fn why_hidden(sheet: &StyleSheet<'_>, link: &OptOutLink) -> Option<Hiding> {
    let chain = &link.chain;
    let declared: Vec<Declared> = (0..chain.len())
        .map(|at| cascade(sheet, Node { chain, at }))
        .collect();
    let hiding = |element: usize, reason: String| Some(Hiding { element, reason });

    // Not inherited, but nothing inside a hidden box shows.
    for (at, (element, values)) in chain.iter().zip(&declared).enumerate() {
        if element.hidden {
            return hiding(at, "the `hidden` attribute".to_owned());
        }
        if values
            .get("display")
            .is_some_and(|v| first_ident(v) == "none")
        {
            return hiding(at, "`display:none`".to_owned());
        }
        if let Some(opacity) = values.get("opacity")
            && is_zero(opacity)
        {
            return hiding(at, format!("`opacity:{opacity}`"));
        }
    }
    // Inherited: the nearest declaration counts (`visibility:visible` or a
    // font size on the link undoes the parent's).
    if let Some((at, value)) = nearest(&declared, "visibility")
        && matches!(first_ident(value).as_str(), "hidden" | "collapse")
    {
        return hiding(at, format!("`visibility:{value}`"));
    }
    if let Some((at, value)) = nearest(&declared, "font-size")
        && is_zero(value)
    {
        return hiding(at, format!("`font-size:{value}`"));
    }

    let (at, text) = link_colour(chain, &declared)?;
    if text.alpha == 0 {
        return hiding(at, format!("transparent text colour `{}`", text.source));
    }
    let background = background_colour(chain, &declared);
    if text.rgb == background.rgb {
        return hiding(
            at,
            format!(
                "text colour `{}` on background `{}`",
                text.source, background.source
            ),
        );
    }
    None
}

/// The element nearest the link that declares `property`, and its value.
fn nearest<'d>(declared: &'d [Declared], property: &str) -> Option<(usize, &'d String)> {
    declared
        .iter()
        .enumerate()
        .filter_map(|(at, values)| values.get(property).map(|v| (at, v)))
        .find(|(_, v)| first_ident(v) != "inherit")
}

/// The link's text colour and the element that sets it; `None` when the
/// link keeps the mail client's own link colour.
fn link_colour(chain: &[ElementInfo], declared: &[Declared]) -> Option<(usize, Colour)> {
    for (at, (element, values)) in chain.iter().zip(declared).enumerate() {
        let value = values.get("color").map(String::as_str);
        if let Some(value) = value
            && !matches!(first_ident(value).as_str(), "inherit" | "currentcolor")
        {
            return colour_in(value).map(|c| (at, c));
        }
        if let Some(attribute) = &element.color
            && let Some(colour) = colour_in(attribute)
        {
            return Some((at, colour));
        }
        // The link itself with no colour of its own: the client's link
        // colour, whatever its ancestors say.
        if at == 0 && value.is_none() {
            return None;
        }
    }
    // `inherit` up to the root: the default text colour.
    Some((chain.len().saturating_sub(1), Colour::named("black")))
}

/// The background behind the link: the nearest element (the link included)
/// with an opaque `background-color`, `background` or `bgcolor`; white when
/// there is none.
fn background_colour(chain: &[ElementInfo], declared: &[Declared]) -> Colour {
    for (element, values) in chain.iter().zip(declared) {
        let css = ["background-color", "background"]
            .iter()
            .find_map(|p| values.get(*p).and_then(|v| colour_in(v)));
        let attribute = element.bgcolor.as_deref().and_then(colour_in);
        if let Some(colour) = css.or(attribute)
            && colour.alpha > 0
        {
            return colour;
        }
    }
    Colour::named("white")
}

/// The cascade for one element: matching sheet rules by specificity and
/// source order, then the inline style; `!important` sheet declarations,
/// then `!important` inline ones, win over both.
fn cascade(sheet: &StyleSheet<'_>, node: Node<'_>) -> Declared {
    let matching: Vec<_> = sheet
        .rules
        .iter()
        .filter(|rule| rule.selector.matches(&node))
        .collect();
    let inline: Vec<_> = node
        .info()
        .style
        .as_deref()
        .map(|s| DeclarationTokenizer::from(s).collect())
        .unwrap_or_default();
    let mut declared = Declared::new();
    for important in [false, true] {
        let from_sheet = matching.iter().flat_map(|r| r.declarations.iter());
        for declaration in from_sheet.chain(inline.iter()) {
            if declaration.important == important {
                declared.insert(
                    declaration.name.to_ascii_lowercase(),
                    declaration.value.trim().to_ascii_lowercase(),
                );
            }
        }
    }
    declared
}

/// One element of a link's chain, as simplecss sees it: its parent is the
/// next element of the chain.
#[derive(Clone, Copy)]
struct Node<'c> {
    chain: &'c [ElementInfo],
    at: usize,
}

impl Node<'_> {
    fn info(&self) -> &ElementInfo {
        &self.chain[self.at]
    }
}

impl simplecss::Element for Node<'_> {
    fn parent_element(&self) -> Option<Self> {
        (self.at + 1 < self.chain.len()).then_some(Node {
            chain: self.chain,
            at: self.at + 1,
        })
    }

    /// Siblings are not recorded, so `a + b` never matches.
    fn prev_sibling_element(&self) -> Option<Self> {
        None
    }

    fn has_local_name(&self, name: &str) -> bool {
        self.info().tag.eq_ignore_ascii_case(name)
    }

    fn attribute_matches(&self, name: &str, operator: AttributeOperator<'_>) -> bool {
        let info = self.info();
        let value = match name {
            // simplecss splits `~=` (and so `.class`) at single spaces.
            "class" => info
                .class
                .as_deref()
                .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" ")),
            "id" => info.id.clone(),
            "style" => info.style.clone(),
            "color" => info.color.clone(),
            "bgcolor" => info.bgcolor.clone(),
            "hidden" => info.hidden.then(String::new),
            _ => None,
        };
        value.is_some_and(|v| operator.matches(&v))
    }

    /// A static rendering: `:link` is every `<a>` (opt-out links have an
    /// `href`); hover, focus, visited and position in the parent never hold.
    fn pseudo_class_matches(&self, class: PseudoClass<'_>) -> bool {
        matches!(class, PseudoClass::Link) && self.info().tag == "a"
    }
}

/// A colour as sRGB with 8-bit alpha, and how it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Colour {
    rgb: (u8, u8, u8),
    alpha: u8,
    source: String,
}

impl Colour {
    fn named(name: &str) -> Colour {
        let rgb = cssparser::color::parse_named_color(name).unwrap_or((0, 0, 0));
        Colour {
            rgb,
            alpha: 255,
            source: name.to_owned(),
        }
    }
}

/// The first colour in a CSS value (`#fff`, `white`, `rgb(255, 255, 255)`,
/// `rgba(…)`, `transparent`, or the colour in a `background` shorthand such as
/// `#fff url(x.png) no-repeat`).
fn colour_in(value: &str) -> Option<Colour> {
    let mut parser = Parser::new(value);
    loop {
        let token = parser.next().ok()?.clone();
        let found = match &token {
            Token::Hash(hex) | Token::IDHash(hex) => {
                cssparser::color::parse_hash_color(hex.as_bytes())
                    .ok()
                    .map(|(r, g, b, a)| ((r, g, b), alpha_byte(a)))
            }
            Token::Ident(name) if name.eq_ignore_ascii_case("transparent") => Some(((0, 0, 0), 0)),
            Token::Ident(name) => cssparser::color::parse_named_color(&name.to_ascii_lowercase())
                .ok()
                .map(|rgb| (rgb, 255)),
            Token::Function(name)
                if name.eq_ignore_ascii_case("rgb") || name.eq_ignore_ascii_case("rgba") =>
            {
                parser
                    .parse_nested_block(|p| Ok::<_, ParseError<()>>(rgb_arguments(p)))
                    .ok()
                    .flatten()
            }
            _ => None,
        };
        if let Some((rgb, alpha)) = found {
            return Some(Colour {
                rgb,
                alpha,
                source: value.to_owned(),
            });
        }
    }
}

/// The arguments of `rgb()`/`rgba()`: three numbers or percentages and an
/// optional alpha, separated by commas, or by spaces with `/` before alpha.
fn rgb_arguments(parser: &mut Parser<'_>) -> Option<((u8, u8, u8), u8)> {
    let mut numbers = Vec::with_capacity(4);
    while let Ok(token) = parser.next() {
        match *token {
            Token::Number { value, .. } => numbers.push((value, false)),
            Token::Percentage { unit_value, .. } => numbers.push((unit_value, true)),
            Token::Comma | Token::Delim('/') => {}
            _ => return None,
        }
    }
    let channel = |(v, percent): (f32, bool)| {
        let v = if percent { v * 255.0 } else { v };
        v.round().clamp(0.0, 255.0) as u8
    };
    // A percentage's unit value is already a fraction, like a number alpha.
    let alpha = numbers.get(3).map_or(255, |&(v, _)| alpha_byte(v));
    match numbers[..] {
        [r, g, b, ..] if numbers.len() <= 4 => Some(((channel(r), channel(g), channel(b)), alpha)),
        _ => None,
    }
}

fn alpha_byte(alpha: f32) -> u8 {
    (alpha * 255.0).round().clamp(0.0, 255.0) as u8
}

/// The value's first keyword, lower case (`none` of `none !important`).
fn first_ident(value: &str) -> String {
    let mut parser = Parser::new(value);
    match parser.next() {
        Ok(Token::Ident(name)) => name.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// A zero length, number or percentage: `0`, `0px`, `0pt`, `0em`, `0%`,
/// `0.0rem`.
fn is_zero(value: &str) -> bool {
    let mut parser = Parser::new(value);
    match parser.next() {
        Ok(Token::Number { value, .. }) | Ok(Token::Dimension { value, .. }) => *value == 0.0,
        Ok(Token::Percentage { unit_value, .. }) => *unit_value == 0.0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::opt_out::opt_out_links;
    use super::*;

    /// Why the one opt-out link in `html` is hidden (`None`: visible).
    #[track_caller]
    fn hidden(html: &str) -> Option<String> {
        let links = opt_out_links(html);
        assert_eq!(links.len(), 1, "one opt-out link in {html:?}");
        hidden_links(html, &links)[0]
            .as_ref()
            .map(|h| h.describe(&links[0]))
    }

    #[track_caller]
    fn hidden_by(html: &str, reason: &str) {
        let why = hidden(html).unwrap_or_else(|| panic!("should be hidden: {html:?}"));
        assert!(why.contains(reason), "{why:?} should mention {reason:?}");
    }

    #[track_caller]
    fn visible(html: &str) {
        assert_eq!(hidden(html), None, "should be visible: {html:?}");
    }

    const LINK: &str = r##"<a href="{{ unsubscribe_url }}">Afmelden</a>"##;

    #[test]
    fn a_click_here_link_found_by_its_sentence_is_judged_too() {
        hidden_by(
            r#"<p style="display:none">Si ya no deseas recibir estos correos, haz clic <a href="https://t.example/b">aquí</a>.</p>"#,
            "display:none",
        );
        visible(
            r#"<p>Si ya no deseas recibir estos correos, haz clic <a href="https://t.example/b">aquí</a>.</p>"#,
        );
    }

    #[test]
    fn all_hidden_stops_at_the_first_visible_link() {
        let html = format!(
            "<p style=\"display:none\">{LINK}</p><p>{LINK}</p>{}",
            format!("<p style=\"display:none\">{LINK}</p>").repeat(3)
        );
        let links = opt_out_links(&html);
        assert_eq!(links.len(), 5);
        assert_eq!(all_hidden(&html, &links), None);
        let hidden_only = format!("<p style=\"display:none\">{LINK}</p>").repeat(2);
        let links = opt_out_links(&hidden_only);
        assert_eq!(all_hidden(&hidden_only, &links).map(|h| h.len()), Some(2));
    }

    #[test]
    fn inline_display_visibility_opacity_and_hidden() {
        hidden_by(
            &format!(r##"<div style="display: none">{LINK}</div>"##),
            "`display:none`, set on the enclosing <div>",
        );
        hidden_by(
            r##"<a style="DISPLAY:NONE !important" href="{{ unsubscribe_url }}">Afmelden</a>"##,
            "set on the link itself",
        );
        hidden_by(
            &format!(r##"<p style="visibility:hidden">{LINK}</p>"##),
            "visibility:hidden",
        );
        hidden_by(
            &format!(r##"<p style="opacity:0.0">{LINK}</p>"##),
            "opacity",
        );
        hidden_by(
            &format!(r##"<table><tr><td hidden>{LINK}</td></tr></table>"##),
            "`hidden` attribute",
        );
        visible(&format!(
            r##"<p style="display:block;opacity:0.5">{LINK}</p>"##
        ));
    }

    #[test]
    fn inherited_properties_can_be_undone_by_the_link() {
        visible(
            r##"<p style="visibility:hidden"><a style="visibility:visible" href="{{ unsubscribe_url }}">Afmelden</a></p>"##,
        );
        visible(
            r##"<div style="font-size:0"><a style="font-size:12px" href="{{ unsubscribe_url }}">Afmelden</a></div>"##,
        );
        for zero in ["0", "0px", "0pt", "0em", "0%", "0.0rem"] {
            hidden_by(
                &format!(r##"<p style="font-size:{zero}">{LINK}</p>"##),
                "font-size",
            );
        }
        visible(&format!(r##"<p style="font-size:1px">{LINK}</p>"##));
    }

    #[test]
    fn colour_equal_to_the_background_in_every_spelling() {
        for (text, background) in [
            ("#fff", "bgcolor=\"#FFFFFF\""),
            ("white", "style=\"background-color: rgb(255,255,255)\""),
            (
                "rgb(255, 255, 255)",
                "style=\"background:#fff url(x.png) no-repeat\"",
            ),
            ("rgba(100%, 100%, 100%, 1)", "bgcolor=\"white\""),
            ("#1a2b3c", "style=\"background-color:#1A2B3C\""),
        ] {
            hidden_by(
                &format!(
                    r##"<table><tr><td {background}><a style="color:{text}" href="{{{{ unsubscribe_url }}}}">Afmelden</a></td></tr></table>"##
                ),
                "text colour",
            );
        }
        // No background anywhere: the white canvas.
        hidden_by(
            r##"<p><a style="color:#ffffff" href="{{ unsubscribe_url }}">Afmelden</a></p>"##,
            "on background `white`",
        );
        hidden_by(
            r##"<a style="color:transparent" href="{{ unsubscribe_url }}">Afmelden</a>"##,
            "transparent",
        );
        // White on a dark cell is fine.
        visible(
            r##"<table><tr><td bgcolor="#333"><a style="color:#fff" href="{{ unsubscribe_url }}">Afmelden</a></td></tr></table>"##,
        );
        // A transparent background lets the parent's show through.
        visible(
            r##"<table><tr><td bgcolor="#000"><span style="background-color:transparent"><a style="color:#fff" href="{{ unsubscribe_url }}">Afmelden</a></span></td></tr></table>"##,
        );
    }

    #[test]
    fn a_link_keeps_its_own_colour_unless_it_inherits() {
        // The parent's white does not reach the link: mail clients colour links.
        visible(&format!(
            r##"<table><tr><td style="color:#fff">{LINK}</td></tr></table>"##
        ));
        visible(&format!(r##"<font color="white">{LINK}</font>"##));
        hidden_by(
            r##"<table><tr><td style="color:#fff"><a style="color:inherit" href="{{ unsubscribe_url }}">Afmelden</a></td></tr></table>"##,
            "text colour `#fff`",
        );
    }

    #[test]
    fn style_sheet_rules_that_apply() {
        let page = |css: &str, body: &str| {
            format!(
                "<html><head><style type=\"text/css\">{css}</style></head><body>{body}</body></html>"
            )
        };
        hidden_by(
            &page(
                ".footer { display: none; }",
                &format!(r##"<div class="x footer">{LINK}</div>"##),
            ),
            "`display:none`, set on the enclosing <div>",
        );
        hidden_by(
            &page(
                "#unsub { font-size: 0px }",
                r##"<a id="unsub" href="{{ unsubscribe_url }}">Afmelden</a>"##,
            ),
            "font-size",
        );
        hidden_by(
            &page(
                "td.footer a { color: #FFF } td { background: white }",
                &format!(r##"<table><tr><td class="footer">{LINK}</td></tr></table>"##),
            ),
            "text colour",
        );
        hidden_by(
            &page(
                "<!-- p { visibility: hidden } -->",
                &format!("<p>{LINK}</p>"),
            ),
            "visibility:hidden",
        );
        // Rules that do not apply: another class, a media query, hover.
        visible(&page(
            ".hidden { display:none }",
            &format!(r##"<div class="footer">{LINK}</div>"##),
        ));
        visible(&page(
            "@media (max-width: 480px) { .footer { display:none } }",
            &format!(r##"<div class="footer">{LINK}</div>"##),
        ));
        visible(&page("a:hover { color: #fff }", &format!("<p>{LINK}</p>")));
        // The inline style beats a sheet rule, `!important` in the sheet beats it back.
        visible(&page(
            "a { color: #fff }",
            r##"<a style="color:#333" href="{{ unsubscribe_url }}">Afmelden</a>"##,
        ));
        hidden_by(
            &page(
                "a { color: #fff !important }",
                r##"<a style="color:#333" href="{{ unsubscribe_url }}">Afmelden</a>"##,
            ),
            "text colour",
        );
        // A more specific rule wins whatever the order.
        visible(&page(
            "p a { display: inline } a { display: none }",
            &format!("<p>{LINK}</p>"),
        ));
        hidden_by(
            &page(
                "a { display: inline } p a { display: none }",
                &format!("<p>{LINK}</p>"),
            ),
            "display:none",
        );
    }

    #[test]
    fn mso_hide_is_not_hiding() {
        visible(&format!(r##"<div style="mso-hide:all">{LINK}</div>"##));
    }
}
