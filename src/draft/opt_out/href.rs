//! What a link target says by itself: an opt-out URL or address,
//! `{{ unsubscribe_url }}`, or an `href` that swallowed markup.

use super::vocabulary::{self, vocabulary};

/// Whether a link target says opt-out by itself: built from
/// `{{ unsubscribe_url }}`; a URL whose words (path, query) say it; a
/// `mailto:` whose address, subject or body says it.
pub(super) fn href_is_opt_out(href: &str) -> bool {
    if mentions_unsubscribe_url(href) {
        return true;
    }
    let v = vocabulary();
    // `%2D`, `%C3%A9`: the words of a URL may be percent-encoded (a `%`
    // not followed by two hex digits stays as it is).
    let decoded = percent_encoding::percent_decode_str(&href.replace("&amp;", "&"))
        .decode_utf8_lossy()
        .into_owned();
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
