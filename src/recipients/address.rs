//! Whether an address can be delivered to (`invalid-address`).

use email_address::{EmailAddress, Options};

/// True when `address` is an RFC 5322 addr-spec (dot-atom or quoted local
/// part) whose domain has at least two DNS labels and no trailing dot.
/// Syntax is the `email_address` crate's; mailgate only adds the
/// deliverability conditions SPEC §3 names (no display names, no domain
/// literals, no single-label or root-terminated domains).
pub fn is_deliverable(address: &str) -> bool {
    if plainly_deliverable(address) {
        return true;
    }
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

/// A quick yes for the everyday address, so that a list of millions does
/// not run the full parser (which also allocates) on every row: an ASCII
/// dot-atom local part of at most 64 characters, one `@`, and a domain of
/// two or more labels of letters, digits and inner hyphens, at most 254
/// characters. Every address this accepts, `email_address` accepts with the
/// options above (see the test); for anything else it says no and the
/// parser decides.
fn plainly_deliverable(address: &str) -> bool {
    let bytes = address.as_bytes();
    let Some(at) = bytes.iter().position(|&b| b == b'@') else {
        return false;
    };
    let (local, domain) = (&bytes[..at], &bytes[at + 1..]);
    if local.is_empty() || local.len() > 64 || domain.len() > 254 {
        return false;
    }
    // Local part: atoms of atext separated by single dots (checked without
    // a branch per character: a bad one is noted and looked at after).
    let mut previous = DOT;
    let mut bad = 0;
    for &b in local {
        let class = CLASS[usize::from(b)];
        bad |= u8::from(class & (ATEXT | DOT) == 0) | (class & previous & DOT);
        previous = class;
    }
    if bad != 0 || previous & DOT != 0 {
        return false;
    }
    // Domain: labels of 1–63 letters, digits and hyphens, starting and
    // ending with a letter or digit; at least two of them.
    let mut dots = 0;
    let mut label = 0;
    let mut previous = DOT;
    for &b in domain {
        let class = CLASS[usize::from(b)];
        if class & DOT != 0 {
            if label > 63 || previous & ALNUM == 0 {
                return false;
            }
            dots += 1;
            label = 0;
        } else if class & ALNUM != 0 || (b == b'-' && label > 0) {
            label += 1;
        } else {
            return false;
        }
        previous = class;
    }
    dots >= 1 && label <= 63 && previous & ALNUM != 0
}

/// Classes of bytes for [`plainly_deliverable`] (ASCII only).
const ATEXT: u8 = 1;
const ALNUM: u8 = 2;
const DOT: u8 = 4;

/// RFC 5322 atext (the ASCII characters `email_address` takes), letters
/// and digits, and the dot.
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        if (b as u8).is_ascii_alphanumeric() {
            table[b] = ATEXT | ALNUM;
        }
        b += 1;
    }
    let specials = b"!#$%&'*+-/=?^_`{|}~";
    let mut i = 0;
    while i < specials.len() {
        table[specials[i] as usize] = ATEXT;
        i += 1;
    }
    table[b'.' as usize] = DOT;
    table
};

#[cfg(test)]
mod tests {
    use super::{is_deliverable, plainly_deliverable};
    use email_address::{EmailAddress, Options};

    /// The parser's own answer, without the quick path.
    fn parser_accepts(address: &str) -> bool {
        let options = Options {
            minimum_sub_domains: 2,
            allow_domain_literal: false,
            allow_display_text: false,
            ..Options::default()
        };
        !address.ends_with('.') && EmailAddress::parse_with_options(address, options).is_ok()
    }

    #[test]
    fn the_quick_path_accepts_only_what_the_parser_accepts() {
        // Random `local@domain` strings from pieces that matter (any piece
        // may turn up on either side), from a fixed seed.
        const ODD: &[&str] = &[
            "@", " ", "<", ">", "\"", "[", "]", ",", "\\", "é", "\t", "(", ":", "..", "_", "+",
            "'", "!", "~", "-", "",
        ];
        const LOCAL: &[&str] = &["jan", "Z9", "x", "0", ".", "-", "_", "+", "'", "de.vries"];
        const DOMAIN: &[&str] = &["example", "nl", "co", "0", ".", ".", "-", "a-b", "x"];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut piece = |pieces: &[&'static str]| {
            if next() % 8 == 0 {
                ODD[(next() % ODD.len() as u64) as usize]
            } else {
                pieces[(next() % pieces.len() as u64) as usize]
            }
        };
        let mut accepted = 0;
        for i in 0..200_000 {
            let mut address = String::new();
            for _ in 0..1 + i % 3 {
                address.push_str(piece(LOCAL));
            }
            address.push('@');
            for _ in 0..1 + i % 5 {
                address.push_str(piece(DOMAIN));
            }
            if plainly_deliverable(&address) {
                accepted += 1;
                assert!(parser_accepts(&address), "{address:?}");
            }
        }
        assert!(accepted > 5_000, "the test should exercise the quick path");

        for address in [
            "jan@example.nl",
            "a@b.c",
            "jan.de.vries+nieuws@sub.example-shop.co.uk",
            "o'brien@example.ie",
            "x@1.2",
            &format!("{}@example.nl", "a".repeat(64)),
            &format!("jan@{}.nl", "a".repeat(63)),
        ] {
            assert!(plainly_deliverable(address), "{address}");
            assert!(parser_accepts(address), "{address}");
        }
        for address in [
            &format!("{}@example.nl", "a".repeat(65)),
            &format!("jan@{}.nl", "a".repeat(64)),
            "jan@-example.nl",
            "jan@example-.nl",
            "jan@ex_ample.nl",
            "jan@example",
        ] {
            assert!(!plainly_deliverable(address), "{address}");
        }
    }

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
