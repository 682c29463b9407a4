//! Suppression files: addresses never to mail (SPEC §1.2).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use super::csv::Records;
use super::{Field, InputError, address_key};
use crate::hash::FastHashSet;

/// Every suppressed address, compared case-insensitively.
///
/// Addresses are kept once each, lower-cased, as boxed strings (no spare
/// capacity), so a list of a million addresses costs tens of megabytes.
#[derive(Debug, Default)]
pub struct Suppression {
    addresses: FastHashSet<Box<str>>,
    /// The [`super::address_hash`] of every address: a row's hash, which the
    /// lint has anyway, answers "not suppressed" without lower-casing or
    /// hashing the address again.
    hashes: HashSet<u64, BuildHasherDefault<Prehashed>>,
}

/// The hasher of [`Suppression::hashes`], whose keys are xxh3 hashes
/// already: a key is its own hash. Hashing it again (as [`FastHashSet`]
/// would) cost more than the rest of the lookup, on every row.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }

    /// Not reached for `u64` keys; mixes the bytes in, to stay a hasher.
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
}

/// What loading a suppression file found besides its addresses.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// Lines (1-based) that hold no address in any form mailgate reads:
    /// each is a warning, since the person meant by it stays sendable.
    pub unreadable: Vec<u64>,
}

impl Suppression {
    /// Adds every address in the first column of `path`; a first line that is
    /// not an address is a header and is skipped.
    ///
    /// When that header names an address column (`email`, `Email Address`,
    /// … as in a recipient list), that column is read instead of the first:
    /// a Mailchimp or listmonk export works as a suppression file as it is.
    /// The delimiter is sniffed and encodings handled as for the recipient
    /// list. An address is read out of the forms people and tools write
    /// ([`address_in`]: `Jan <jan@x.nl>`, `<jan@x.nl>`, `mailto:jan@x.nl`,
    /// `jan@x.nl ; note`); when the column holds none, another cell of the
    /// line that does is taken. Lines starting with `#` are comments, as in
    /// Postfix's tables. An empty file adds nothing.
    ///
    /// A line with no address at all is returned in [`Loaded::unreadable`].
    /// When more than half of the lines are such, the file is not what
    /// mailgate takes it for (another format, the wrong column, a mangled
    /// export) and loading fails: a suppression list must never fail open,
    /// leaving the people on it sendable.
    pub fn load(&mut self, path: &Path) -> Result<Loaded, InputError> {
        let mut loaded = Loaded::default();
        let mut records = Records::open(path, "suppression list")?;
        if !records.next()? {
            return Ok(loaded);
        }
        let mut column = 0;
        if record_address(&records, 0).is_none() && !is_comment(&records) {
            let headers: Vec<String> = (0..records.len())
                .map(|i| records.get(i).trim().to_owned())
                .collect();
            if let Ok(mapping) = super::headers::map_header(&headers, &[]) {
                column = mapping.plain[Field::Email.index()].unwrap_or(0);
            }
            if !records.next()? {
                return Ok(loaded);
            }
        }
        let mut lines = 0u64;
        loop {
            if !is_comment(&records) {
                lines += 1;
                match record_address(&records, column) {
                    Some(address) => self.insert(address),
                    None => loaded.unreadable.push(records.line()),
                }
            }
            if !records.next()? {
                break;
            }
        }
        let unreadable = loaded.unreadable.len() as u64;
        if unreadable * 2 > lines {
            let shown: Vec<String> = loaded
                .unreadable
                .iter()
                .take(5)
                .map(u64::to_string)
                .collect();
            return Err(InputError::new(
                path,
                loaded.unreadable.first().copied(),
                format!(
                    "{unreadable} of the {lines} lines of this suppression list hold no \
                     e-mail address (lines {}{}), so it is not read as one: the people it \
                     names would stay sendable. Give it one address per line, or a column \
                     headed `email`",
                    shown.join(", "),
                    if unreadable > 5 { ", …" } else { "" }
                ),
            ));
        }
        Ok(loaded)
    }

    /// Adds one address (any case, in any form [`address_in`] reads); a
    /// value holding no address is ignored.
    pub fn insert(&mut self, address: &str) {
        let Some(address) = address_in(address) else {
            return;
        };
        let key = address_key(address);
        if !self.addresses.contains(key.as_ref()) {
            self.hashes
                .insert(xxhash_rust::xxh3::xxh3_64(key.as_bytes()));
            self.addresses.insert(key.into());
        }
    }

