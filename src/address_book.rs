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
//!   in one 12-byte slot: looking an address up and recording it touch the
//!   same cache line, and the slot can be fetched ahead of time
//!   ([`AddressBook::warm`]). std's `HashMap` keeps its control bytes and its
//!   entries apart, which costs two cache misses per new address.
//! - At most three quarters full; sized once from an estimate of the rows
//!   ([`AddressBook::reserve`]) rather than doubled as it fills, which would
//!   hold the old table and the new at once. 10M addresses take 160 MB.
//! - The table is memory mapped straight from the OS (zeroed: every slot
//!   starts empty) and, on Linux, asked to be backed by 2 MiB pages: with
//!   4 KiB pages nearly every lookup in a table this size also misses the
//!   TLB, and the page walks limit how many of the misses overlap. That
//!   request (`madvise`, through `memmap2`, as transparent huge pages in
//!   `madvise` mode need) took a tenth off the lint of 10M rows.

use crate::recipients::address_hash;

/// Every distinct address of a list; see the module documentation.
#[derive(Default)]
pub struct AddressBook {
    slots: Slots,
    len: usize,
    blocked: usize,
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

/// The table: slots of 12 bytes, an address hash (`0`: empty; a hash of 0
/// is stored as 1) and its [`State`], little-endian.
#[derive(Default)]
struct Slots {
    memory: Memory,
    /// Number of slots.
    len: usize,
}

/// Where the slots live.
#[derive(Default)]
enum Memory {
    #[default]
    None,
    Mapped(memmap2::MmapMut),
    /// When the OS would not map memory (the allocator may still manage).
    Heap(Vec<u8>),
}

const SLOT: usize = 12;

impl Slots {
    /// `len` empty slots.
    fn new(len: usize) -> Slots {
        let bytes = len * SLOT;
        let memory = match memmap2::MmapMut::map_anon(bytes) {
            Ok(map) => {
                // Only a hint: without huge pages the table works as well,
                // only slower.
                #[cfg(target_os = "linux")]
                let _ = map.advise(memmap2::Advice::HugePage);
                Memory::Mapped(map)
            }
            Err(_) => Memory::Heap(vec![0; bytes]),
        };
        Slots { memory, len }
    }

    fn bytes(&self) -> &[u8] {
        match &self.memory {
            Memory::None => &[],
            Memory::Mapped(map) => map,
            Memory::Heap(heap) => heap,
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        match &mut self.memory {
            Memory::None => &mut [],
            Memory::Mapped(map) => map,
            Memory::Heap(heap) => heap,
        }
    }

    fn hash(&self, i: usize) -> u64 {
        let mut hash = [0; 8];
        hash.copy_from_slice(&self.bytes()[i * SLOT..i * SLOT + 8]);
        u64::from_le_bytes(hash)
    }

    fn state(&self, i: usize) -> State {
        let mut state = [0; 4];
        state.copy_from_slice(&self.bytes()[i * SLOT + 8..i * SLOT + SLOT]);
        State(u32::from_le_bytes(state))
    }

    fn set(&mut self, i: usize, hash: u64, state: State) {
        let slot = &mut self.bytes_mut()[i * SLOT..i * SLOT + SLOT];
        slot[..8].copy_from_slice(&hash.to_le_bytes());
        slot[8..].copy_from_slice(&state.0.to_le_bytes());
    }

    fn set_state(&mut self, i: usize, state: State) {
        self.bytes_mut()[i * SLOT + 8..i * SLOT + SLOT].copy_from_slice(&state.0.to_le_bytes());
    }

    /// The slot after `i`, wrapping around.
    fn next(&self, i: usize) -> usize {
        if i + 1 == self.len { 0 } else { i + 1 }
    }
}

/// A slot's place in the table, as [`AddressBook::visit`] found it; valid
/// until the next address is added.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SlotIndex(usize);

/// The stored form of a hash: `0` marks an empty slot, so 0 becomes 1.
fn stored(key: u64) -> u64 {
    key.max(1)
}

impl AddressBook {
    /// The key of an address, compared case-insensitively (the same
    /// lower-casing as suppression lists).
    pub fn key(&self, email: &str) -> u64 {
        address_hash(email)
    }

    /// The line of the first row with this address, if one was recorded.
    pub fn first_line(&self, key: u64) -> Option<u64> {
        self.find(key).map(|i| self.slots.state(i).first_line())
    }

    /// True when no row holding the address is blocked.
    pub fn is_sendable(&self, key: u64) -> bool {
        self.find(key)
            .is_some_and(|i| !self.slots.state(i).blocked())
    }

