//! Whether an address can be delivered to (`invalid-address`).

use email_address::{EmailAddress, Options};

/// True when `address` is an RFC 5322 addr-spec (dot-atom or quoted local
/// part) whose domain has at least two DNS labels and no trailing dot.
/// Syntax is the `email_address` crate's; mailgate only adds the
/// deliverability conditions SPEC §3 names (no display names, no domain
/// literals, no single-label or root-terminated domains).
pub fn is_deliverable(address: &str) -> bool {
    let options = Options {
        minimum_sub_domains: 2,
        allow_domain_literal: false,
        allow_display_text: false,
        ..Options::default()
    };
    if address.ends_with('.') {
        return false;
    }
    EmailAddress::parse_with_options(address, options).is_ok()
}

#[cfg(test)]
mod tests {
    use super::is_deliverable;

    #[test]
    fn accepts_ordinary_and_unusual_valid_addresses() {
        for ok in [
            "jan@example.nl",
            "jan+tag@sub.example.co.uk",
            "\"jan jansen\"@example.nl",
            "o'brien@example.ie",
            "Jan.De.Vries@Example.NL",
        ] {
            assert!(is_deliverable(ok), "{ok} should be deliverable");
        }
    }

    #[test]
    fn rejects_what_spec_names() {
        for bad in [
            "",
            "jan",
            "jan@example",
            "jan@example.nl.",
            "jan@example,nl",
            "jan..x@example.nl",
            ".jan@example.nl",
            "jan.@example.nl",
            "jan @example.nl",
            "Jan <jan@example.nl>",
            "jan@[127.0.0.1]",
            "jan@@example.nl",
        ] {
            assert!(!is_deliverable(bad), "{bad:?} should be invalid");
        }
    }
}
