//! `--test-to ADDRESS`: one recipient's message, sent to the user's own
//! address with `[test]` before its subject, not journaled.

use lettre::address::Envelope;

use super::gate::Gate;
use super::transport::{Connector, Delivery};
use super::{SendError, SendOptions};
use crate::campaign::Campaign;
use crate::draft::{Draft, Templates};
use crate::lint::LintError;
use crate::message::MessageFactory;
use crate::recipients::{Field, RecipientReader};

/// What `--test-to` sent.
#[derive(Clone, Debug)]
pub struct TestSent {
    /// The recipient whose message it was.
    pub recipient: String,
    /// Their line in the list.
    pub line: u64,
    /// The relay's reply.
    pub reply: String,
}

/// `--test-to ADDRESS [--row N]`: renders the message of one recipient —
/// the first sendable one, or the one on line `row` of the list — and sends
/// it to `to` only, its subject prefixed `[test]`. Nothing is journaled.
pub fn test_send(
    campaign: &Campaign,
    gate: &Gate,
    options: &SendOptions,
    to: &str,
    row: Option<u64>,
) -> Result<TestSent, SendError> {
    let to_address: lettre::Address = to
        .parse()
        .map_err(|e| SendError::Setup(format!("--test-to {to}: not an e-mail address ({e})")))?;
    let draft = Draft::load(&campaign.draft).map_err(LintError::from)?;
    let (templates, _) = Templates::compile(&draft);
    let factory = MessageFactory::new(campaign, &draft, &templates).map_err(SendError::Setup)?;
    let smtp = campaign.smtp.as_ref().ok_or_else(|| {
        SendError::Setup("the campaign has no [smtp] table: add host, port and tls".to_owned())
    })?;
    let mut reader =
        RecipientReader::open(&campaign.recipients, &campaign.columns).map_err(LintError::from)?;
    let list = crate::paths::display(&campaign.recipients);
    let (recipient, line, message) = loop {
        let Some(record) = reader.next_row().map_err(LintError::from)? else {
            return Err(SendError::Setup(match row {
                Some(n) => format!("--row {n}: {list} has no recipient on line {n}"),
                None => format!("{list} has no sendable recipient to show"),
            }));
        };
        let address = record.get(Field::Email);
        let chosen = match row {
            Some(n) => record.line() == n,
            None => gate.addresses.sends_row(address, record.line()),
        };
        if !chosen {
            continue;
        }
        let message = factory.build_row(&record).map_err(|e| {
            SendError::Refused(format!(
                "{list}:{}: {address}: not sent: {e}",
                record.line()
            ))
        })?;
        break (address.to_owned(), record.line(), message);
    };
    let envelope = Envelope::new(message.envelope().from().cloned(), vec![to_address])
        .map_err(|e| SendError::Setup(format!("--test-to {to}: {e}")))?;
    let bytes = prefix_subject(&message.formatted(), "[test] ");
    let connector = Connector::new(smtp, options.allow_plaintext, options.password.as_ref())
        .map_err(SendError::Relay)?;
    let mut session = connector.connect_once().map_err(SendError::Relay)?;
    let delivery = connector.deliver::<SendError>(&mut session, &envelope, &bytes, || Ok(()))?;
    session.quit();
    match delivery {
        Delivery::Accepted(reply) => Ok(TestSent {
            recipient,
            line,
            reply,
        }),
        Delivery::Refused(reply) | Delivery::Deferred(reply) | Delivery::Unknown(reply) => {
            Err(SendError::Transport(connector.error(format!(
                "the test message to {to} was not accepted: {reply}"
            ))))
        }
    }
}

/// The message with `prefix` put before its Subject (in the header, the
/// first line that starts `Subject:`); unchanged without one.
fn prefix_subject(message: &[u8], prefix: &str) -> Vec<u8> {
    let head_end = memchr::memmem::find(message, b"\r\n\r\n").unwrap_or(message.len());
    let at = if message.starts_with(b"Subject: ") {
        Some(0)
    } else {
        memchr::memmem::find(&message[..head_end], b"\r\nSubject: ").map(|i| i + 2)
    };
    let Some(at) = at else {
        return message.to_vec();
    };
    let insert = at + "Subject: ".len();
    let mut out = Vec::with_capacity(message.len() + prefix.len());
    out.extend_from_slice(&message[..insert]);
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(&message[insert..]);
    out
}
