//! Plain text as the opt-out detector reads it: the sender's own lines
//! (quoted replies, forwarded messages and patches left out), joined into
//! paragraphs and cut into sentences; and the mechanisms a sentence can
//! carry (a URL, an address, "reply", "log in").

use std::ops::Range;

use super::mentions_unsubscribe_url;
use super::vocabulary::vocabulary;
use crate::draft::line_counter::LineCounter;

/// A paragraph of text (or a block of HTML), with the copy of it that
/// mechanisms are looked for in (for HTML, link texts blanked).
pub(super) struct Reading {
    pub text: String,
    pub mechanisms: String,
}

/// The paragraphs of a text part that are the sender's own, lines joined
/// with spaces.
pub(super) fn readings(text: &str) -> Vec<Reading> {
    let lines: Vec<&str> = text.lines().collect();
    let kept = kept_lines(lines.iter().copied());
    let mut out = Vec::new();
    let mut paragraph = String::new();
    for (line, kept) in lines.iter().zip(kept) {
        if kept && !line.trim().is_empty() {
            if !paragraph.is_empty() {
                paragraph.push(' ');
            }
            paragraph.push_str(line.trim());
        } else if !paragraph.is_empty() {
            out.push(reading(std::mem::take(&mut paragraph)));
        }
    }
    if !paragraph.is_empty() {
        out.push(reading(paragraph));
    }
    out
}

fn reading(text: String) -> Reading {
    Reading {
        mechanisms: text.clone(),
        text,
    }
}

/// For each line, whether it is the sender's own: not a quoted line (`>`),
/// not inside a forwarded or quoted message (from its marker line, such as
/// "---------- Forwarded message ---------" or Outlook's line of underscores
/// followed by `From:`/`Sent:`, to the next line of underscores, which is
/// where mailing-list managers put their footer), not part of a patch.
pub(super) fn kept_lines<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<bool> {
    let lines: Vec<&str> = lines.collect();
    let v = vocabulary();
    let mut kept = Vec::with_capacity(lines.len());
    let mut forwarded = false;
    let mut patch = false;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if is_underscore_rule(trimmed) {
            forwarded = header_block_follows(&lines[i + 1..]);
            patch = false;
            kept.push(false);
            continue;
        }
        if patch {
            if trimmed.is_empty()
                || line.starts_with(['+', '-', ' ', '@', '\\'])
                || line.starts_with("index ")
                || line.starts_with("diff ")
            {
                kept.push(false);
                continue;
            }
            patch = false;
        }
        if starts_patch(line) {
            patch = true;
            kept.push(false);
            continue;
        }
        if !forwarded
            && (is_forward_marker(trimmed, v)
                || lines[i..]
                    .iter()
                    .take(3)
                    .filter(|l| v.is_reply_header(l.trim()))
                    .count()
                    == 3)
        {
            forwarded = true;
        }
        kept.push(!forwarded && !trimmed.starts_with('>'));
    }
    kept
}

/// A line of ten or more underscores (and nothing else).
fn is_underscore_rule(line: &str) -> bool {
    line.len() >= 10 && line.bytes().all(|b| b == b'_')
}

/// Whether the next non-empty lines are a header block (`From: …`,
/// `Sent: …`): Outlook's quoted message under its line of underscores.
fn header_block_follows(lines: &[&str]) -> bool {
    let mut headers = lines
        .iter()
        .map(|l| l.trim())
        .skip_while(|l| l.is_empty())
        .take(2);
    let is_header = |line: Option<&str>| {
        line.and_then(|l| l.split_once(':'))
            .is_some_and(|(name, _)| {
                let name = name.trim_start_matches(['*', ' ']).trim_end_matches('*');
                !name.is_empty()
                    && name.split_whitespace().count() <= 2
                    && name
                        .chars()
                        .all(|c| c.is_alphabetic() || c == '-' || c == ' ')
            })
    };
    is_header(headers.next()) && is_header(headers.next())
}

/// The first line of a patch: `diff --git`, `--- a/…`, `+++ b/…`, `@@ -1`.
fn starts_patch(line: &str) -> bool {
    line.starts_with("diff --git ")
        || line.starts_with("--- a/")
        || line.starts_with("+++ b/")
        || line.starts_with("@@ -")
}

