//! Where each cell of a list's header is on its line, for diagnostics about
//! a column (`unused-column`, `special-category-data`, …) to point at the
//! cell itself — a column name can occur inside another (`email_old,email`).
//!
//! The reader keeps a record's values, not where they were on the line
//! (quotes and delimiters are gone), so the header line is read once more
//! here, by csv_core with the reader's delimiter. Only the header: rows get
//! no such columns, which would cost the hot path (see `lint.rs`).

use std::io::Read;
use std::path::Path;

use csv_core::ReadFieldResult;

use crate::span::{Place, Span, UTF8_BOM};

/// The place of each cell of the header record that starts on `line` of
/// `path` (cells counted as the reader counts them, with `delimiter`): the
/// cell's text without surrounding white space and quotes. `None` for a cell
/// that is not on that line (after a line break inside quotes), and for
/// every cell when the file cannot be read again.
pub(super) fn header_cells(path: &Path, line: u64, delimiter: u8) -> Vec<Option<Place>> {
    let limit = crate::limits::MAX_RECORD_BYTES * 2;
    let mut text = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut text));
    if read.is_err() {
        return Vec::new();
    }
    let mut start = if text.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    };
    for _ in 1..line {
        match text[start..].iter().position(|&b| b == b'\n') {
            Some(at) => start += at + 1,
            None => return Vec::new(),
        }
    }
    cells_on_line(&text[start..], delimiter)
        .into_iter()
        .map(|span| span.map(|span| Place { line, span }))
        .collect()
}

/// The columns of each cell of the CSV record at the start of `input` (see
/// [`header_cells`]).
fn cells_on_line(input: &[u8], delimiter: u8) -> Vec<Option<Span>> {
    let line_end = input
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(input.len());
    let mut core = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let mut output = vec![0; input.len() + 1];
    let mut cells = Vec::new();
    let (mut pos, mut field_start) = (0, 0);
    loop {
        let (result, read, _) = core.read_field(&input[pos..], &mut output);
        pos += read;
        let record_end = match result {
            ReadFieldResult::Field { record_end } => record_end,
            // The input ended without a line break: end the record.
            ReadFieldResult::InputEmpty if pos >= input.len() => {
                match core.read_field(&[], &mut output).0 {
                    ReadFieldResult::Field { .. } => true,
                    _ => break,
                }
            }
            ReadFieldResult::InputEmpty => continue,
            ReadFieldResult::OutputFull | ReadFieldResult::End => break,
        };
        let span = (field_start < line_end).then(|| {
            let raw = &input[field_start..pos.min(line_end)];
            let raw = match raw.last() {
                Some(&b) if !record_end && b == delimiter => &raw[..raw.len() - 1],
                _ => raw,
            };
            let (lead, cell) = trimmed(raw);
            let start = field_start + lead;
            Span::new(start, start + cell.len())
        });
        cells.push(span);
        field_start = pos;
        if record_end {
            break;
        }
    }
    cells
}

/// `raw` without surrounding white space and quotes, and where it starts.
fn trimmed(raw: &[u8]) -> (usize, &[u8]) {
    let lead = |s: &[u8]| s.len() - s.trim_ascii_start().len();
    let mut start = lead(raw);
    let mut cell = raw.trim_ascii();
    if let Some(inner) = cell.strip_prefix(b"\"") {
        let inner = inner.strip_suffix(b"\"").unwrap_or(inner);
        start += 1 + lead(inner);
        cell = inner.trim_ascii();
    }
    (start, cell)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(line: &str, delimiter: u8) -> Vec<Option<&str>> {
        cells_on_line(line.as_bytes(), delimiter)
            .into_iter()
            .map(|span| span.map(|s| &line[s.range()]))
            .collect()
    }

    #[test]
    fn each_cell_where_it_is_even_when_a_name_occurs_twice() {
        assert_eq!(
            cells("email_old,email, Name \r\nx,y,z\r\n", b','),
            [Some("email_old"), Some("email"), Some("Name")]
        );
        assert_eq!(
            cells("\"a;b\" ; \"Geïnteresseerd in\";;email", b';'),
            [
                Some("a;b"),
                Some("Geïnteresseerd in"),
                Some(""),
                Some("email")
            ]
        );
        assert_eq!(cells("email\tnaam", b'\t'), [Some("email"), Some("naam")]);
    }

    #[test]
    fn a_cell_after_a_quoted_line_break_has_no_place_on_the_line() {
        assert_eq!(
            cells("email,\"two\nlines\",name\n", b','),
            [Some("email"), Some("two"), None]
        );
    }

    #[test]
    fn header_cells_skip_a_bom_and_blank_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.csv");
        std::fs::write(&path, "\u{feff}\n\nemail_old;email\nx;y\n").unwrap();
        let places = header_cells(&path, 3, b';');
        assert_eq!(
            places,
            [
                Some(Place {
                    line: 3,
                    span: Span::new(0, 9)
                }),
                Some(Place {
                    line: 3,
                    span: Span::new(10, 15)
                })
            ]
        );
    }
}
