//! `no-reply-sender`: From or Reply-To is a no-reply address.

use crate::campaign::Campaign;
use crate::diagnostic::Finding;
use crate::draft::{Draft, HeaderLine};
use crate::rules::RuleId;

crate::declare_rule! {
    name: "no-reply-sender",
    scope: draft,
    default: warning,
    order: 80,
    summary: "From or Reply-To is a no-reply address",
    explain: "no_reply_sender.md",
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

/// From and Reply-To must reach a person.
pub fn check(draft: &Draft, _campaign: &Campaign, file: &str, out: &mut Vec<Finding>) {
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
                .at(draft.header(name).map(HeaderLine::place))
                .field(name),
            );
        }
    }
}


#[cfg(test)]
mod tests {
    use super::*;

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

}