/// "---------- Forwarded message ---------", "-----Original Message-----",
/// "Begin forwarded message:", "-------- Message transféré --------".
fn is_forward_marker(line: &str, v: &super::vocabulary::Vocabulary) -> bool {
    if !(line.contains("--") || line.ends_with(':')) || line.len() > 120 {
        return false;
    }
    let mut found = false;
    let mut words = 0;
    super::vocabulary::for_each_clause(line, |tokens| {
        words += tokens.len();
        found = found || v.forward_markers.occurs_in(tokens);
    });
    found && words <= 8
}

/// Sentences of a paragraph: cut after `.`, `!`, `?` or `…` followed by
/// whitespace (so the dots of a URL or `e-mail.nl` do not cut). Always at
/// least one.
pub(super) fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '.' | '!' | '?' | '\u{2026}') {
            let next = i + c.len_utf8();
            if next == text.len() || text[next..].starts_with(char::is_whitespace) {
                out.push(start..next);
                start = next;
            }
        }
    }
    if start < text.len() && !text[start..].trim().is_empty() {
        out.push(start..text.len());
    }
    if out.is_empty() {
        out.push(0..text.len());
    }
    out
}

/// Whether `text` carries a way to act: a URL, an e-mail address,
/// `{{ unsubscribe_url }}`, or an instruction such as "reply" or "log in".
pub(super) fn mechanism_in(text: &str) -> bool {
    urls_and_addresses(text).next().is_some()
        || mentions_unsubscribe_url(text)
        || vocabulary().names_mechanism(text)
}

/// The URLs (`http(s)://`, `www.`, `mailto:`) and e-mail addresses typed in
/// `text`, trailing punctuation trimmed.
pub(super) fn urls_and_addresses(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '[' | ']'))
        .map(|word| {
            word.trim_start_matches('(')
                .trim_end_matches(['.', ',', ';', ':', ')', '!', '?'])
        })
        .filter(|word| is_url(word) || is_address(word))
}

fn is_url(word: &str) -> bool {
    let lower = word.get(..8).unwrap_or(word).to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("mailto:"))
        && word.len() > 8
        || lower.starts_with("www.") && word.len() > 6
}

/// `local@domain.tld`, loosely: something before the `@`, a dot after it.
fn is_address(word: &str) -> bool {
    let Some((local, domain)) = word.rsplit_once('@') else {
        return false;
    };
    let domain_ok = domain
        .split_once('.')
        .is_some_and(|(a, b)| !a.is_empty() && b.len() >= 2)
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    !local.is_empty() && !local.contains("{{") && domain_ok
}

/// Every `href` attribute of an HTML source, in order, with its 1-based
/// line and its value (the common character references decoded). One pass.
pub(super) fn href_attributes(source: &str) -> Vec<(u64, String)> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let mut lines = LineCounter::new(source);
    let mut from = 0;
    while let Some(at) = find_href(bytes, from) {
        from = at + 4;
        let mut i = from;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let (start, end) = match bytes.get(i) {
            Some(&q) if q == b'"' || q == b'\'' => {
                let end = bytes[i + 1..]
                    .iter()
                    .position(|&b| b == q)
                    .map_or(bytes.len(), |e| i + 1 + e);
                (i + 1, end)
            }
            Some(_) => {
                let end = bytes[i..]
                    .iter()
                    .position(|&b| b.is_ascii_whitespace() || b == b'>')
                    .map_or(bytes.len(), |e| i + e);
                (i, end)
            }
            None => break,
        };
        let value = source.get(start..end).unwrap_or_default();
        out.push((
            lines.line_at(start),
            decode_references(value).trim().to_owned(),
        ));
        from = end.max(from);
    }
    out
}

fn find_href(bytes: &[u8], from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(4)
        .position(|w| w.eq_ignore_ascii_case(b"href"))
        .map(|p| from + p)
}

/// `&amp;`, `&quot;`, `&#39;`, `&#38;`, `&lt;`, `&gt;`: what URLs in
/// attributes are usually written with.
fn decode_references(value: &str) -> String {
    if !value.contains('&') {
        return value.to_owned();
    }
    value
        .replace("&amp;", "&")
        .replace("&#38;", "&")
        .replace("&#x26;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}
