//! Suppression files: addresses never to mail (SPEC §1.2).

use std::path::Path;

use super::InputError;

/// Every suppressed address, compared case-insensitively.
#[derive(Debug, Default)]
pub struct Suppression {
    _private: (),
}

impl Suppression {
    /// Adds every address in the first column of `path`; a first line that is
    /// not an address is a header and is skipped.
    pub fn load(&mut self, path: &Path) -> Result<(), InputError> {
        let _ = path;
        todo!()
    }

    /// True when `address` (any case) is suppressed.
    pub fn contains(&self, address: &str) -> bool {
        let _ = address;
        todo!()
    }

    /// Number of distinct suppressed addresses.
    pub fn len(&self) -> usize {
        todo!()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
