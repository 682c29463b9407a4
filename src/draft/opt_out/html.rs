//! An HTML body read as a reader sees it: blocks of text (a paragraph, a
//! table cell, a line after `<br>`) with the links in them, in one pass over
//! the parsed document.
//!
//! Left out: what is never rendered (`<head>`, `<script>`, `<style>`,
//! comments), code (`<code>`), and quoted or forwarded mail (`<blockquote
//! type="cite">`, Gmail's, Thunderbird's, Yahoo's and Proton's quote
//! containers, and everything after Outlook's reply header). The pass keeps
//! a stack of open elements only as counters, so its time is linear in the
//! size of the document however deep it nests.

use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use scraper::{Html, Node};

/// The text of an HTML body, block by block, with its links.
pub(super) struct Flow {
    pub units: Vec<Unit>,
    pub links: Vec<FlowLink>,
}

/// One block of text.
#[derive(Default)]
pub(super) struct Unit {
    /// The block's text, whitespace collapsed to single spaces.
    pub text: String,
    /// Where each working link's text is in `text`, and which link.
    pub links: Vec<(Range<usize>, usize)>,
}

/// A link with a working `href`.
pub(super) struct FlowLink {
    pub node: NodeId,
    pub href: String,
    /// The link's text and its images' `alt`, whitespace collapsed.
    pub text: String,
    /// Index of the unit the link's text starts in.
    pub unit: usize,
}

/// An HTML body parsed, and read as the opt-out detector reads it.
pub(super) struct Parsed {
    pub document: Html,
    pub flow: Flow,
}

/// `html` parsed. Several rules ask about the same HTML part (is there an
/// opt-out, which links, are they hidden, does it name the sender), so the
/// last part parsed is kept (per thread, keyed by its length and xxh3 hash)
/// and a 200 KB newsletter is parsed once rather than four times.
pub(super) fn parsed(html: &str) -> Rc<Parsed> {
    thread_local! {
        static LAST: RefCell<Option<((usize, u64), Rc<Parsed>)>> = const { RefCell::new(None) };
    }
    let key = (html.len(), xxhash_rust::xxh3::xxh3_64(html.as_bytes()));
    LAST.with(|last| {
        if let Some((k, parsed)) = &*last.borrow()
            && *k == key
        {
            return Rc::clone(parsed);
        }
        let document = Html::parse_document(html);
        let flow = flow(&document, false);
        let parsed = Rc::new(Parsed { document, flow });
        *last.borrow_mut() = Some((key, Rc::clone(&parsed)));
        parsed
    })
}

/// Elements whose content a reader never sees as body text.
pub(super) const UNRENDERED: [&str; 6] =
    ["head", "script", "style", "template", "noscript", "title"];

/// Elements after which text continues in a new block.
const BLOCKS: [&str; 36] = [
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
    "tbody",
    "thead",
    "tfoot",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "center",
    "section",
    "article",
    "header",
    "footer",
    "aside",
    "nav",
    "main",
    "hr",
    "pre",
    "address",
    "form",
    "figcaption",
];

/// Class names (substrings) of the containers mail clients put a quoted or
/// forwarded message in.
const QUOTE_CLASSES: [&str; 5] = [
    "gmail_quote",
    "moz-forward-container",
    "yahoo_quoted",
    "protonmail_quote",
    "moz-cite-prefix",
];

/// `id`s that start Outlook's quoted message: everything after is the quote.
const REPLY_HEADER_IDS: [&str; 3] = ["divRplyFwdMsg", "appendonsend", "x_divRplyFwdMsg"];

/// What a `href` is.
pub(super) fn is_working_href(href: &str) -> bool {
    let lower = href.trim().to_ascii_lowercase();
    !(lower.is_empty()
        || lower.starts_with('#')
        || lower.starts_with("javascript:")
        || lower == "about:blank"
        || super::swallowed_markup(href))
}

enum Skip {
    /// The element and everything in it.
    Subtree,
    /// The element and everything after it in the document.
    Rest,
    No,
}

