//! Which promoted products the names of a cell cover: the names resolved
//! once, before the first row, into bits per name, and the cells met before
//! remembered with what they cover.

use std::cell::RefCell;

use crate::hash::{FastHashMap, FastHashSet};
use crate::recipients::trim;

use super::cells::list_items;

/// Which promoted products each name covers, as bits (bit `i`:
/// `promoted[i]`): one lookup per name in a cell, rather than one per name
/// and promoted product. For at most 64 promoted products.
#[derive(Debug)]
pub(super) struct Coverage {
    pub(super) by_name: FastHashMap<String, u64>,
    /// The ASCII names of `by_name` by length (`by_length[n]`: the names of
    /// `n` bytes). An ASCII cell item is compared, ignoring ASCII case, with
    /// the few names of its length: no hashing, no lower-casing, for what
    /// nearly every cell holds.
    pub(super) by_length: Vec<Vec<(Box<[u8]>, u64)>>,
    pub(super) all: u64,
    /// Whether an item `*` covers every product (in a consent scope).
    pub(super) star: bool,
    /// Cells met before and what they cover ([`Coverage::cover`]). A list
    /// holds few distinct `purchased` or `consent_scope` cells (they are
    /// combinations of a few products), so one lookup of the whole cell
    /// answers most rows without splitting it; at most [`SEEN_CELLS`] are
    /// kept, each at most [`SEEN_CELL_LEN`] long, so a list of
    /// all-different or huge cells costs only that lookup more (and never
    /// much memory).
    pub(super) seen: RefCell<FastHashMap<Box<str>, (u64, bool)>>,
}

/// How many cells a [`Coverage`] remembers.
pub(super) const SEEN_CELLS: usize = 4096;
/// The longest cell a [`Coverage`] remembers: a handful of product names.
pub(super) const SEEN_CELL_LEN: usize = 256;

impl Coverage {
    /// From each promoted product's set of names, in order; `None` for more
    /// than 64 products.
    pub(super) fn new<'p>(
        sets: impl ExactSizeIterator<Item = &'p FastHashSet<String>>,
        star: bool,
    ) -> Option<Self> {
        if sets.len() > 64 {
            return None;
        }
        let mut by_name: FastHashMap<String, u64> = FastHashMap::default();
        let mut all = 0;
        for (i, names) in sets.enumerate() {
            all |= 1 << i;
            for name in names {
                *by_name.entry(name.clone()).or_default() |= 1 << i;
            }
        }
        let mut by_length: Vec<Vec<(Box<[u8]>, u64)>> = Vec::new();
        for (name, &bits) in &by_name {
            if name.is_ascii() {
                if by_length.len() <= name.len() {
                    by_length.resize_with(name.len() + 1, Vec::new);
                }
                by_length[name.len()].push((name.as_bytes().into(), bits));
            }
        }
        Some(Coverage {
            by_name,
            by_length,
            all,
            star,
            seen: RefCell::default(),
        })
    }

    /// The promoted products `name` covers, as bits.
    ///
    /// The names are [`normalise`]d: lower-case and trimmed. An ASCII item
    /// normalises to ASCII, so only an ASCII name can equal it, and that
    /// name (lower-case already) equals the item lower-cased exactly when
    /// the two are equal ignoring ASCII case.
    #[inline]
    pub(super) fn bits(&self, name: &str) -> u64 {
        let name = trim(name);
        if !name.is_ascii() {
            return with_normalised(name, |n| self.by_name.get(n).copied().unwrap_or(0));
        }
        let Some(candidates) = self.by_length.get(name.len()) else {
            return 0;
        };
        candidates
            .iter()
            .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name.as_bytes()))
            .map_or(0, |&(_, bits)| bits)
    }

    /// What the items of a list cell (`purchased`, `consent_scope`) cover:
    /// the promoted products as bits, and whether the cell holds any item.
    /// Looked up among the cells met before, else worked out (and kept).
    #[inline]
    pub(super) fn cover(&self, cell: &str) -> (u64, bool) {
        if let Some(&known) = self.seen.borrow().get(cell) {
            return known;
        }
        let cover = self.cover_items(cell);
        let mut seen = self.seen.borrow_mut();
        if seen.len() < SEEN_CELLS && cell.len() <= SEEN_CELL_LEN {
            seen.insert(cell.into(), cover);
        }
        cover
    }

    /// [`Coverage::cover`], worked out item by item: one pass over the
    /// cell, which stops once everything is covered. With `star`, an item
    /// `*` covers every product.
    #[inline]
    pub(super) fn cover_items(&self, cell: &str) -> (u64, bool) {
        let mut covered = 0;
        let mut any = false;
        for item in list_items(cell) {
            any = true;
            covered |= if self.star && item == "*" {
                self.all
            } else {
                self.bits(item)
            };
            if covered == self.all {
                break;
            }
        }
        (covered, any)
    }

    /// The index of the first promoted product not in `covered`.
    #[inline]
    pub(super) fn first_uncovered(&self, covered: u64) -> Option<usize> {
        let missing = self.all & !covered;
        (missing != 0).then(|| missing.trailing_zeros() as usize)
    }
}

pub(super) fn normalise(name: &str) -> String {
    crate::normalise::product_key(name)
}

/// Calls `f` with [`normalise`]`(name)`, lower-casing a short ASCII name
/// (every product name in practice) in a stack buffer instead of a new
/// `String`.
#[inline]
pub(super) fn with_normalised<R>(name: &str, f: impl FnOnce(&str) -> R) -> R {
    let name = trim(name);
    let mut buffer = [0u8; 64];
    if name.is_ascii() && name.len() <= buffer.len() {
        if !name.bytes().any(|b| b.is_ascii_uppercase()) {
            return f(name);
        }
        let lower = &mut buffer[..name.len()];
        lower.copy_from_slice(name.as_bytes());
        lower.make_ascii_lowercase();
        // ASCII lower-cased is still ASCII, and ASCII is UTF-8.
        if let Ok(lower) = std::str::from_utf8(lower) {
            return f(lower);
        }
    }
    f(&normalise(name))
}
