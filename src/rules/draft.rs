//! Draft rules: the opt-out, the unsubscribe headers, the sender, the
//! recipients shown, attachments and templates (SPEC §3, draft rules).

// The rule files of this scope (src/rules/draft/), found by build.rs.
include!(concat!(env!("OUT_DIR"), "/rules/draft.rs"));

use std::collections::BTreeSet;

use crate::campaign::{Campaign, Jurisdiction};
use crate::diagnostic::Finding;
use crate::draft::{Draft, PartKind, TemplateSource, Templates, opt_out, visibility};
use crate::paths::display;
use crate::recipients::address::is_deliverable;
use crate::rules::RuleId;

/// The `field` of a diagnostic about a template.
pub fn template_field(draft: &Draft, source: TemplateSource) -> String {
    match source {
        TemplateSource::Subject => "Subject".to_owned(),
        TemplateSource::Part(i) => draft
            .parts
            .get(i)
            .map_or("body", |p| p.kind.mime())
            .to_owned(),
    }
}

/// Every draft rule that needs only the draft and the campaign.
pub fn check(draft: &Draft, campaign: &Campaign) -> Vec<Finding> {
    let file = display(&draft.path);
    let mut out = Vec::new();
    let at = |rule: RuleId, message: String| Finding::new(rule, message).file(&file);

    // missing-opt-out: every alternative must offer a way out.
    for part in &draft.parts {
        if !opt_out::has_opt_out(part) {
            out.push(
                at(
                    RuleId::MissingOptOut,
                    format!(
                        "the {} part offers no way to unsubscribe; add a link to \
                         {{{{ unsubscribe_url }}}} (e.g. \"Afmelden\")",
                        part.kind.mime()
                    ),
                )
                .line(part.line)
                .field(part.kind.mime()),
            );
        }
    }

    // damaged-encoding: read as a mail client reads it, but say so.
    for part in &draft.parts {
        if let Some(damage) = &part.damaged {
            out.push(
                at(
                    RuleId::DamagedEncoding,
                    format!(
                        "the {} part's {} is damaged ({}); it was decoded as mail clients \
                         decode it. Save the draft again from your mail client to be sure it \
                         reads as intended",
                        part.kind.mime(),
                        damage.encoding,
                        damage.what
                    ),
                )
                .line(damage.line)
                .field(part.kind.mime()),
            );
        }
    }

    check_hidden_opt_out(draft, &file, &mut out);
    check_list_unsubscribe(draft, campaign, &file, &mut out);
    check_recipients_shown(draft, &file, &mut out);
    check_sender(draft, &file, &mut out);
    check_identity(draft, campaign, &file, &mut out);
    check_attachments(draft, &file, &mut out);
    out
}

/// `hidden-opt-out`: an HTML part whose opt-out links are all hidden by their
/// styling. A part without opt-out links is `missing-opt-out`'s business, and
/// one visible link is enough.
fn check_hidden_opt_out(draft: &Draft, file: &str, out: &mut Vec<Finding>) {
    for (index, part) in draft.parts.iter().enumerate() {
        if part.kind != PartKind::Html {
            continue;
        }
        let links = opt_out::opt_out_links(&part.text);
        let hidden = visibility::all_hidden(&part.text, &links);
        let (Some(link), Some(hiding)) = (links.first(), hidden.and_then(|h| h.into_iter().next()))
        else {
            continue;
        };
        let which = if links.len() == 1 {
            format!("the opt-out link `{}`", link.text)
        } else {
            format!(
                "all {} opt-out links are hidden; the first, `{}`,",
                links.len(),
                link.text
            )
        };
        out.push(
            Finding::new(
                RuleId::HiddenOptOut,
                format!(
                    "{which} is hidden by {}: the opt-out must be offered clearly and \
                     distinctly (ePrivacy art. 13(2)); make it visible with a readable size \
                     and a colour that contrasts with its background",
                    hiding.describe(link)
                ),
            )
            .file(file)
            .line(link.line.map_or(part.line, |l| draft.eml_line(index, l)))
            .field(part.kind.mime()),
        );
    }
}

