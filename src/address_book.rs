//! The address book: every distinct address of a list, with the line it
//! first appeared on and whether any of its rows has an error — what
//! `duplicate-address`, the summary's `sendable`/`blocked` counts and `send`
//! need (SPEC §2: an address is sent once, and only when all its rows are
//! sendable).
//!
//! A list of ten million rows means ten million lookups at random places in
//! a table far larger than any cache, so the table is built to touch one
//! cache line per row and to stay small:
//!
//! - An address is known by a 64-bit hash of its lower-case form (xxh3; for
//!   10 million addresses the chance that any two collide is about 3 in a
//!   million). A hash of 0 is stored as 1, since 0 marks an empty slot.
//! - Open addressing with linear probing, the hash and the state side by side
//!   in one 12-byte slot (the hash as two `u32` halves, so a slot needs
//!   4-byte alignment only): looking an address up and recording it touch
//!   the same cache line, and the slot can be fetched ahead of time
//!   ([`AddressBook::warm`]). std's `HashMap` keeps its control bytes and its
//!   entries apart, which costs two cache misses per new address.
//! - At most three quarters full; sized once from an estimate of the rows
//!   ([`AddressBook::reserve`]) rather than doubled as it fills, which would
//!   hold the old table and the new at once. 10M addresses take 160 MB.

use crate::recipients::address_hash;

/// Every distinct address of a list; see the module documentation.
#[derive(Default)]
pub struct AddressBook {
    /// Any length: a hash's first slot is the hash scaled to it (see
    /// [`AddressBook::home`]).
    slots: Vec<Slot>,
    len: usize,
}

/// One slot: an address hash (`[0, 0]`: empty) and its [`State`].
#[derive(Clone, Copy, Default)]
struct Slot {
    hash: [u32; 2],
    state: State,
}

/// The first line of an address (saturating at 2³¹ − 1) and, in the top
/// bit, whether any of its rows has an error.
#[derive(Clone, Copy, Default)]
struct State(u32);

impl State {
    const BLOCKED: u32 = 1 << 31;

    fn new(line: u64) -> Self {
        State(
            u32::try_from(line)
                .unwrap_or(u32::MAX)
                .min(Self::BLOCKED - 1),
        )
    }

    fn first_line(self) -> u64 {
        u64::from(self.0 & !Self::BLOCKED)
    }

    fn blocked(self) -> bool {
        self.0 & Self::BLOCKED != 0
    }
}

/// A slot's place in the table, as [`AddressBook::visit`] found it; valid
/// until the next address is added.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SlotIndex(usize);

/// Hashes are stored split in two; `0` is the empty slot.
fn split(key: u64) -> [u32; 2] {
    let key = key.max(1);
    [(key >> 32) as u32, key as u32]
}

impl AddressBook {
    /// The key of an address, compared case-insensitively (the same
    /// lower-casing as suppression lists).
    pub fn key(&self, email: &str) -> u64 {
        address_hash(email)
    }

    /// The line of the first row with this address, if one was recorded.
    pub fn first_line(&self, key: u64) -> Option<u64> {
        self.find(key).map(|i| self.slots[i].state.first_line())
    }

    /// True when every row holding the address is free of errors.
    pub fn is_sendable(&self, key: u64) -> bool {
        self.find(key)
            .is_some_and(|i| !self.slots[i].state.blocked())
    }

