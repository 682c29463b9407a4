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

/// The last part parsed: its length and hash, and what was read.
type Memo = ((usize, u64), Rc<Parsed>);

/// `html` parsed (elements nested deeper than [`MAX_DEPTH`] flattened, see
/// [`flatten_deep_nesting`]). Several rules ask about the same HTML part (is there an
/// opt-out, which links, are they hidden, does it name the sender), so the
/// last part parsed is kept (per thread, keyed by its length and xxh3 hash)
/// and a 200 KB newsletter is parsed once rather than four times.
pub(super) fn parsed(html: &str) -> Rc<Parsed> {
    thread_local! {
        static LAST: RefCell<Option<Memo>> = const { RefCell::new(None) };
    }
    let key = (html.len(), xxhash_rust::xxh3::xxh3_64(html.as_bytes()));
    LAST.with(|last| {
        if let Some((k, parsed)) = &*last.borrow()
            && *k == key
        {
            return Rc::clone(parsed);
        }
        let document = Html::parse_document(&flatten_deep_nesting(html));
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

/// Whether a link goes somewhere when the mail is read: an absolute
/// `http(s)://` URL, a `mailto:`, or a template that renders one. Not
/// empty, `#…`, `javascript:`, a relative path (a mail has no base URL), or
/// another program's merge tag that mailgate does not fill in (`*|UNSUB|*`,
/// `%unsubscribe_url%`, `[unsubscribe]`): sent by mailgate, such a link
/// leads nowhere.
pub(super) fn is_working_href(href: &str) -> bool {
    let lower = href.trim().to_ascii_lowercase();
    let absolute = ["http://", "https://", "mailto:", "//"]
        .iter()
        .any(|scheme| lower.starts_with(scheme));
    (absolute || lower.starts_with("{{") || lower.starts_with("{%"))
        && !super::href::swallowed_markup(href)
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
/// [`visible_text`]).
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

/// How deep elements may nest before their tags are left out. Chrome's
/// parser stops nesting at 512 as well; html5ever checks every block's
/// scope against all open elements, so deeper nesting costs quadratic time
/// (20,000 nested `<div>`s took seconds).
pub(super) const MAX_DEPTH: usize = 512;

/// Elements that never nest in the tree, because they are void or closed
/// implicitly by the next of their kind (`<p>`, `<li>`, `<td>`): they do not
/// count towards the depth. `<a>` does not nest either (a new one closes
/// the open one), and is always kept: it is what the rules look for.
const FLAT: [&str; 26] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "a", "tbody", "thead",
    "tfoot",
];

/// `html` with the start and end tags of elements nested deeper than
/// [`MAX_DEPTH`] left out (their text stays); borrowed unchanged when it
/// does not nest that deep, which is every real mail. One pass over the
/// bytes: comments, `<script>`/`<style>` contents and quoted attribute
/// values are skipped over, not read as tags.
pub(super) fn flatten_deep_nesting(html: &str) -> std::borrow::Cow<'_, str> {
    let bytes = html.as_bytes();
    let mut depth = 0usize;
    let mut out: Option<String> = None;
    let mut copied = 0; // bytes of `html` already in `out`
    let mut i = 0;
    while let Some(lt) = memchr::memchr(b'<', &bytes[i..]).map(|p| i + p) {
        let Some(tag) = read_tag(bytes, lt) else {
            i = lt + 1;
            continue;
        };
        i = tag.end;
        let flat = FLAT.iter().any(|f| f.eq_ignore_ascii_case(&tag.name));
        if tag.name.is_empty() || flat || tag.self_closing {
            continue;
        }
        let drop = if tag.closing {
            let deep = depth > MAX_DEPTH;
            depth = depth.saturating_sub(1);
            deep
        } else {
            depth += 1;
            depth > MAX_DEPTH
        };
        if drop {
            let out = out.get_or_insert_with(|| String::with_capacity(html.len()));
            out.push_str(&html[copied..lt]);
            copied = tag.end;
        }
    }
    match out {
        None => std::borrow::Cow::Borrowed(html),
        Some(mut out) => {
            out.push_str(&html[copied..]);
            std::borrow::Cow::Owned(out)
        }
    }
}

struct Tag {
    /// Lower case; empty for comments, doctypes and the like.
    name: String,
    closing: bool,
    self_closing: bool,
    /// Offset just past the tag (past the raw text of `<script>`/`<style>`).
    end: usize,
}

/// The tag starting at `bytes[lt] == b'<'`, or `None` when it is none.
fn read_tag(bytes: &[u8], lt: usize) -> Option<Tag> {
    let rest = &bytes[lt + 1..];
    if rest.starts_with(b"!--") {
        let end = find(bytes, lt + 4, b"-->").map_or(bytes.len(), |p| p + 3);
        return Some(Tag {
            name: String::new(),
            closing: false,
            self_closing: false,
            end,
        });
    }
    if rest.first().is_some_and(|&b| b == b'!' || b == b'?') {
        let end = memchr::memchr(b'>', rest).map_or(bytes.len(), |p| lt + 1 + p + 1);
        return Some(Tag {
            name: String::new(),
            closing: false,
            self_closing: false,
            end,
        });
    }
    let closing = rest.first() == Some(&b'/');
    let start = lt + 1 + usize::from(closing);
    let name_len = bytes[start..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b':')
        .count();
    if name_len == 0 || !bytes[start].is_ascii_alphabetic() {
        return None;
    }
    let name = String::from_utf8_lossy(&bytes[start..start + name_len]).to_ascii_lowercase();
    // The tag's end: the first `>` outside a quoted attribute value.
    let mut j = start + name_len;
    let mut quote: Option<u8> = None;
    while j < bytes.len() {
        match (quote, bytes[j]) {
            (Some(q), b) if b == q => quote = None,
            (None, b'"' | b'\'') => quote = Some(bytes[j]),
            (None, b'>') => break,
            _ => {}
        }
        j += 1;
    }
    let self_closing = j > 0 && bytes.get(j - 1) == Some(&b'/');
    let mut end = (j + 1).min(bytes.len());
    if !closing && matches!(name.as_str(), "script" | "style" | "textarea" | "title") {
        let close = format!("</{name}");
        end = find_ignore_case(bytes, end, close.as_bytes()).unwrap_or(bytes.len());
    }
    Some(Tag {
        name,
        closing,
        self_closing,
        end,
    })
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(bytes.get(from..)?, needle).map(|p| from + p)
}

fn find_ignore_case(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

/// The text of every `<style>` element of an HTML body (outside
/// `<template>` and the like too: a sheet applies wherever it stands).
pub fn style_sheets(html: &str) -> Vec<String> {
    let parsed = parsed(html);
    let Ok(styles) = scraper::Selector::parse("style") else {
        return Vec::new();
    };
    parsed
        .document
        .select(&styles)
        .map(|style| style.text().collect::<String>())
        .collect()
}

/// The text a reader sees of an HTML body: character references decoded,
/// markup, comments, `<head>`, `<script>` and `<style>` left out, and a line
/// break between blocks (`<p>`, `<br>`, `<td>`, …). CSS hiding is not
/// applied. For rules that ask whether the body *says* something, such as
/// the sender's name or postal address.
pub fn visible_text(html: &str) -> String {
    let flow = flow(&parsed(html).document, true);
    let mut text = String::new();
    for unit in flow.units {
        text.push('\n');
        text.push_str(&unit.text);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_nesting_is_left_alone() {
        let html = "<div><p>a<p>b<table><tr><td><a href=x>c</a></td></tr></table>\
                    <!-- <div> --><script>if (a<b) {}</script></div>";
        assert!(matches!(
            flatten_deep_nesting(html),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn nesting_past_the_limit_is_flattened_and_links_kept() {
        let n = MAX_DEPTH + 100;
        let html = format!(
            "{}<a href=\"{{{{ unsubscribe_url }}}}\">Afmelden</a>{}",
            "<div class='x>y'>".repeat(n),
            "</div>".repeat(n)
        );
        let flat = flatten_deep_nesting(&html);
        assert_eq!(flat.matches("<div").count(), MAX_DEPTH);
        assert_eq!(flat.matches("</div>").count(), MAX_DEPTH);
        assert!(flat.contains("<a href=\"{{ unsubscribe_url }}\">Afmelden</a>"));
        let parsed = parsed(&html);
        assert_eq!(parsed.flow.links.len(), 1);
    }
}