fn check_list_unsubscribe(draft: &Draft, campaign: &Campaign, file: &str, out: &mut Vec<Finding>) {
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
            .line(headers[1].line)
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
                .line(header.line)
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
            .line(post.map_or(header.line, |p| p.line))
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

/// Local parts that say "list" or "everyone".
const LIST_LOCAL_PARTS: &[&str] = &[
    "list",
    "lijst",
    "all",
    "allen",
    "iedereen",
    "everyone",
    "klanten",
    "customers",
    "subscribers",
    "abonnees",
    "leden",
    "members",
    "nieuwsbrieflijst",
    "mailinglist",
];

/// Headers that show recipients: `To` and `Cc`, and those a draft saved
/// from a sent or forwarded message may carry (RFC 5322 §3.6.6 resent
/// fields; `Apparently-To` and `X-Envelope-To`, which some servers add).
/// mailgate drops all but `To` and `Cc`'s own from the messages it sends,
/// but a list in one of them shows the draft was a mail to many people, and
/// any other tool would send it on.
pub const RECIPIENT_HEADERS: [&str; 6] = [
    "To",
    "Cc",
    "Resent-To",
    "Resent-Cc",
    "Apparently-To",
    "X-Envelope-To",
];

fn check_recipients_shown(draft: &Draft, file: &str, out: &mut Vec<Finding>) {
    for name in RECIPIENT_HEADERS {
        let Some(list) = draft.addresses(name) else {
            continue;
        };
        let line = draft.header(name).map(|h| h.line);
        let addresses: Vec<&str> = list
            .mailboxes
            .iter()
            .filter_map(|m| m.address.as_deref())
            .collect();
        let listy = addresses.iter().find(|a| {
            let local = a.split('@').next().unwrap_or("").to_ascii_lowercase();
            LIST_LOCAL_PARTS.iter().any(|l| {
                local == *l
                    || local.starts_with(&format!("{l}-"))
                    || local.ends_with(&format!("-{l}"))
                    || local.starts_with(&format!("{l}."))
            })
        });
        let group = list.groups.iter().find(|(_, members)| *members > 0);
        let message = if addresses.len() > 1 && !matches!(name, "To" | "Cc") {
            Some(format!(
                "{name} holds {} addresses: the draft was saved from a message to several \
                 people, and they would see each other; remove the header (mailgate drops it \
                 from what it sends, but another tool would not)",
                addresses.len()
            ))
        } else if addresses.len() > 1 {
            Some(format!(
                "{name} holds {} addresses: every recipient would see the others (a data \
                 leak); leave {name} to mailgate, which sends each person their own message",
                addresses.len()
            ))
        } else if let Some((group_name, _)) = group {
            Some(format!(
                "{name} names the group `{}`: recipients would see its members",
                group_name.as_deref().unwrap_or("")
            ))
        } else {
            listy.map(|a| {
                format!(
                    "{name} is the list address `{a}`: replies would reach everyone on it; \
                     mailgate puts each recipient in To itself"
                )
            })
        };
        if let Some(message) = message {
            out.push(
                Finding::new(RuleId::ExposedRecipients, message)
                    .file(file)
                    .line(line)
                    .field(name),
            );
        }
    }
}

const NO_REPLY: &[&str] = &[
    "noreply",
    "donotreply",
    "nereplypas",
    "nepasrepondre",
    "geenantwoord",
    "nietbeantwoorden",
    "nietantwoorden",
    "keineantwort",
    "nichtantworten",
];

fn is_no_reply(address: &str) -> bool {
    let local: String = address
        .split('@')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    NO_REPLY.iter().any(|n| local.contains(n))
}

fn check_sender(draft: &Draft, file: &str, out: &mut Vec<Finding>) {
    let from_headers: Vec<_> = draft.headers_named("From").collect();
    let from = draft.addresses("From").unwrap_or_default();
    let valid: Vec<&str> = from
        .mailboxes
        .iter()
        .filter_map(|m| m.address.as_deref())
        .filter(|a| is_deliverable(a))
        .collect();
    let problem = if from_headers.is_empty() {
        Some("the draft has no From header".to_owned())
    } else if from_headers.len() > 1 {
        Some("From appears more than once (RFC 5322 allows one)".to_owned())
    } else if valid.len() != 1 {
        Some(format!(
            "From `{}` does not hold exactly one valid address",
            from_headers[0].value
        ))
    } else {
        None
    };
    if let Some(problem) = problem {
        out.push(
            Finding::new(
                RuleId::MissingSender,
                format!("{problem}; write e.g. `From: De Linde <nieuwsbrief@delinde.example>`"),
            )
            .file(file)
            .line(from_headers.get(1).or(from_headers.first()).map(|h| h.line))
            .field("From"),
        );
    }
    for name in ["From", "Reply-To"] {
        let Some(list) = draft.addresses(name) else {
            continue;
        };
        if let Some(address) = list
            .mailboxes
            .iter()
            .filter_map(|m| m.address.as_deref())
            .find(|a| is_no_reply(a))
        {
            out.push(
                Finding::new(
                    RuleId::NoReplySender,
                    format!(
                        "{name} is the no-reply address `{address}`: recipients must be able \
                         to object by replying (ePrivacy art. 13(4)); use a monitored address"
                    ),
                )
                .file(file)
                .line(draft.header(name).map(|h| h.line))
                .field(name),
            );
        }
    }
}

/// Lower case with every run of whitespace made one space, for "does the
/// body contain" checks that survive line wrapping and HTML indentation.
fn squeeze(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn check_identity(draft: &Draft, campaign: &Campaign, file: &str, out: &mut Vec<Finding>) {
    let reported_before = out.len();
    // What the reader sees: an HTML part's text without its markup, so that
    // `<strong>De Linde</strong>&nbsp;B.V.` names "De Linde B.V.".
    let bodies: Vec<String> = draft
        .parts
        .iter()
        .map(|p| match p.kind {
            PartKind::Html => squeeze(&opt_out::visible_text(&p.text)),
            PartKind::Plain => squeeze(&p.text),
        })
        .collect();
    let named = |needle: &str| {
        let needle = squeeze(needle);
        bodies.iter().any(|b| b.contains(&needle))
    };
    let line = draft.parts.first().map(|p| p.line);
    if let Some(sender) = &campaign.sender
        && !named(sender)
    {
        out.push(
            Finding::new(
                RuleId::MissingSenderIdentity,
                format!(
                    "the body does not name the sender `{sender}`; recipients must see \
                         on whose behalf the mail is sent (ePrivacy art. 13(4))"
                ),
            )
            .file(file)
            .line(line),
        );
    }
    match &campaign.postal_address {
        Some(address) if !named(address) => out.push(
            Finding::new(
                RuleId::MissingPostalAddress,
                format!("the body does not contain the postal address `{address}`"),
            )
            .file(file)
            .line(line),
        ),
        None if campaign.jurisdiction == Jurisdiction::Us => out.push(
            Finding::new(
                RuleId::MissingPostalAddress,
                "CAN-SPAM requires a valid physical postal address in every commercial \
                 message; set `postal_address` in [campaign] and put it in the body"
                    .to_owned(),
            )
            .file(file)
            .line(line),
        ),
        _ => {}
    }
    // Both are about the body as a whole: they point at its first part
    // (line and type).
    let field = draft.parts.first().map_or("body", |p| p.kind.mime());
    for finding in &mut out[reported_before..] {
        finding.field = Some(field.to_owned());
    }
}

const PERSONAL_DATA_TYPES: &[&str] = &[
    "text/csv",
    "text/tab-separated-values",
    "text/vcard",
    "text/x-vcard",
    "text/directory",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/csv",
];
const PERSONAL_DATA_EXTENSIONS: &[&str] =
    &["csv", "tsv", "xls", "xlsx", "xlsm", "ods", "vcf", "vcard"];

fn check_attachments(draft: &Draft, file: &str, out: &mut Vec<Finding>) {
    for attachment in &draft.attachments {
        let name = attachment.filename.as_deref().unwrap_or("(unnamed)");
        let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        let spreadsheet = PERSONAL_DATA_TYPES.contains(&attachment.content_type.as_str())
            || extension
                .as_deref()
                .is_some_and(|e| PERSONAL_DATA_EXTENSIONS.contains(&e));
        let textual = attachment.content_type.starts_with("text/")
            || matches!(
                attachment.content_type.as_str(),
                "application/json" | "application/xml"
            );
        let address = if textual {
            first_address(&String::from_utf8_lossy(&attachment.data))
        } else {
            None
        };
        let why = if spreadsheet {
            format!(
                "`{name}` ({}) is a spreadsheet, list or contact card",
                attachment.content_type
            )
        } else if let Some(address) = address {
            format!("`{name}` holds e-mail addresses (e.g. {address})")
        } else {
            continue;
        };
        out.push(
            Finding::new(
                RuleId::PersonalDataAttachment,
                format!(
                    "{why}: sent to everyone, it would leak personal data (GDPR art. 32–34); \
                     remove the attachment"
                ),
            )
            .file(file)
            .line(attachment.line)
            .field(name),
        );
    }
}

fn first_address(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || ",;<>\"'()[]{}:".contains(c))
        .find(|token| token.contains('@') && is_deliverable(token))
        .map(str::to_owned)
}

/// `unknown-merge-field`: template variables that are no column and no built-in.
pub fn unknown_merge_fields(
    templates: &Templates,
    draft: &Draft,
    known: &BTreeSet<String>,
) -> Vec<Finding> {
    let file = display(&draft.path);
    templates
        .variables()
        .iter()
        .filter(|v| !known.contains(*v))
        .map(|variable| {
            let hint = unknown_hint(variable, known);
            let (source, line) = templates
                .first_use(variable)
                .map_or((None, None), |(s, l)| (Some(s), Some(l)));
            let mut finding = Finding::new(
                RuleId::UnknownMergeField,
                format!("the template uses `{variable}`, which is no column and no built-in{hint}"),
            )
            .file(&file)
            .line(line);
            if let Some(source) = source {
                finding = finding.field(template_field(draft, source));
            }
            finding
        })
        .collect()
}

/// "did you mean" for an unknown variable, or what to do.
pub fn unknown_hint(variable: &str, known: &BTreeSet<String>) -> String {
    let candidates: Vec<&str> = known.iter().map(String::as_str).collect();
    crate::suggest::suggest(variable, &candidates)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_else(|| "; add the column to the CSV or fix the template".to_owned())
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

    #[test]
    fn no_reply_addresses() {
        for a in [
            "noreply@x.nl",
            "no-reply@x.nl",
            "do_not_reply@x.nl",
            "geen-antwoord@x.nl",
        ] {
            assert!(is_no_reply(a), "{a}");
        }
        assert!(!is_no_reply("nieuwsbrief@x.nl"));
        assert!(!is_no_reply("reply@x.nl"));
    }

    #[test]
    fn addresses_in_text() {
        assert_eq!(
            first_address("naam;email\nJan;jan@example.nl\n").as_deref(),
            Some("jan@example.nl")
        );
        assert_eq!(first_address("Bestel nu @ onze winkel"), None);
    }
}
