//! The tags of a template's source (`{{ … }}`, `{% … %}`, `{# … #}`), found
//! by a quick scan of the text rather than minijinja's lexer: for the check
//! that must run before minijinja compiles a template (a chain too deep to
//! compile, `environment`) and for finding where a name is written
//! (minijinja keeps no positions of names, [`super::variables`]).

use std::ops::Range;

/// Which kind of tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TagKind {
    /// `{{ … }}`
    Expression,
    /// `{% … %}`
    Statement,
    /// `{# … #}`
    Comment,
}

/// One tag of a template's source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Tag {
    pub kind: TagKind,
    /// Offset of its `{`.
    pub open: usize,
    /// What stands between the delimiters; a tag that is never closed runs
    /// to the end of the text.
    pub body: Range<usize>,
}

/// The tags of `text`, in order. Delimiters inside a tag's body (a `{{` in
/// a comment) do not start another tag, as in minijinja.
pub(super) fn tags(text: &str) -> impl Iterator<Item = Tag> + '_ {
    let bytes = text.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        while let Some(found) = memchr::memchr(b'{', &bytes[pos..]) {
            let open = pos + found;
            let (kind, close): (TagKind, &[u8]) = match bytes.get(open + 1) {
                Some(b'{') => (TagKind::Expression, b"}}"),
                Some(b'%') => (TagKind::Statement, b"%}"),
                Some(b'#') => (TagKind::Comment, b"#}"),
                _ => {
                    pos = open + 1;
                    continue;
                }
            };
            let start = open + 2;
            let end =
                memchr::memmem::find(&bytes[start..], close).map_or(bytes.len(), |i| start + i);
            pos = (end + 2).min(bytes.len());
            return Some(Tag {
                kind,
                open,
                body: start..end,
            });
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_in_order_with_their_bodies() {
        let text = "a {{ x }} b {% if y %}{# {{ z }} #}{ c {{ open";
        let found: Vec<(TagKind, &str)> = tags(text).map(|t| (t.kind, &text[t.body])).collect();
        assert_eq!(
            found,
            [
                (TagKind::Expression, " x "),
                (TagKind::Statement, " if y "),
                (TagKind::Comment, " {{ z }} "),
                (TagKind::Expression, " open"),
            ]
        );
        assert_eq!(tags(text).next().map(|t| t.open), Some(2));
    }
}