    /// True when `address` (any case) is suppressed. Does not allocate for
    /// an address that is already lower-case.
    pub fn contains(&self, address: &str) -> bool {
        if self.addresses.is_empty() {
            return false;
        }
        self.addresses
            .contains(address_key(super::trim(address)).as_ref())
    }

    /// [`Suppression::contains`] for an address whose
    /// [`super::address_hash`] is `hash`.
    pub fn contains_hashed(&self, hash: u64, address: &str) -> bool {
        // The hash rules nearly every address out; a match is confirmed.
        self.hashes.contains(&hash) && self.contains(address)
    }

    /// Number of distinct suppressed addresses.
    pub fn len(&self) -> usize {
        self.addresses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// True when the current record is a comment line (`# …`).
fn is_comment(records: &Records) -> bool {
    records.get(0).trim_start().starts_with('#')
}

/// The address of the current record: in `column`, else in the first cell
/// that holds one.
fn record_address(records: &Records, column: usize) -> Option<&str> {
    address_in(records.get(column))
        .or_else(|| (0..records.len()).find_map(|i| address_in(records.get(i))))
}

/// The address in one suppression-list cell, read out of the forms people
/// and tools write: a bare address; a name-addr (`Jan <jan@x.nl>`) or an
/// address in angle brackets; a `mailto:` URI (its `?…` query dropped);
/// the first of several words, or of fields separated by `;` or `,` that
/// the file's own delimiter did not split (`jan@x.nl ; note`). `None` when
/// the cell holds nothing with an `@` between two non-empty parts.
pub fn address_in(cell: &str) -> Option<&str> {
    let cell = cell.trim();
    if super::address::is_deliverable(cell) {
        return Some(cell);
    }
    if let Some(open) = cell.rfind('<') {
        let inner = &cell[open + 1..];
        let inner = inner.split('>').next().unwrap_or(inner);
        return bare(inner);
    }
    bare(cell).or_else(|| {
        cell.split(|c: char| c.is_whitespace() || matches!(c, ';' | ','))
            .find_map(bare)
    })
}

/// `word` as an address: surrounding quotes and brackets and a `mailto:`
/// scheme removed, then one `@` with something on both sides and no space.
fn bare(word: &str) -> Option<&str> {
    let mut word = word
        .trim()
        .trim_matches(|c| matches!(c, '"' | '\'' | '<' | '>'));
    if word
        .get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("mailto:"))
    {
        word = &word[7..];
        word = word.split('?').next().unwrap_or(word);
    }
    let word = word.trim();
    let (local, domain) = word.rsplit_once('@')?;
    let plain = |part: &str| !part.is_empty() && !part.contains(char::is_whitespace);
    (plain(domain) && (plain(local) || local.starts_with('"'))).then_some(word)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn a_cell_with_a_multibyte_character_at_byte_seven_panicked() {
        // Found by tests/fuzz.rs: `mailto:` was looked for by slicing the
        // first seven bytes, which cut `é` in two.
        assert_eq!(bare("abcdeé@example.nl"), Some("abcdeé@example.nl"));
        assert_eq!(bare("MAILTO:jan@example.nl"), Some("jan@example.nl"));
        assert_eq!(bare("mailtö:x"), None);
    }

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn first_column_with_a_header_line_compared_case_insensitively() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "unsubscribed.csv",
            b"\xef\xbb\xbfAdres;Datum\r\nJan@Example.NL;2027-01-01\r\n\r\npiet@example.nl;\r\n",
        );
        let mut suppression = Suppression::default();
        suppression.load(&path).unwrap();
        assert_eq!(suppression.len(), 2);
        assert!(suppression.contains("jan@example.nl"));
        assert!(suppression.contains("JAN@example.nl"));
        assert!(suppression.contains(" piet@example.nl "));
        assert!(!suppression.contains("Adres"));
        assert!(!suppression.contains("2027-01-01"));
        assert!(!suppression.contains("kees@example.nl"));
        let hashed = |a: &str| suppression.contains_hashed(super::super::address_hash(a), a);
        assert!(hashed("JAN@example.nl"));
        assert!(!hashed("kees@example.nl"));
    }

    #[test]
    fn without_a_header_the_first_line_is_an_address() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "s.csv", b"a@x.nl\nB@X.NL\nb@x.nl\nnot an address\n");
        let mut suppression = Suppression::default();
        suppression.load(&path).unwrap();
        assert_eq!(suppression.len(), 2, "b@x.nl counted once");
        assert!(suppression.contains("a@x.nl"));
        assert!(suppression.contains("b@x.nl"));
    }

    #[test]
    fn an_export_is_read_by_its_email_column() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/recipients/listmonk.csv");
        let mut suppression = Suppression::default();
        suppression.load(&path).unwrap();
        assert_eq!(suppression.len(), 4);
        assert!(suppression.contains("carla@example.nl"));
    }

    #[test]
    fn windows_1252_addresses_are_decoded() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "s.csv", b"email\njos\xe9@example.nl\n");
        let mut suppression = Suppression::default();
        suppression.load(&path).unwrap();
        assert!(suppression.contains("JOSÉ@example.nl"));
    }

    #[test]
    fn several_files_add_up_and_an_empty_one_adds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut suppression = Suppression::default();
        suppression
            .load(&write(&dir, "a.csv", b"a@x.nl\n"))
            .unwrap();
        suppression.load(&write(&dir, "b.csv", b"email\n")).unwrap();
        suppression.load(&write(&dir, "c.csv", b"")).unwrap();
        suppression.load(&write(&dir, "d.csv", b"c@x.nl")).unwrap();
        assert_eq!(suppression.len(), 2);
        assert!(suppression.contains("c@x.nl"));
    }

    #[test]
    fn name_addr_mailto_and_angle_bracket_lines_were_skipped_silently() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "s.csv",
            b"Jan <u1@example.com>\n\
              mailto:u2@example.com?subject=unsubscribe\n\
              <u3@example.com>\n\
              u4@example.com ; extra\n\
              \"Piet, de\" <u5@example.com>\n\
              MAILTO:U6@Example.com\n\
              u7@example.com\tbounced\n\
              \"\"\"jan de vries\"\"@example.com\"\n",
        );
        let mut suppression = Suppression::default();
        let loaded = suppression.load(&path).unwrap();
        assert_eq!(loaded.unreadable, Vec::<u64>::new());
        for n in 1..=7 {
            let address = format!("u{n}@example.com");
            assert!(suppression.contains(&address), "{address}");
        }
        assert!(suppression.contains("\"jan de vries\"@example.com"));
        assert_eq!(suppression.len(), 8);
    }

    #[test]
    fn a_line_without_an_address_is_named_and_comments_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "s.csv",
            b"email\n# from the old shop\na@x.nl\nKees de Vries\nb@x.nl\nc@x.nl\n",
        );
        let mut suppression = Suppression::default();
        let loaded = suppression.load(&path).unwrap();
        assert_eq!(loaded.unreadable, vec![4]);
        assert_eq!(suppression.len(), 3);
    }

    #[test]
    fn a_suppression_file_of_mostly_unreadable_lines_failed_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "names.csv",
            b"naam,datum\nJan,2027-01-01\nPiet,2027-01-02\nkees@x.nl,2027-01-03\n",
        );
        let mut suppression = Suppression::default();
        let err = suppression.load(&path).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("2 of the 3 lines"), "{}", err.message);
        assert!(err.message.contains("lines 2, 3"), "{}", err.message);
    }

    #[test]
    fn an_address_in_another_column_of_a_headerless_line_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "s.csv", b"Jan,jan@x.nl\nPiet,piet@x.nl\n");
        let mut suppression = Suppression::default();
        let loaded = suppression.load(&path).unwrap();
        assert!(loaded.unreadable.is_empty());
        assert!(suppression.contains("jan@x.nl") && suppression.contains("piet@x.nl"));
    }

    #[test]
    fn cells_without_an_address_are_none() {
        for cell in [
            "",
            "Jan",
            "@",
            "a@",
            "@b",
            "<>",
            "mailto:",
            "Jan <jan>",
            "a b@ c",
        ] {
            assert_eq!(address_in(cell), None, "{cell:?}");
        }
    }

    #[test]
    fn missing_and_binary_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut suppression = Suppression::default();
        let err = suppression.load(&dir.path().join("nope.csv")).unwrap_err();
        assert!(err.message.contains("suppression list"), "{}", err.message);
        assert!(err.message.contains("no such file"), "{}", err.message);
        let err = suppression
            .load(&write(&dir, "x.csv", b"a@x.nl\n\x00\x01\x02"))
            .unwrap_err();
        assert!(err.message.contains("not a CSV file"), "{}", err.message);
        assert!(suppression.is_empty());
    }
}
