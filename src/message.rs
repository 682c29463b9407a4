//! Rendering one personal message per recipient with lettre's builder: the
//! draft's templates filled in, To = that recipient alone, the draft's own
//! headers and attachments kept, unsubscribe headers added, and a
//! deterministic Message-ID.
//!
//! A module of its own, below `send`: lint builds every row's headers with
//! it (`invalid-merge-value`), `missing-sender` checks the From it builds,
//! and the HTML report previews one message, all without sending.

use std::collections::BTreeMap;
use std::time::SystemTime;

use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use xxhash_rust::xxh3::xxh3_128;

use crate::campaign::Campaign;
use crate::draft::templates::UnsubscribeTemplate;
use crate::draft::{Draft, PartKind, TemplateSource, Templates};
use crate::recipients::{Field, Row};

/// Headers the builder sets itself, or that must not travel from the draft
/// into every personal message.
const REPLACED_HEADERS: &[&str] = &[
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "message-id",
    "date",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "content-id",
    "content-language",
    "received",
    "return-path",
    "delivered-to",
    // Recipients of the message the draft was saved from: copied into
    // every personal message, they would show those addresses to everyone.
    "resent-to",
    "resent-cc",
    "resent-bcc",
    "resent-from",
    "resent-sender",
    "resent-date",
    "resent-message-id",
    "apparently-to",
    "x-envelope-to",
    "envelope-to",
    "x-original-to",
    "x-unsent",
    "x-account-key",
    "x-identity-key",
    "fcc",
    "x-uniform-type-identifier",
];

/// Mail clients' private draft bookkeeping (Thunderbird's `X-Mozilla-*`,
/// Apple Mail's `X-Apple-*`), never meant to leave the sender's machine.
const PRIVATE_PREFIXES: &[&str] = &["x-mozilla-", "x-apple-"];

fn is_kept(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    !REPLACED_HEADERS.contains(&name.as_str())
        && !PRIVATE_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Why one recipient's message could not be built. Never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the {0} template failed: {1}")]
    Template(&'static str, String),
    #[error("a merge value puts a line break into the {0} header; refusing (header injection)")]
    HeaderInjection(&'static str),
    /// A merge value (the column's name) puts a control character into a
    /// header: a line break would inject headers, the others garble it.
    #[error(
        "a merge value puts {what} into the {header} header (the value of `{column}`); \
         refusing{why}"
    )]
    ControlInHeader {
        header: &'static str,
        column: String,
        /// "a line break", or "the control character \x1b".
        what: String,
        /// " (header injection)" for a line break.
        why: &'static str,
    },
    #[error("{0}")]
    Unsubscribe(String),
    #[error("cannot build the message: {0}")]
    Message(String),
}

/// The draft's From as the sent messages carry it: what `lint` checks and
/// `send` uses (one path, so that a From lint passes is one send can use).
pub fn sender(draft: &Draft) -> Result<Mailbox, String> {
    let from_list = draft.addresses("From").unwrap_or_default();
    let first = from_list
        .mailboxes
        .first()
        .ok_or("the draft has no From address")?;
    let address = first
        .address
        .clone()
        .ok_or("the draft has no From address")?;
    let shown = |text: &str| crate::escape::control_chars(text).into_owned();
    if let Some(name) = &first.name
        && name.chars().any(char::is_control)
    {
        return Err(format!(
            "the From display name `{}` holds a control character; remove it",
            shown(name)
        ));
    }
    match &first.name {
        Some(name) => format!("{} <{address}>", quote_display_name(name)),
        None => address.clone(),
    }
    .parse()
    .map_err(|e| format!("the draft's From `{}` is not usable: {e}", shown(&address)))
}

/// Builds the messages of one campaign.
pub struct MessageFactory<'a> {
    draft: &'a Draft,
    templates: &'a Templates,
    unsubscribe: Option<UnsubscribeTemplate>,
    from: Mailbox,
    kept_headers: Vec<(String, String)>,
    draft_has_list_unsubscribe: bool,
    campaign_name: String,
    id_domain: String,
    /// Every variable some template reads: what a recipient's context needs.
    variables: Vec<String>,
}

