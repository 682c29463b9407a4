//! How a list was written — delimiter, encoding, line ends, BOM — so that
//! the CSV files mailgate writes from it (`--report-out`, `--sendable-out`)
//! open in the same spreadsheet program as the list did (SPEC §4): a
//! `;`-separated Windows-1252 list from Dutch Excel gives `;` and
//! Windows-1252 back, not one garbled column.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

/// The written form of a CSV file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialect {
    /// `,`, `;` or tab.
    pub delimiter: u8,
    /// Lines end with CR LF (Excel on Windows) rather than LF.
    pub crlf: bool,
    /// The file starts with a UTF-8 byte order mark (Excel's "CSV UTF-8").
    pub bom: bool,
    /// The file is Windows-1252 (Excel's other default), not UTF-8.
    pub windows_1252: bool,
}

impl Default for Dialect {
    /// RFC 4180 as the csv crate writes it, in UTF-8.
    fn default() -> Self {
        Dialect {
            delimiter: b',',
            crlf: false,
            bom: false,
            windows_1252: false,
        }
    }
}

/// How many bytes are looked at for the BOM and the first line end.
const PREFIX: u64 = 64 * 1024;

impl Dialect {
    /// The dialect of the list at `path`, whose reader found `delimiter`
    /// and whether it held Windows-1252 text. The BOM and the line end are
    /// read from the file's start (the first line end says it: Excel
    /// writes every line alike).
    pub fn of(path: &Path, delimiter: u8, windows_1252: bool) -> std::io::Result<Self> {
        let mut prefix = Vec::new();
        std::fs::File::open(path)?
            .take(PREFIX)
            .read_to_end(&mut prefix)?;
        let bom = prefix.starts_with(b"\xEF\xBB\xBF");
        let crlf =
            memchr::memchr(b'\n', &prefix).is_some_and(|at| at > 0 && prefix[at - 1] == b'\r');
        Ok(Dialect {
            delimiter,
            crlf,
            // A file with a UTF-8 BOM is UTF-8 by its own word.
            windows_1252: windows_1252 && !bom,
            bom,
        })
    }

    /// The line terminator to write.
    pub fn terminator(&self) -> csv::Terminator {
        if self.crlf {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        }
    }

    /// `text` in the dialect's encoding. A character Windows-1252 has no
    /// byte for (one that came from a UTF-8 line of a mixed file) is
    /// written as `?`, as Excel does when it saves such text.
    pub fn encode<'t>(&self, text: &'t str) -> Cow<'t, [u8]> {
        if !self.windows_1252 || text.is_ascii() {
            return Cow::Borrowed(text.as_bytes());
        }
        let mut out = Vec::with_capacity(text.len());
        let mut buffer = [0u8; 4];
        for c in text.chars() {
            let (bytes, _, unmappable) =
                encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut buffer));
            if unmappable {
                out.push(b'?');
            } else {
                out.extend_from_slice(&bytes);
            }
        }
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialect_of(bytes: &[u8], delimiter: u8, windows_1252: bool) -> Dialect {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.csv");
        std::fs::write(&path, bytes).unwrap();
        Dialect::of(&path, delimiter, windows_1252).unwrap()
    }

    #[test]
    fn bom_and_line_ends_are_read_from_the_file() {
        let d = dialect_of(b"\xEF\xBB\xBFE-mailadres;Naam\r\na@b.nl;x\r\n", b';', false);
        assert_eq!(
            (d.delimiter, d.bom, d.crlf, d.windows_1252),
            (b';', true, true, false)
        );
        let d = dialect_of(b"email,name\na@b.nl,x\r\n", b',', false);
        assert_eq!((d.bom, d.crlf), (false, false));
        let d = dialect_of(b"email;naam\r\na@b.nl;Ren\xE9e\r\n", b';', true);
        assert!(d.windows_1252 && d.crlf && !d.bom);
    }

    #[test]
    fn windows_1252_text_is_encoded_back() {
        let d = Dialect {
            windows_1252: true,
            ..Dialect::default()
        };
        assert_eq!(&*d.encode("Renée “Zoë”"), b"Ren\xE9e \x93Zo\xEB\x94");
        assert_eq!(&*d.encode("Ayşe"), b"Ay?e", "no byte for ş");
        assert_eq!(&*d.encode("plain"), b"plain");
        assert_eq!(&*Dialect::default().encode("Renée"), "Renée".as_bytes());
    }
}
