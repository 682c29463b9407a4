//! Suppression files: addresses never to mail (SPEC §1.2).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use super::input::Records;
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

impl Suppression {
    /// Adds every address in the first column of `path`; a first line that is
    /// not an address is a header and is skipped.
    ///
    /// When that header names an address column (`email`, `Email Address`,
    /// … as in a recipient list), that column is read instead of the first:
    /// a Mailchimp or listmonk export works as a suppression file as it is.
    /// The delimiter is sniffed and encodings handled as for the recipient
    /// list. Cells without an `@` (blank, notes) are skipped. An empty file
    /// adds nothing.
    pub fn load(&mut self, path: &Path) -> Result<(), InputError> {
        let mut records = Records::open(path, "suppression list")?;
        if !records.next()? {
            return Ok(());
        }
        let mut column = 0;
        if !records.get(0).contains('@') {
            let headers: Vec<String> = (0..records.len())
                .map(|i| records.get(i).trim().to_owned())
                .collect();
            if let Ok(mapping) = super::headers::map_header(&headers, &[]) {
                column = mapping.plain[Field::Email.index()].unwrap_or(0);
            }
            if !records.next()? {
                return Ok(());
            }
        }
        loop {
            self.insert(records.get(column));
            if !records.next()? {
                return Ok(());
            }
        }
    }

    /// Adds one address (any case, surrounding whitespace ignored); a value
    /// without `@` is not an address and is ignored.
    pub fn insert(&mut self, address: &str) {
        let address = address.trim();
        if !address.contains('@') {
            return;
        }
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

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
