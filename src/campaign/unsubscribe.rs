//! What an unsubscribe URL may be: checked once in the campaign file (the
//! template's literal start) and again for every recipient once rendered,
//! by `lint` and `send` alike.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// The schemes a `List-Unsubscribe` URI and an opt-out link may use (RFC
/// 2369, RFC 8058): a web page or an e-mail. Anything else (`javascript:`,
/// `data:`, `ftp:`) cannot unsubscribe anyone.
pub const SCHEMES: [&str; 3] = ["https", "http", "mailto"];

/// The scheme of `url` (`https` in `https://…`), when it starts with one.
fn scheme(url: &str) -> Option<&str> {
    let (scheme, _) = url.split_once(':')?;
    let mut chars = scheme.chars();
    (chars.next()?.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// Why the `unsubscribe_url` template `template` cannot give a working
/// unsubscribe URL, judged from its literal start (what comes before the
/// first `{`); `None` when it can, or when the scheme itself comes from a
/// merge value (then each rendered URL is checked by [`rendered`]).
pub fn template_problem(template: &str) -> Option<String> {
    let literal = &template[..template.find('{').unwrap_or(template.len())];
    let templated = literal.len() < template.len();
    match scheme(literal.trim_start()) {
        Some(s) if SCHEMES.iter().any(|k| s.eq_ignore_ascii_case(k)) => None,
        Some(s) => Some(format!(
            "`unsubscribe_url` uses the scheme `{s}:`, which cannot unsubscribe anyone; \
             use an https: (or http:, mailto:) URL"
        )),
        None if templated && !literal.contains([':', '/', '?']) => None,
        None => Some(
            "`unsubscribe_url` is not an absolute URL; start it with https:// (or http://, \
             mailto:)"
                .to_owned(),
        ),
    }
}

/// The unsubscribe URL one recipient gets, from its rendered template:
/// characters a URI may not hold raw (a space, non-ASCII letters, `"`, `<`,
/// `>`, …) are percent-encoded as UTF-8 (RFC 3986 §2.1, as browsers do), so
/// `List-Unsubscribe` stays a plain `<URI>` (RFC 2369 allows no encoded
/// words) and the link works. `Err` says why no URL can be made: a control
/// character (a line break would inject a header) or a scheme other than
/// https, http and mailto.
pub fn rendered(url: &str) -> Result<Cow<'_, str>, String> {
    let url = url.trim();
    if let Some(c) = url.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the unsubscribe URL would hold the control character {} (from a merge value); \
             refusing it",
            crate::escape::control_chars(&c.to_string())
        ));
    }
    match scheme(url) {
        Some(s) if SCHEMES.iter().any(|k| s.eq_ignore_ascii_case(k)) => {}
        _ => {
            return Err(format!(
                "the unsubscribe URL `{}` is not an https:, http: or mailto: URL",
                crate::escape::control_chars(url)
            ));
        }
    }
    Ok(utf8_percent_encode(url, NOT_IN_URI).into())
}

/// What [`rendered`] percent-encodes: controls (refused before), the space,
/// the characters RFC 3986 never allows raw, and (always, in
/// `percent_encoding`) every non-ASCII byte. `%` is kept: a value that is
/// encoded already stays as it is.
const NOT_IN_URI: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_javascript_unsubscribe_url_was_accepted() {
        assert!(
            template_problem("javascript:alert(1)")
                .unwrap()
                .contains("`javascript:`")
        );
        assert!(template_problem("JavaScript:{{ email }}").is_some());
        assert!(template_problem("data:text/html,x").is_some());
        assert!(template_problem("shop.example/afmelden").is_some());
        for ok in [
            "https://shop.example/afmelden?e={{ email | urlencode }}",
            "HTTP://shop.example/u",
            "mailto:afmelden@shop.example?subject={{ email }}",
            "{{ unsubscribe_link }}",
        ] {
            assert_eq!(template_problem(ok), None, "{ok}");
        }
        assert!(rendered("javascript:alert(1)").is_err());
        assert!(rendered("shop.example/u").is_err());
    }

    #[test]
    fn a_space_or_accent_in_the_unsubscribe_url_was_called_a_line_break() {
        assert_eq!(
            rendered("https://x.example/u?n=Jan de Vries").unwrap(),
            "https://x.example/u?n=Jan%20de%20Vries"
        );
        assert_eq!(
            rendered("https://x.example/u?n=Zoë<\">").unwrap(),
            "https://x.example/u?n=Zo%C3%AB%3C%22%3E"
        );
        assert!(matches!(
            rendered("https://x.example/u?e=a%40b.nl"),
            Ok(Cow::Borrowed(_))
        ));
        let err = rendered("https://x.example/u?e=a\r\nBcc: x@y").unwrap_err();
        assert!(err.contains("\\r"), "{err}");
    }
}
