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
    // An internationalised domain must have an ASCII form (IDNA) for the
    // DNS and the envelope: `send` writes that form.
    if let Some((_, domain)) = address.rsplit_once('@')
        && !domain.is_ascii()
        && idna::domain_to_ascii_strict(domain).is_err()
    {
        return false;
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

/// An address as `send` puts it in the SMTP envelope and the `To` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireAddress {
    /// The local part as written (a quoted one keeps its quotes).
    pub local: String,
    /// The domain in its ASCII form: an internationalised domain
    /// (`exämple.com`) as its IDNA A-label (`xn--exmple-cua.com`), which
    /// every relay and the DNS understand.
    pub domain: String,
    /// The local part is not ASCII (`jöhn@…`): it can only travel through a
    /// relay that offers SMTPUTF8 (RFC 6531), and only with that extension
    /// asked for.
    pub needs_smtputf8: bool,
}

impl WireAddress {
    /// Reads a deliverable address ([`is_deliverable`]); `Err` says why it
    /// cannot go on the wire.
    pub fn new(address: &str) -> Result<WireAddress, String> {
        if !is_deliverable(address) {
            return Err(format!("`{address}` is not a deliverable e-mail address"));
        }
        let (local, domain) = address
            .rsplit_once('@')
            .ok_or_else(|| format!("`{address}` has no @"))?;
        let domain = if domain.is_ascii() {
            domain.to_owned()
        } else {
            idna::domain_to_ascii_strict(domain)
                .map_err(|_| format!("the domain of `{address}` has no valid ASCII (IDNA) form"))?
        };
        Ok(WireAddress {
            local: local.to_owned(),
            domain,
            needs_smtputf8: !local.is_ascii(),
        })
    }
}

impl std::fmt::Display for WireAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

/// A quick yes for the everyday address, so that a list of millions does
/// not run the full parser (which also allocates) on every row: an ASCII
/// dot-atom local part of at most 64 characters, one `@`, and a domain of
/// two or more labels of letters, digits and inner hyphens, at most 254
/// characters. Every address this accepts, `email_address` accepts with the
/// options above (see the test); for anything else it says no and the
/// parser decides.
///
/// Each part is checked in one pass without a branch per byte: every byte
/// looks up its [`Entry`], which says what kind of byte it is and which
/// kinds may not come right before it (an invalid byte forbids every kind),
/// and the pass only collects the forbidden pairs. The start of a part
/// counts as a dot, so a part cannot start with a dot (or, in the domain, a
/// hyphen).
fn plainly_deliverable(address: &str) -> bool {
    let bytes = address.as_bytes();
    let Some(at) = memchr::memchr(b'@', bytes) else {
        return false;
    };
    let (local, domain) = (&bytes[..at], &bytes[at + 1..]);
    if local.is_empty() || local.len() > 64 || domain.len() > 254 {
        return false;
    }
    let (local_bad, local_last, _) = scan(local, &LOCAL);
    let (domain_bad, domain_last, domain_kinds) = scan(domain, &DOMAIN);
    // A label of more than 63 characters needs a domain of more than 63:
    // only then are the labels measured.
    let labels_fit = || domain.split(|&b| b == b'.').all(|label| label.len() <= 63);
    local_bad == 0
        && local_last & DOT == 0
        && domain_bad == 0
        && domain_last & ALNUM != 0
        && domain_kinds & DOT != 0
        && (domain.len() <= 63 || labels_fit())
}

/// One part of an address against its table: the forbidden pairs found
/// (0: none), the kind of the last byte, and every kind seen.
#[inline(always)]
fn scan(part: &[u8], table: &[Entry; 256]) -> (u8, u8, u8) {
    let (mut bad, mut previous, mut kinds) = (0, DOT, 0);
    for &b in part {
        let entry = table[usize::from(b)];
        // The high nibble is what may not precede; the low nibble of the
        // previous entry is its kind.
        bad |= (entry >> 4) & previous;
        previous = entry;
        kinds |= entry;
    }
    (bad, previous & 0xf, kinds & 0xf)
}

