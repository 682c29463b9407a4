//! `missing-list-unsubscribe`: no List-Unsubscribe header and no unsubscribe_url to add one.

use crate::campaign::Campaign;
use crate::diagnostic::Finding;
use crate::draft::Draft;
use crate::rules::RuleId;

crate::declare_rule! {
    name: "missing-list-unsubscribe",
    scope: draft,
    default: warning,
    order: 30,
    summary: "no List-Unsubscribe header and no unsubscribe_url to add one",
    explain: "missing_list_unsubscribe.md",
}

/// One reading of the List-Unsubscribe headers decides the three rules
/// about them: `missing-list-unsubscribe`, `invalid-list-unsubscribe` and
/// `missing-one-click` (the other two files declare theirs).
pub fn check(draft: &Draft, campaign: &Campaign, file: &str, out: &mut Vec<Finding>) {
    let headers: Vec<_> = draft.headers_named("List-Unsubscribe").collect();
    let Some(header) = headers.first() else {
        let https_url = campaign
            .unsubscribe_url
            .as_deref()
            .is_some_and(|u| u.trim_start().to_ascii_lowercase().starts_with("https://"));
        if campaign.unsubscribe_url.is_none() {
            out.push(
                Finding::new(
                    RuleId::MissingListUnsubscribe,
                    "no List-Unsubscribe header and no `unsubscribe_url` in [campaign] for \
                     mailgate to add one; mailbox providers expect it of bulk mail"
                        .to_owned(),
                )
                .file(file)
                .field("List-Unsubscribe"),
            );
        }
        if !https_url {
            out.push(
                Finding::new(
                    RuleId::MissingOneClick,
                    "no one-click unsubscribe (RFC 8058): set an https `unsubscribe_url`, \
                     and mailgate adds List-Unsubscribe-Post"
                        .to_owned(),
                )
                .file(file)
                .field("List-Unsubscribe-Post"),
            );
        }
        return;
    };
    if headers.len() > 1 {
        out.push(
            Finding::new(
                RuleId::InvalidListUnsubscribe,
                "List-Unsubscribe appears more than once; keep one header with a \
                 comma-separated list"
                    .to_owned(),
            )
            .file(file)
            .at(headers[1].place())
            .field("List-Unsubscribe"),
        );
    }
    let uris = match parse_list_unsubscribe(&header.value) {
        Ok(uris) => uris,
        Err(problem) => {
            out.push(
                Finding::new(
                    RuleId::InvalidListUnsubscribe,
                    format!(
                        "List-Unsubscribe is not a list of <uri>: {problem}; write e.g. \
                         <https://shop.example/unsub?id=1>, <mailto:unsub@shop.example>"
                    ),
                )
                .file(file)
                .at(header.place())
                .field("List-Unsubscribe"),
            );
            return;
        }
    };
    let has_https = uris
        .iter()
        .any(|u| u.to_ascii_lowercase().starts_with("https://"));
    let post = draft.header("List-Unsubscribe-Post");
    let one_click = post.is_some_and(|p| {
        p.value.split_whitespace().collect::<String>() == "List-Unsubscribe=One-Click"
    });
    if !(has_https && one_click) {
        let why = match (has_https, one_click) {
            (false, _) => "List-Unsubscribe has no https URI",
            (true, false) => "there is no `List-Unsubscribe-Post: List-Unsubscribe=One-Click`",
            _ => unreachable!(),
        };
        out.push(
            Finding::new(
                RuleId::MissingOneClick,
                format!("no one-click unsubscribe (RFC 8058): {why}"),
            )
            .file(file)
            .at(post.unwrap_or(header).place())
            .field("List-Unsubscribe-Post"),
        );
    }
}

/// Parses an RFC 2369 List-Unsubscribe value into its URIs: a comma-separated
/// list of `<uri>`, with comments allowed between them.
pub fn parse_list_unsubscribe(value: &str) -> Result<Vec<String>, String> {
    let mut uris = Vec::new();
    let mut rest = value.trim();
    loop {
        rest = skip_comments(rest)?;
        let Some(after) = rest.strip_prefix('<') else {
            return Err(if rest.is_empty() {
                "it holds no URI".to_owned()
            } else {
                format!(
                    "expected `<` at `{}`",
                    rest.chars().take(20).collect::<String>()
                )
            });
        };
        let end = after.find('>').ok_or("a `<` is never closed")?;
        let uri = after[..end].trim();
        if uri.contains(char::is_whitespace) {
            return Err(format!("the URI `{uri}` contains a space"));
        }
        let scheme = uri.split(':').next().unwrap_or("").to_ascii_lowercase();
        if !matches!(scheme.as_str(), "http" | "https" | "mailto") || !uri.contains(':') {
            return Err(format!("`{uri}` is not an http(s) or mailto URI"));
        }
        uris.push(uri.to_owned());
        rest = skip_comments(&after[end + 1..])?;
        match rest.strip_prefix(',') {
            Some(next) => rest = next.trim_start(),
            None if rest.is_empty() => return Ok(uris),
            None => return Err(format!("expected `,` between URIs, found `{rest}`")),
        }
    }
}

/// Skips whitespace and RFC 5322 comments (nested parentheses).
fn skip_comments(mut text: &str) -> Result<&str, String> {
    loop {
        text = text.trim_start();
        if !text.starts_with('(') {
            return Ok(text);
        }
        let mut depth = 0;
        let mut end = None;
        for (i, c) in text.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.ok_or("a comment `(` is never closed")?;
        text = &text[end + 1..];
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_unsubscribe_syntax() {
        assert_eq!(
            parse_list_unsubscribe("<mailto:u@x.nl?subject=unsub>, <https://x.nl/u?id=1>").unwrap(),
            ["mailto:u@x.nl?subject=unsub", "https://x.nl/u?id=1"]
        );
        assert!(parse_list_unsubscribe("(comment) <https://x.nl/u> (another)").is_ok());
        assert!(parse_list_unsubscribe("https://x.nl/u").is_err());
        assert!(parse_list_unsubscribe("<https://x.nl/u> <mailto:a@b.nl>").is_err());
        assert!(parse_list_unsubscribe("<ftp://x.nl/u>").is_err());
        assert!(parse_list_unsubscribe("<https://x.nl/u?e={{ email }}>").is_err());
        assert!(parse_list_unsubscribe("").is_err());
    }

}