    /// Whether the row on `line` that holds `email` is the one to send to:
    /// the address is sendable and this is the first row that holds it
    /// (SPEC §2: an address is mailed once). `send` picks its rows by this,
    /// and the HTML report's preview its message.
    pub fn sends_row(&self, email: &str, line: u64) -> bool {
        self.find(self.key(email)).is_some_and(|i| {
            let state = self.slots.state(i);
            !state.blocked() && state.first_line() == line
        })
    }

    /// Distinct addresses.
    pub fn len(&self) -> u64 {
        self.len as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Distinct addresses that are not sendable (counted as they are
    /// blocked: a pass over the whole table at the end would cost a tenth
    /// of a second for ten million addresses).
    pub fn blocked(&self) -> u64 {
        self.blocked as u64
    }

    /// Records a row with the address `key` on `line`: returns the line of
    /// an earlier row with it (`None` when this is the first), and the slot
    /// to [`AddressBook::block`] if the row turns out to have an error.
    pub(crate) fn visit(&mut self, key: u64, line: u64) -> (Option<u64>, SlotIndex) {
        if (self.len + 1) * 4 > self.slots.len * 3 {
            self.grow(self.len + 1);
        }
        let hash = stored(key);
        let mut i = self.home(key);
        loop {
            let found = self.slots.hash(i);
            if found == hash {
                return (Some(self.slots.state(i).first_line()), SlotIndex(i));
            }
            if found == 0 {
                self.slots.set(i, hash, State::new(line));
                self.len += 1;
                return (None, SlotIndex(i));
            }
            i = self.slots.next(i);
        }
    }

    /// Marks the address in `slot` as not sendable.
    pub(crate) fn block(&mut self, slot: SlotIndex) {
        let state = self.slots.state(slot.0);
        if !state.blocked() {
            self.blocked += 1;
            self.slots
                .set_state(slot.0, State(state.0 | State::BLOCKED));
        }
    }

    /// Reads the slots the search for each of `keys` starts at, so that
    /// later [`AddressBook::visit`]s find them in the cache. The reads do
    /// not wait for one another: for the rows ahead, their cache misses
    /// overlap instead of stalling the row loop one by one. Returns how
    /// many keys there were.
    pub(crate) fn warm(&self, keys: impl Iterator<Item = u64>) -> usize {
        if self.slots.len == 0 {
            return keys.count();
        }
        // Folding the values together (and not storing each) lets every
        // load be in flight at once.
        let (count, folded) = keys.fold((0, 0), |(count, acc), key| {
            (count + 1, acc ^ self.slots.hash(self.home(key)))
        });
        std::hint::black_box(folded);
        count
    }

    /// Makes room for `additional` more addresses at once.
    pub(crate) fn reserve(&mut self, additional: u64) {
        let wanted = usize::try_from(additional)
            .unwrap_or(usize::MAX)
            .saturating_add(self.len);
        if wanted.saturating_mul(4) > self.slots.len.saturating_mul(3) {
            self.grow(wanted);
        }
    }

    /// Where the search for `key` starts: the hash scaled to the table's
    /// length (multiply and keep the high half), so any length will do.
    fn home(&self, key: u64) -> usize {
        ((u128::from(stored(key)) * self.slots.len as u128) >> 64) as usize
    }

    fn find(&self, key: u64) -> Option<usize> {
        if self.slots.len == 0 {
            return None;
        }
        let hash = stored(key);
        let mut i = self.home(key);
        loop {
            match self.slots.hash(i) {
                found if found == hash => return Some(i),
                0 => return None,
                _ => i = self.slots.next(i),
            }
        }
    }

    /// Rebuilds the table with room for `addresses` (three quarters full),
    /// at least doubling it so that growing one by one stays cheap.
    fn grow(&mut self, addresses: usize) {
        let length = (addresses.saturating_mul(4) / 3 + 1)
            .max(self.slots.len * 2)
            .max(16);
        let old = std::mem::replace(&mut self.slots, Slots::new(length));
        for j in 0..old.len {
            let hash = old.hash(j);
            if hash == 0 {
                continue;
            }
            let mut i = self.home(hash);
            while self.slots.hash(i) != 0 {
                i = self.slots.next(i);
            }
            self.slots.set(i, hash, old.state(j));
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
            if state.is_multiple_of(7) {
                book.block(slot);
                entry.1 = true;
            }
            if line.is_multiple_of(10_000) {
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
