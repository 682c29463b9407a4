//! Reading an `.eml` file into a [`Draft`] with mail-parser.

use std::path::Path;

use super::{Draft, DraftError};

impl Draft {
    /// Reads and parses the draft at `path`. A file that is missing,
    /// unreadable or not an e-mail message (no header block, binary data) is a
    /// [`DraftError`] that says what to do.
    pub fn load(path: &Path) -> Result<Draft, DraftError> {
        let _ = path;
        todo!()
    }
}