/// A byte's [`plainly_deliverable`] table entry: its kind (low nibble)
/// and the kinds that may not come right before it (high nibble).
type Entry = u8;

/// Kinds of bytes for [`plainly_deliverable`] (ASCII only; a byte that is
/// valid nowhere in its part is marked by forbidding every kind before it).
const DOT: u8 = 1;
const HYPHEN: u8 = 2;
const ALNUM: u8 = 4;
/// Any other byte: atext that is no letter, digit or hyphen, or invalid.
const OTHER: u8 = 8;
const ANY: u8 = DOT | HYPHEN | ALNUM | OTHER;

/// The kind of `b` in the tables.
const fn kind(b: u8) -> u8 {
    match b {
        b'.' => DOT,
        b'-' => HYPHEN,
        b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' => ALNUM,
        _ => OTHER,
    }
}

/// The local part: RFC 5322 atext (the ASCII characters `email_address`
/// takes) in atoms separated by single dots.
static LOCAL: [Entry; 256] = {
    let mut table = [0u8; 256];
    let specials = b"!#$%&'*+-/=?^_`{|}~";
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        let mut atext = byte.is_ascii_alphanumeric();
        let mut i = 0;
        while i < specials.len() {
            atext |= specials[i] == byte;
            i += 1;
        }
        let forbidden = if byte == b'.' {
            DOT
        } else if atext {
            0
        } else {
            ANY
        };
        table[b] = kind(byte) | forbidden << 4;
        b += 1;
    }
    table
};

/// The domain: labels of letters, digits and hyphens, separated by single
/// dots; a label neither starts with a hyphen nor ends with one.
static DOMAIN: [Entry; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        let forbidden = match kind(byte) {
            DOT => DOT | HYPHEN,
            HYPHEN => DOT,
            ALNUM => 0,
            _ => ANY,
        };
        table[b] = kind(byte) | forbidden << 4;
        b += 1;
    }
    table
};

#[cfg(test)]
mod wire_tests {
    use super::*;

    #[test]
    fn a_non_ascii_domain_went_out_as_raw_utf8() {
        let wire = WireAddress::new("jan@exämple.com").unwrap();
        assert_eq!(wire.to_string(), "jan@xn--exmple-cua.com");
        assert!(!wire.needs_smtputf8);
        let wire = WireAddress::new("jöhn@exämple.com").unwrap();
        assert_eq!(wire.to_string(), "jöhn@xn--exmple-cua.com");
        assert!(wire.needs_smtputf8);
    }

    #[test]
    fn a_quoted_local_part_is_kept_as_written() {
        let wire = WireAddress::new("\"jan de vries\"@example.com").unwrap();
        assert_eq!(wire.local, "\"jan de vries\"");
        assert_eq!(wire.domain, "example.com");
        assert!(!wire.needs_smtputf8);
    }

