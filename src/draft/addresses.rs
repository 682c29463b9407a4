//! The draft's address headers (From, To, Cc, Reply-To), parsed with
//! mail-parser, including RFC 5322 groups.

use mail_parser::{Address, MessageParser};

use super::Draft;

/// One mailbox: an optional display name and the address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: Option<String>,
}

/// An address header's content.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressList {
    /// Every mailbox, including group members.
    pub mailboxes: Vec<Mailbox>,
    /// Named groups (`Klanten: a@x.nl, b@y.nl;`) with their member counts.
    pub groups: Vec<(Option<String>, usize)>,
}

impl Draft {
    /// The parsed content of an address header (`From`, `To`, `Cc`,
    /// `Reply-To`, or any other that holds addresses, such as `Resent-To`);
    /// `None` when the draft has no such header.
    pub fn addresses(&self, header: &str) -> Option<AddressList> {
        // Only the header block: a draft with a large attachment is not
        // decoded again for every address header asked about.
        let message = MessageParser::default().parse_headers(&self.raw)?;
        let known = match header.to_ascii_lowercase().as_str() {
            "from" => Some(message.from()),
            "to" => Some(message.to()),
            "cc" => Some(message.cc()),
            "reply-to" => Some(message.reply_to()),
            _ => None,
        };
        // Any other header holding addresses (`Resent-To`, `Apparently-To`,
        // `X-Envelope-To`) is read with the same parser, as a `To` would be.
        let (as_to, other);
        let address = match known {
            Some(address) => address?,
            None => {
                as_to = format!("To: {}\r\n\r\n", self.header(header)?.value);
                other = MessageParser::default().parse_headers(as_to.as_bytes())?;
                other.to()?
            }
        };
        let mailbox = |a: &mail_parser::Addr<'_>| Mailbox {
            name: a.name.as_ref().map(|n| n.to_string()),
            address: a.address.as_ref().map(|n| n.to_string()),
        };
        let mut list = AddressList::default();
        match address {
            Address::List(addrs) => list.mailboxes.extend(addrs.iter().map(mailbox)),
            Address::Group(groups) => {
                for group in groups {
                    let members: Vec<Mailbox> = group.addresses.iter().map(mailbox).collect();
                    if group.name.is_some() {
                        list.groups
                            .push((group.name.as_ref().map(|n| n.to_string()), members.len()));
                    }
                    list.mailboxes.extend(members);
                }
            }
        }
        Some(list)
    }
}