fn skip_of(element: &scraper::node::Element) -> Skip {
    let name = element.name();
    if UNRENDERED.contains(&name) || name == "code" {
        return Skip::Subtree;
    }
    if element
        .attr("id")
        .is_some_and(|id| REPLY_HEADER_IDS.contains(&id))
    {
        return Skip::Rest;
    }
    let class = element.attr("class").unwrap_or_default();
    if (name == "blockquote"
        && (element
            .attr("type")
            .is_some_and(|t| t.eq_ignore_ascii_case("cite"))
            || class.contains("quote")))
        || QUOTE_CLASSES.iter().any(|q| class.contains(q))
    {
        return Skip::Subtree;
    }
    Skip::No
}

/// Reads `document` into blocks and links. With `keep_quotes`, quoted and
/// forwarded mail, code and the text of dead links are read too (for
/// [`visible_text`](super::visible_text)).
pub(super) fn flow(document: &Html, keep_quotes: bool) -> Flow {
    let mut units = vec![Unit::default()];
    let mut links: Vec<FlowLink> = Vec::new();
    // The element whose subtree is skipped, if any.
    let mut skipping: Option<NodeId> = None;
    // The `<a>` being read: its node, the link's index when it works, and
    // where its text starts in the current unit.
    let mut in_link: Option<(NodeId, Option<usize>, usize)> = None;

    for edge in document.tree.root().traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(element) => {
                        let skip = if keep_quotes {
                            match UNRENDERED.contains(&element.name()) {
                                true => Skip::Subtree,
                                false => Skip::No,
                            }
                        } else {
                            skip_of(element)
                        };
                        match skip {
                            Skip::Subtree => {
                                skipping = Some(node.id());
                                continue;
                            }
                            Skip::Rest => break,
                            Skip::No => {}
                        }
                        let name = element.name();
                        if BLOCKS.contains(&name) && in_link.is_none() {
                            new_unit(&mut units);
                        }
                        if name == "a"
                            && in_link.is_none()
                            && let Some(href) = element.attr("href")
                        {
                            let unit = units.len() - 1;
                            let start = units[unit].text.len();
                            let index = is_working_href(href).then(|| {
                                links.push(FlowLink {
                                    node: node.id(),
                                    href: href.trim().to_owned(),
                                    text: String::new(),
                                    unit,
                                });
                                links.len() - 1
                            });
                            in_link = Some((node.id(), index, start));
                        }
                        if name == "img"
                            && let Some((_, index, _)) = in_link
                            && let Some(alt) = element.attr("alt")
                        {
                            push_text(&mut units, &mut links, index, &format!(" {alt} "));
                        }
                    }
                    Node::Text(text) => {
                        let index = in_link.and_then(|(_, index, _)| index);
                        // A dead link's text is no part of what the reader
                        // can act on; leave it out (unless reading all).
                        if in_link.is_none() || index.is_some() || keep_quotes {
                            push_text(&mut units, &mut links, index, text);
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                    continue;
                }
                if skipping.is_some() {
                    continue;
                }
                let Node::Element(element) = node.value() else {
                    continue;
                };
                if let Some((id, index, start)) = in_link
                    && id == node.id()
                {
                    in_link = None;
                    if let Some(index) = index {
                        let unit = units.len() - 1;
                        let end = units[unit].text.trim_end().len().max(start);
                        units[unit].links.push((start..end, index));
                    }
                }
                if BLOCKS.contains(&element.name()) && in_link.is_none() {
                    new_unit(&mut units);
                }
            }
        }
    }
    units.retain(|u| !u.text.trim().is_empty());
    // Unit indices of links moved with the retain: recount them.
    for (at, unit) in units.iter().enumerate() {
        for (_, index) in &unit.links {
            links[*index].unit = at;
        }
    }
    for link in &mut links {
        link.text = link.text.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    Flow { units, links }
}

fn new_unit(units: &mut Vec<Unit>) {
    if units.last().is_some_and(|u| !u.text.trim().is_empty()) {
        units.push(Unit::default());
    }
}

/// Appends text to the current unit (and to the link being read),
/// collapsing whitespace.
fn push_text(units: &mut [Unit], links: &mut [FlowLink], link: Option<usize>, text: &str) {
    let Some(unit) = units.last_mut() else {
        return;
    };
    for c in text.chars() {
        if c.is_whitespace() {
            if !unit.text.is_empty() && !unit.text.ends_with(' ') {
                unit.text.push(' ');
            }
        } else {
            unit.text.push(c);
        }
    }
    if let Some(index) = link
        && let Some(link) = links.get_mut(index)
    {
        link.text.push_str(text);
        link.text.push(' ');
    }
}