    /// Distinct addresses.
    pub fn len(&self) -> u64 {
        self.len as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Distinct addresses that are not sendable.
    pub fn blocked(&self) -> u64 {
        self.slots
            .iter()
            .filter(|s| s.hash != [0, 0] && s.state.blocked())
            .count() as u64
    }

    /// Records a row with the address `key` on `line`: returns the line of
    /// an earlier row with it (`None` when this is the first), and the slot
    /// to [`AddressBook::block`] if the row turns out to have an error.
    pub(crate) fn visit(&mut self, key: u64, line: u64) -> (Option<u64>, SlotIndex) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow(self.len + 1);
        }
        let hash = split(key);
        let mut i = self.home(key);
        loop {
            let slot = &mut self.slots[i];
            if slot.hash == hash {
                return (Some(slot.state.first_line()), SlotIndex(i));
            }
            if slot.hash == [0, 0] {
                *slot = Slot {
                    hash,
                    state: State::new(line),
                };
                self.len += 1;
                return (None, SlotIndex(i));
            }
            i = if i + 1 == self.slots.len() { 0 } else { i + 1 };
        }
    }

    /// Marks the address in `slot` as not sendable.
    pub(crate) fn block(&mut self, slot: SlotIndex) {
        self.slots[slot.0].state.0 |= State::BLOCKED;
    }

    /// Reads the slots the search for each of `keys` starts at, so that
    /// later [`AddressBook::visit`]s find them in the cache. The reads do
    /// not wait for one another: for the rows ahead, their cache misses
    /// overlap instead of stalling the row loop one by one.
    /// Returns how many keys there were.
    pub(crate) fn warm(&self, keys: impl Iterator<Item = u64>) -> usize {
        if self.slots.is_empty() {
            return keys.count();
        }
        // Folding the values together (and not storing each) lets every
        // load be in flight at once.
        let (count, folded) = keys.fold((0, 0), |(count, acc), key| {
            (count + 1, acc ^ self.slots[self.home(key)].hash[1])
        });
        std::hint::black_box(folded);
        count
    }

    /// Makes room for `additional` more addresses at once.
    pub(crate) fn reserve(&mut self, additional: u64) {
        let wanted = usize::try_from(additional)
            .unwrap_or(usize::MAX)
            .saturating_add(self.len);
        if wanted.saturating_mul(4) > self.slots.len().saturating_mul(3) {
            self.grow(wanted);
        }
    }

    /// Where the search for `key` starts: the hash scaled to the table's
    /// length (multiply and keep the high half), so any length will do.
    fn home(&self, key: u64) -> usize {
        ((u128::from(key.max(1)) * self.slots.len() as u128) >> 64) as usize
    }

    fn find(&self, key: u64) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let hash = split(key);
        let mut i = self.home(key);
        loop {
            let slot = self.slots[i];
            if slot.hash == hash {
                return Some(i);
            }
            if slot.hash == [0, 0] {
                return None;
            }
            i = if i + 1 == self.slots.len() { 0 } else { i + 1 };
        }
    }

    /// Rebuilds the table with room for `addresses` (three quarters full),
    /// at least doubling it so that growing one by one stays cheap.
    fn grow(&mut self, addresses: usize) {
        let length = (addresses.saturating_mul(4) / 3 + 1)
            .max(self.slots.len() * 2)
            .max(16);
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); length]);
        for slot in old.into_iter().filter(|s| s.hash != [0, 0]) {
            let key = (u64::from(slot.hash[0]) << 32) | u64::from(slot.hash[1]);
            let mut i = self.home(key);
            while self.slots[i].hash != [0, 0] {
                i = if i + 1 == self.slots.len() { 0 } else { i + 1 };
            }
            self.slots[i] = slot;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_first_lines_and_blocks() {
        let mut book = AddressBook::default();
        let jan = book.key("jan@example.nl");
        assert_eq!(jan, book.key("Jan@Example.NL"), "case-insensitive");
        let piet = book.key("piet@example.nl");
        assert_eq!(book.first_line(jan), None);
        assert!(!book.is_sendable(jan));

        assert_eq!(book.visit(jan, 2).0, None);
        let (earlier, slot) = book.visit(piet, 3);
        assert_eq!(earlier, None);
        book.block(slot);
        assert_eq!(book.visit(jan, 7).0, Some(2));

        assert_eq!(book.first_line(jan), Some(2));
        assert_eq!(book.first_line(piet), Some(3));
        assert!(book.is_sendable(jan));
        assert!(!book.is_sendable(piet));
        assert_eq!((book.len(), book.blocked()), (2, 1));
    }

    #[test]
    fn agrees_with_a_hash_map_through_growth_and_colliding_homes() {
        let mut book = AddressBook::default();
        let mut model = std::collections::HashMap::new();
        // Few distinct keys with many repeats; 0 and 1 share a slot hash.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for line in 1..=50_000u64 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let key = match state % 100 {
                0 => 0,
                1 => 1,
                n if n < 30 => state % 20_000,
                _ => state,
            };
            let model_key = key.max(1);
            let (earlier, slot) = book.visit(key, line);
            let entry = model.entry(model_key).or_insert((line, false));
            assert_eq!(earlier, (entry.0 != line).then_some(entry.0), "{key}");
            if state % 7 == 0 {
                book.block(slot);
                entry.1 = true;
            }
            if line % 10_000 == 0 {
                book.reserve(5_000);
            }
        }
        assert_eq!(book.len(), model.len() as u64);
        assert_eq!(
            book.blocked(),
            model.values().filter(|(_, b)| *b).count() as u64
        );
        for (&key, &(line, blocked)) in &model {
            assert_eq!(book.first_line(key), Some(line));
            assert_eq!(book.is_sendable(key), !blocked);
        }
    }

    #[test]
    fn lines_saturate_below_the_blocked_bit() {
        let mut book = AddressBook::default();
        book.visit(42, u64::MAX);
        assert_eq!(book.first_line(42), Some((1 << 31) - 1));
        assert!(book.is_sendable(42));
    }
}
