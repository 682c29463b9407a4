//! Hashing for the lookups made for every row of a list: template
//! variables, suppressed addresses, product names.
//!
//! std's default hasher (SipHash) is built to resist hash flooding by keys an
//! attacker chooses; here the keys come from the user's own campaign, and
//! SipHash's cost, paid several times per row, adds up over millions of
//! rows. xxh3, which mailgate already uses for address keys, hashes a short
//! string several times faster.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// A `HashMap` with [`FastHasher`].
pub type FastHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
/// A `HashSet` with [`FastHasher`].
pub type FastHashSet<T> = HashSet<T, BuildHasherDefault<FastHasher>>;

/// xxh3 over whatever is written, chained through its seed.
#[derive(Default)]
pub struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxh3_64_with_seed(bytes, self.0);
    }

    /// `str` ends its hash with a `0xff` byte; mix it in without a second
    /// pass of xxh3 (the state is well mixed already).
    fn write_u8(&mut self, n: u8) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_and_sets_work_with_strings() {
        let mut set: FastHashSet<Box<str>> = FastHashSet::default();
        set.insert("jan@example.nl".into());
        assert!(set.contains("jan@example.nl"));
        assert!(!set.contains("jan@example.n"));
        let map: FastHashMap<String, u32> = [("a".to_owned(), 1), ("ab".to_owned(), 2)]
            .into_iter()
            .collect();
        assert_eq!(map.get("a"), Some(&1));
        assert_eq!(map.get("ab"), Some(&2));
        assert_eq!(map.get("b"), None);
    }
}
