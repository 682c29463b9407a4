//! The limits mailgate puts on what it reads, so that hostile or mistaken
//! input (`--draft /dev/zero`, a list with a 100 MB cell) ends in a clear
//! error that names the file and the limit, instead of filling the memory.
//! Each is far above what a real campaign needs; the user documentation
//! lists them.

use std::io::{self, Read};
use std::path::Path;

/// The largest draft read: 100 MB, a few hundred times a large newsletter,
/// and more than mail providers accept (25–50 MB); a draft with a 50 MB
/// attachment (68 MB in base64) is still read, to be told what is wrong
/// with it.
pub const MAX_DRAFT_BYTES: u64 = 100 << 20;

/// The largest campaign file read: 10 MB (a real one is a few kilobytes).
pub const MAX_CAMPAIGN_BYTES: u64 = 10 << 20;

/// The longest row (record) of a recipient list or suppression file: 1 MB,
/// thousands of times a real row. A longer one is almost always a quote
/// left open, which makes the rest of the file one value; read on, it
/// would be held in memory whole.
pub const MAX_RECORD_BYTES: u64 = 1 << 20;

/// The most columns a recipient list may have: 16,384, as many as a
/// spreadsheet (Excel, LibreOffice) holds.
pub const MAX_COLUMNS: usize = 16_384;

/// Reads the whole file at `path`, refusing one larger than `max` bytes
/// without reading more than that: a device or FIFO that never ends
/// (`/dev/zero`) stops there too.
pub fn read_at_most(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge { max });
    }
    Ok(bytes)
}

/// Why [`read_at_most`] failed.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// More than `max` bytes.
    TooLarge {
        max: u64,
    },
}

/// `bytes` for a message: `100 MB`.
pub fn megabytes(bytes: u64) -> String {
    format!("{} MB", bytes >> 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_at_the_limit_is_read_one_past_it_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, [b'x'; 10]).unwrap();
        assert_eq!(read_at_most(&path, 10).unwrap().len(), 10);
        assert!(matches!(
            read_at_most(&path, 9),
            Err(ReadError::TooLarge { max: 9 })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_device_that_never_ends_stops_at_the_limit() {
        let read = read_at_most(Path::new("/dev/zero"), 1 << 20);
        assert!(matches!(read, Err(ReadError::TooLarge { .. })));
    }
}
