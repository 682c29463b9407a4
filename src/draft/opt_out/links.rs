//! The opt-out links of an HTML body, each with the chain of elements around
//! it (for `hidden-opt-out`) and the line of its `href`.

use ego_tree::NodeId;
use scraper::{ElementRef, Html};

use super::{html, opt_out_flags, text};

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
