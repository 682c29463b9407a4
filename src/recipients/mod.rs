//! Recipient CSV ingest (SPEC §1.2): delimiter sniffing, BOM, UTF-8 with a
//! Windows-1252 fallback, header aliases and `[columns]` overrides, the
//! Mailchimp and listmonk presets, dates, and the streamed [`Row`] view.
//!
//! The file is never loaded whole: [`RecipientReader`] reuses one record and
//! hands out a borrowed [`Row`] per data line.

pub mod address;
mod csv;
pub mod dates;
pub mod dialect;
mod header_cells;
mod headers;
pub mod list_source;
mod reader;
pub mod suppression;
pub mod yes_no;

pub use dates::parse_date;
pub use dialect::Dialect;
pub use headers::{Column, ColumnMap, Preset, likely_field};
pub use list_source::ListSource;
pub use reader::{RecipientReader, Row, VarRef};

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

/// The logical fields of SPEC §1.2 that judgement and templates refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Email,
    FirstName,
    LastName,
    Name,
    Customer,
    Purchased,
    LastPurchaseAt,
    ConsentAt,
    ConsentSource,
    ConsentScope,
    ListSource,
    UnsubscribedAt,
}

impl Field {
    /// Every logical field, in SPEC order.
    pub const ALL: [Field; 12] = [
        Field::Email,
        Field::FirstName,
        Field::LastName,
        Field::Name,
        Field::Customer,
        Field::Purchased,
        Field::LastPurchaseAt,
        Field::ConsentAt,
        Field::ConsentSource,
        Field::ConsentScope,
        Field::ListSource,
        Field::UnsubscribedAt,
    ];

    /// The field's own name, as used in templates, `[columns]` and JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Field::Email => "email",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::Name => "name",
            Field::Customer => "customer",
            Field::Purchased => "purchased",
            Field::LastPurchaseAt => "last_purchase_at",
            Field::ConsentAt => "consent_at",
            Field::ConsentSource => "consent_source",
            Field::ConsentScope => "consent_scope",
            Field::ListSource => "list_source",
            Field::UnsubscribedAt => "unsubscribed_at",
        }
    }

    /// Parses a logical field name (as written in `[columns]`).
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Position of the field in [`Field::ALL`], for array-indexed tables.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A recipient file that cannot be read at all (as opposed to a bad row,
/// which becomes a diagnostic). Always names the file, and the line when
/// there is one, and says what to do.
#[derive(Debug, thiserror::Error)]
#[error(
    "{}{}: {}",
    path.display(),
    line.map(|l| format!(":{l}")).unwrap_or_default(),
    // Messages quote the file (a header, a value): shown escaped.
    crate::escape::control_chars(message)
)]
pub struct InputError {
    pub path: std::path::PathBuf,
    pub line: Option<u64>,
    pub message: String,
}

impl InputError {
    pub(crate) fn new(path: &Path, line: Option<u64>, message: String) -> InputError {
        InputError {
            path: path.to_owned(),
            line,
            message,
        }
    }
}

use crate::bytes::scan_ascii_case;
pub use crate::normalise::trim;

/// A 64-bit hash of an address's [`address_key`] (xxh3): how the address
/// book and the suppression list know an address, computed once per row.
pub fn address_hash(address: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(address_key(address).as_bytes())
}

/// The form in which addresses are compared (suppression, duplicates):
/// lower-case. Borrows when `address` is already lower-case, as nearly
/// every address is.
pub fn address_key(address: &str) -> Cow<'_, str> {
    let (non_ascii, upper) = scan_ascii_case(address.as_bytes());
    if !non_ascii {
        if upper {
            Cow::Owned(address.to_ascii_lowercase())
        } else {
            Cow::Borrowed(address)
        }
    } else if address
        .chars()
        .any(|c| c.to_lowercase().ne(std::iter::once(c)))
    {
        Cow::Owned(address.to_lowercase())
    } else {
        Cow::Borrowed(address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_key_lowercases_and_borrows_when_it_can() {
        assert!(matches!(address_key("jan@example.nl"), Cow::Borrowed(_)));
        assert_eq!(address_key("Jan@Example.NL"), "jan@example.nl");
        assert_eq!(address_key("JOSÉ@Example.nl"), "josé@example.nl");
        assert!(matches!(address_key("josé@example.nl"), Cow::Borrowed(_)));
    }

    #[test]
    fn address_key_finds_upper_case_and_non_ascii_at_every_position() {
        // Every ASCII byte (and one beyond) at every place of addresses of
        // lengths around the eight-byte steps, against the plain answer.
        for len in [1, 7, 8, 9, 15, 16, 17, 24, 30] {
            for at in 0..len {
                for byte in (0u8..0x80).chain([0xC3]) {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = byte;
                    if byte == 0xC3 {
                        bytes.insert(at + 1, 0x89); // É
                    }
                    let Ok(address) = String::from_utf8(bytes) else {
                        continue;
                    };
                    let expected = address.to_lowercase();
                    let key = address_key(&address);
                    assert_eq!(key, expected, "{address:?}");
                    assert_eq!(
                        matches!(key, Cow::Borrowed(_)),
                        expected == address,
                        "{address:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn trim_is_str_trim() {
        for text in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta\r\n",
            "a b",
            "\u{b}x\u{b}",
            "\u{1f}x\u{1f}",
            "\u{a0}Zoë\u{a0}",
            "\u{85}x",
            "é",
            " é ",
            "x\u{3000}",
        ] {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }

    #[test]
    fn trim_is_str_trim_for_every_char_at_either_end() {
        // Every ASCII byte and a range of non-ASCII characters (Latin-1,
        // the Unicode spaces, the ideographic space), alone, at either end
        // of a cell and at both.
        let chars = (0u32..0x3001).filter_map(char::from_u32);
        for c in chars {
            for text in [
                c.to_string(),
                format!("{c}a"),
                format!("a{c}"),
                format!("{c}ab{c}"),
                format!("{c}{c}"),
            ] {
                assert_eq!(trim(&text), text.trim(), "{text:?}");
            }
        }
    }

    #[test]
    fn input_error_names_file_and_line() {
        let err = InputError::new(Path::new("r.csv"), Some(3), "bad".to_owned());
        assert_eq!(err.to_string(), "r.csv:3: bad");
        let err = InputError::new(Path::new("r.csv"), None, "bad".to_owned());
        assert_eq!(err.to_string(), "r.csv: bad");
    }
}