impl<'a> MessageFactory<'a> {
    /// Prepares everything that does not depend on the recipient.
    pub fn new(
        campaign: &Campaign,
        draft: &'a Draft,
        templates: &'a Templates,
    ) -> Result<Self, String> {
        let from = sender(draft)?;
        let address = from.email.to_string();
        let id_domain = address
            .rsplit('@')
            .next()
            .unwrap_or("mailgate.invalid")
            .to_owned();
        let unsubscribe = campaign
            .unsubscribe_url
            .as_deref()
            .map(UnsubscribeTemplate::compile)
            .transpose()
            .map_err(|e| format!("unsubscribe_url is not a valid template: {e}"))?;
        let kept_headers = draft
            .headers
            .iter()
            .filter(|h| is_kept(&h.name))
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect();
        let mut variables: Vec<String> = templates.variables().iter().cloned().collect();
        if let Some(u) = &unsubscribe {
            variables.extend(u.variables().iter().cloned());
        }
        variables.sort();
        variables.dedup();
        Ok(MessageFactory {
            draft,
            templates,
            unsubscribe,
            from,
            kept_headers,
            draft_has_list_unsubscribe: draft.header("List-Unsubscribe").is_some(),
            campaign_name: campaign.name.clone(),
            id_domain,
            variables,
        })
    }

    /// The variables whose values a recipient's context must hold.
    pub fn variables(&self) -> &[String] {
        &self.variables
    }

    /// The deterministic Message-ID of the campaign's message to `address`:
    /// the same on every run, so a resend is recognisable downstream.
    pub fn message_id(&self, address: &str) -> String {
        let key = format!("{}\n{}", self.campaign_name, address.to_lowercase());
        format!(
            "<{:032x}.mailgate@{}>",
            xxh3_128(key.as_bytes()),
            self.id_domain
        )
    }

    /// Builds the message for a recipient's row of the list: to its address,
    /// with the values its columns give the templates' variables (a
    /// variable the row has no value for renders empty, as the lint
    /// assumed).
    pub fn build_row(&self, row: &Row<'_>) -> Result<Message, BuildError> {
        let values: BTreeMap<String, String> = self
            .variables
            .iter()
            .map(|v| (v.clone(), row.var(v).unwrap_or("").to_owned()))
            .collect();
        self.build(row.get(Field::Email), &values)
    }