    #[test]
    fn undeliverable_addresses_are_refused_with_a_reason() {
        assert!(
            WireAddress::new("jan@example")
                .unwrap_err()
                .contains("jan@example")
        );
    }
}

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
            if check(&address) {
                accepted += 1;
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

    /// The quick path as it was before it became table-driven (a branch per
    /// domain byte): the new one must answer exactly as this one does.
    fn reference_quick_path(address: &str) -> bool {
        const ATEXT: u8 = 1;
        const ALNUM: u8 = 2;
        const DOT: u8 = 4;
        let class = |b: u8| {
            if b.is_ascii_alphanumeric() {
                ATEXT | ALNUM
            } else if b"!#$%&'*+-/=?^_`{|}~".contains(&b) {
                ATEXT
            } else if b == b'.' {
                DOT
            } else {
                0
            }
        };
        let bytes = address.as_bytes();
        let Some(at) = bytes.iter().position(|&b| b == b'@') else {
            return false;
        };
        let (local, domain) = (&bytes[..at], &bytes[at + 1..]);
        if local.is_empty() || local.len() > 64 || domain.len() > 254 {
            return false;
        }
        let mut previous = DOT;
        let mut bad = 0;
        for &b in local {
            let class = class(b);
            bad |= u8::from(class & (ATEXT | DOT) == 0) | (class & previous & DOT);
            previous = class;
        }
        if bad != 0 || previous & DOT != 0 {
            return false;
        }
        let mut dots = 0;
        let mut label = 0;
        let mut previous = DOT;
        for &b in domain {
            let class = class(b);
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

    /// Checks one address: the quick path answers as the reference does,
    /// and says yes only where the parser does. Returns the answer.
    fn check(address: &str) -> bool {
        let quick = plainly_deliverable(address);
        assert_eq!(quick, reference_quick_path(address), "{address:?}");
        if quick {
            assert!(parser_accepts(address), "{address:?}");
        }
        quick
    }

    #[test]
    fn the_quick_path_is_exactly_as_strict_on_near_valid_addresses() {
        // Valid addresses of every shape the quick path takes, then edited
        // a few times at random (a byte inserted, replaced or removed; a
        // label or local part stretched to a length limit), from a fixed
        // seed: most stay near the edge between yes and no.
        const BYTES: &[u8] = b"aZ09.-_+'!~@@..--\" \t,;:<>()[]\\/=?^`{|}#$%&*\x7f\x00\xc3\xa9";
        let mut rng = fastrand::Rng::with_seed(0x6d61_696c_6761_7465);
        let word = |rng: &mut fastrand::Rng, len: usize| -> String {
            (0..len)
                .map(|_| char::from(b"abcxyz0189ABZ"[rng.usize(..13)]))
                .collect()
        };
        let (mut accepted, mut refused) = (0, 0);
        for _ in 0..300_000 {
            let local_atoms = 1 + rng.usize(..3);
            let mut local: Vec<String> = (0..local_atoms)
                .map(|_| {
                    let len = 1 + rng.usize(..8);
                    word(&mut rng, len)
                })
                .collect();
            let labels = 1 + rng.usize(..4);
            let mut domain: Vec<String> = (0..labels)
                .map(|_| {
                    let len = 1 + rng.usize(..10);
                    word(&mut rng, len)
                })
                .collect();
            match rng.u8(..8) {
                0 => {
                    let i = rng.usize(..domain.len());
                    let len = 61 + rng.usize(..5);
                    domain[i] = word(&mut rng, len);
                }
                1 => {
                    let len = 60 + rng.usize(..8);
                    local = vec![word(&mut rng, len)];
                }
                2 => {
                    // A domain near 254 characters.
                    domain = (0..4 + rng.usize(..2))
                        .map(|_| {
                            let len = 62 + rng.usize(..2);
                            word(&mut rng, len)
                        })
                        .collect();
                }
                _ => {}
            }
            let mut bytes = format!("{}@{}", local.join("."), domain.join(".")).into_bytes();
            for _ in 0..rng.usize(..4) {
                let at = rng.usize(..=bytes.len());
                let b = BYTES[rng.usize(..BYTES.len())];
                match rng.u8(..3) {
                    0 => bytes.insert(at, b),
                    1 if at < bytes.len() => bytes[at] = b,
                    _ if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => {}
                }
            }
            let address = String::from_utf8_lossy(&bytes);
            if check(&address) {
                accepted += 1;
            } else {
                refused += 1;
            }
        }
        assert!(
            accepted > 50_000 && refused > 50_000,
            "{accepted} {refused}"
        );
    }

    #[test]
    fn the_quick_path_is_exactly_as_strict_on_every_short_string() {
        // Every string of up to six characters over the bytes that decide.
        const ALPHABET: [char; 6] = ['a', '.', '-', '@', '_', 'é'];
        let mut strings = vec![String::new()];
        let mut accepted = 0;
        for _ in 0..6 {
            strings = strings
                .iter()
                .flat_map(|s| ALPHABET.iter().map(move |c| format!("{s}{c}")))
                .collect();
            for s in &strings {
                accepted += usize::from(check(s));
            }
        }
        assert!(accepted > 10, "{accepted}");
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
