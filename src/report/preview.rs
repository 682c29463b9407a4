//! The message one sendable recipient would get, for the HTML report's
//! preview: built by `send`'s own [`MessageFactory`] (so the preview is
//! what goes out, not a second rendering), then read back with mail-parser
//! into its subject and bodies, as a mail client reads it.

use mail_parser::{MessageParser, PartType};

use super::Preview;
use crate::address_book::AddressBook;
use crate::campaign::Campaign;
use crate::draft::{Draft, Templates};
use crate::message::MessageFactory;
use crate::recipients::{Field, RecipientReader};

/// The first sendable recipient's message, or why there is none to show.
/// Reads the list from the start up to that recipient (usually its first
/// rows); nothing when no address is sendable.
pub fn first_sendable(campaign: &Campaign, book: &AddressBook) -> Result<Option<Preview>, String> {
    if book.len() == book.blocked() {
        return Ok(None);
    }
    let draft = Draft::load(&campaign.draft).map_err(|e| e.to_string())?;
    let (templates, problems) = Templates::compile(&draft);
    if !problems.is_empty() {
        return Err("a template of the draft does not compile".to_owned());
    }
    let factory = MessageFactory::new(campaign, &draft, &templates)?;
    let mut reader = RecipientReader::open(&campaign.recipients, &campaign.columns)
        .map_err(|e| e.to_string())?;
    while let Some(row) = reader.next_row().map_err(|e| e.to_string())? {
        let address = row.get(Field::Email);
        // As `send` picks them.
        if !book.sends_row(address, row.line()) {
            continue;
        }
        let message = factory.build_row(&row).map_err(|e| e.to_string())?;
        return Ok(Some(read_back(
            &message.formatted(),
            row.line(),
            address.to_owned(),
        )));
    }
    Ok(None)
}

/// The subject, sender and bodies of a built message.
fn read_back(bytes: &[u8], line: u64, address: String) -> Preview {
    let mut preview = Preview {
        line,
        address,
        ..Preview::default()
    };
    let Some(message) = MessageParser::default().parse(bytes) else {
        return preview;
    };
    preview.subject = message.subject().unwrap_or_default().to_owned();
    if let Some(from) = message.from().and_then(|f| f.first()) {
        let address = from.address().unwrap_or_default();
        preview.from = match from.name() {
            Some(name) => format!("{name} <{address}>"),
            None => address.to_owned(),
        };
    }
    // mail-parser lists an HTML part among the text bodies too when there
    // is no plain alternative (converted): only real text/plain counts.
    preview.text = message
        .text_body
        .iter()
        .filter_map(|&id| message.part(id))
        .find_map(|part| match &part.body {
            PartType::Text(text) => Some(text.to_string()),
            _ => None,
        });
    preview.html = message
        .html_body
        .iter()
        .filter_map(|&id| message.part(id))
        .find_map(|part| match &part.body {
            PartType::Html(html) => Some(html.to_string()),
            _ => None,
        });
    preview
}