    /// Builds the message for one recipient. `values` maps every variable in
    /// [`MessageFactory::variables`] to the recipient's value.
    pub fn build(
        &self,
        address: &str,
        values: &BTreeMap<String, String>,
    ) -> Result<Message, BuildError> {
        let headers = render_headers(
            self.templates,
            self.draft.subject.is_some(),
            self.unsubscribe.as_ref(),
            address,
            values,
        )?;
        let subject = headers.subject;
        let unsubscribe_url = headers.unsubscribe_url;
        let mut context: BTreeMap<&str, &str> = values
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        context.insert("email", address);
        if let Some(url) = &unsubscribe_url {
            context.insert("unsubscribe_url", url);
        }
        // In HTML the URL we built goes in as is, with only the characters
        // that matter in an attribute escaped: minijinja's auto-escape would
        // also write every `/` as `&#x2f;`, which is valid but makes links
        // look mangled to people and filters.
        let html_context = {
            let mut map: BTreeMap<String, minijinja::Value> = context
                .iter()
                .map(|(k, v)| (k.to_string(), minijinja::Value::from(*v)))
                .collect();
            if let Some(url) = &unsubscribe_url {
                map.insert(
                    "unsubscribe_url".to_owned(),
                    minijinja::Value::from_safe_string(escape_attribute(url)),
                );
            }
            minijinja::Value::from(map)
        };
        let context = context_value(&context);

        // The address module decides what can go on the wire (a quoted
        // local part as written, the domain as its IDNA A-label); lettre's
        // mailbox parser would refuse a quoted local part with a space.
        let wire =
            crate::recipients::address::WireAddress::new(address).map_err(BuildError::Message)?;
        let to_address = lettre::Address::new(&wire.local, &wire.domain)
            .map_err(|e| BuildError::Message(format!("address `{address}`: {e}")))?;
        // The envelope is given, not derived from the To header: lettre
        // cannot read a quoted local part back from a header it wrote.
        // The sender's domain goes on the wire as its IDNA A-label too.
        let from_address = crate::recipients::address::WireAddress::new(self.from.email.as_ref())
            .ok()
            .and_then(|w| lettre::Address::new(&w.local, &w.domain).ok())
            .unwrap_or_else(|| self.from.email.clone());
        let envelope = lettre::address::Envelope::new(Some(from_address), vec![to_address.clone()])
            .map_err(|e| BuildError::Message(format!("address `{address}`: {e}")))?;
        let to = Mailbox::new(None, to_address);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .envelope(envelope)
            .message_id(Some(self.message_id(address)))
            .date(SystemTime::now());
        builder = match encoded_subject(&subject) {
            Some(encoded) => builder.raw_header(encoded),
            None => builder.subject(subject),
        };
        for (name, value) in &self.kept_headers {
            if let Ok(name) = HeaderName::new_from_ascii(name.clone()) {
                builder = builder.raw_header(HeaderValue::new(name, value.clone()));
            }
        }
        if let (Some(url), false) = (&unsubscribe_url, self.draft_has_list_unsubscribe) {
            if url.contains(['\r', '\n', '<', '>', ' ']) {
                return Err(BuildError::HeaderInjection("List-Unsubscribe"));
            }
            builder = builder.raw_header(header("List-Unsubscribe", format!("<{url}>")));
            if url.to_ascii_lowercase().starts_with("https://") {
                builder = builder.raw_header(header(
                    "List-Unsubscribe-Post",
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
            }
        }

        let mut bodies = Vec::new();
        for (index, part) in self.draft.parts.iter().enumerate() {
            let text = self
                .templates
                .render(
                    TemplateSource::Part(index),
                    if part.kind == PartKind::Html {
                        &html_context
                    } else {
                        &context
                    },
                )
                .map_err(|e| BuildError::Template(part.kind.mime(), e.to_string()))?;
            bodies.push(match part.kind {
                PartKind::Plain => SinglePart::plain(text),
                PartKind::Html => SinglePart::html(text),
            });
        }
        let body = match bodies.len() {
            0 => MultiPartOrSingle::Single(SinglePart::plain(String::new())),
            1 => MultiPartOrSingle::Single(bodies.remove(0)),
            _ => {
                let mut alternative = MultiPart::alternative().singlepart(bodies.remove(0));
                for part in bodies {
                    alternative = alternative.singlepart(part);
                }
                MultiPartOrSingle::Multi(alternative)
            }
        };
        let message = if self.draft.attachments.is_empty() {
            match body {
                MultiPartOrSingle::Single(part) => builder.singlepart(part),
                MultiPartOrSingle::Multi(multi) => builder.multipart(multi),
            }
        } else {
            let mut mixed = match body {
                MultiPartOrSingle::Single(part) => MultiPart::mixed().singlepart(part),
                MultiPartOrSingle::Multi(multi) => MultiPart::mixed().multipart(multi),
            };
            for attachment in &self.draft.attachments {
                let content_type = ContentType::parse(&attachment.content_type)
                    .unwrap_or(ContentType::parse("application/octet-stream").expect("valid"));
                let name = attachment
                    .filename
                    .clone()
                    .unwrap_or_else(|| "attachment".to_owned());
                mixed = mixed
                    .singlepart(Attachment::new(name).body(attachment.data.clone(), content_type));
            }
            builder.multipart(mixed)
        };
        message.map_err(|e| BuildError::Message(e.to_string()))
    }
}

enum MultiPartOrSingle {
    Single(SinglePart),
    Multi(MultiPart),
}

fn header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

impl BuildError {
    /// The variable whose value is at fault, when one is.
    pub fn column(&self) -> Option<&str> {
        match self {
            BuildError::ControlInHeader { column, .. } => Some(column),
            _ => None,
        }
    }
}

/// One recipient's header texts rendered from their values.
pub struct HeaderTexts {
    pub subject: String,
    /// The unsubscribe URL, percent-encoded ([`crate::campaign::unsubscribe::rendered`]).
    pub unsubscribe_url: Option<String>,
}

/// Renders one recipient's `Subject` and unsubscribe URL and checks them:
/// the one path by which `send` builds these headers and `lint` checks,
/// row by row, that it can (a control character from a merge value, an
/// unsubscribe URL that is no https/http/mailto URL).
pub fn render_headers(
    templates: &Templates,
    has_subject: bool,
    unsubscribe: Option<&UnsubscribeTemplate>,
    address: &str,
    values: &BTreeMap<String, String>,
) -> Result<HeaderTexts, BuildError> {
    let mut context: BTreeMap<&str, &str> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    context.insert("email", address);
    let unsubscribe_url = match unsubscribe {
        Some(template) => {
            let url = template
                .render(&context_value(&context))
                .map_err(|e| BuildError::Template("unsubscribe_url", e))?;
            check_header_value("List-Unsubscribe", &url, values)?;
            Some(
                crate::campaign::unsubscribe::rendered(&url)
                    .map_err(BuildError::Unsubscribe)?
                    .into_owned(),
            )
        }
        None => None,
    };
    if let Some(url) = &unsubscribe_url {
        context.insert("unsubscribe_url", url);
    }
    let subject = if has_subject {
        templates
            .render(TemplateSource::Subject, &context_value(&context))
            .map_err(|e| BuildError::Template("Subject", e.to_string()))?
    } else {
        String::new()
    };
    check_header_value("Subject", &subject, values)?;
    Ok(HeaderTexts {
        subject,
        unsubscribe_url,
    })
}

/// Words longer than this cannot be folded (lettre folds only at spaces)
/// and would make a line longer than RFC 5322's 998 octets (§2.1.1).
const LONGEST_FOLDABLE_WORD: usize = 900;

/// The `Subject` header for a subject with a word too long to fold: all of
/// it as RFC 2047 encoded words, which may be split anywhere, each line
/// under 78 characters. `None` for the usual subject, which lettre writes
/// (folded at spaces, non-ASCII words encoded).
fn encoded_subject(subject: &str) -> Option<HeaderValue> {
    if !subject
        .split_whitespace()
        .any(|word| word.len() > LONGEST_FOLDABLE_WORD)
    {
        return None;
    }
    let mut encoded = String::new();
    {
        use email_encoding::headers::writer::EmailWriter;
        let mut writer = EmailWriter::new(&mut encoded, "Subject: ".len(), 0, false);
        email_encoding::headers::rfc2047::encode(subject, &mut writer).ok()?;
    }
    Some(HeaderValue::dangerous_new_pre_encoded(
        HeaderName::new_from_ascii_str("Subject"),
        subject.to_owned(),
        encoded,
    ))
}

/// Refuses a rendered header value holding a control character other than
/// a tab, naming the column whose value brought it in.
fn check_header_value(
    header: &'static str,
    value: &str,
    values: &BTreeMap<String, String>,
) -> Result<(), BuildError> {
    let bad = |c: char| c.is_control() && c != '\t';
    let Some(character) = value.chars().find(|&c| bad(c)) else {
        return Ok(());
    };
    let column = values
        .iter()
        .find(|(_, v)| v.contains(character))
        .map_or_else(|| "?".to_owned(), |(k, _)| k.clone());
    let line_break = matches!(character, '\r' | '\n');
    Err(BuildError::ControlInHeader {
        header,
        column,
        what: if line_break {
            "a line break".to_owned()
        } else {
            format!(
                "the control character {}",
                crate::escape::control_chars(&character.to_string())
            )
        },
        why: if line_break {
            " (header injection)"
        } else {
            ""
        },
    })
}

/// Quotes a display name when it holds characters that need it.
fn quote_display_name(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_alphanumeric() || " -_.'".contains(c))
    {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Escapes what may not appear raw in a quoted HTML attribute or text.
fn escape_attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// A template context from a recipient's values.
fn context_value(values: &BTreeMap<&str, &str>) -> minijinja::Value {
    let map: BTreeMap<String, minijinja::Value> = values
        .iter()
        .map(|(k, v)| (k.to_string(), minijinja::Value::from(*v)))
        .collect();
    minijinja::Value::from(map)
}
