//! `exposed-recipients`: To/Cc would show every recipient the others' addresses.

use crate::campaign::Campaign;
use crate::diagnostic::Finding;
use crate::draft::{Draft, HeaderLine};
use crate::rules::RuleId;

crate::declare_rule! {
    name: "exposed-recipients",
    scope: draft,
    default: error,
    order: 60,
    summary: "To/Cc would show every recipient the others' addresses",
    explain: "exposed_recipients.md",
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

pub fn check(draft: &Draft, _campaign: &Campaign, file: &str, out: &mut Vec<Finding>) {
    for name in RECIPIENT_HEADERS {
        let Some(list) = draft.addresses(name) else {
            continue;
        };
        let place = draft.header(name).map(HeaderLine::place);
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
                    .at(place)
                    .field(name),
            );
        }
    }
}
