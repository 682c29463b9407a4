//! Where things are in the `.eml` file: byte offsets as line numbers, and
//! the lines of a decoded body part mapped back to the file's lines.

use crate::draft::{BodyPart, Draft};

/// How the lines of a decoded body part map back to lines of the `.eml`
/// file (quoted-printable soft line breaks join two file lines into one;
/// base64 lines have nothing to do with the text's).
#[derive(Clone, Debug)]
pub(crate) enum LineMap {
    /// Line `k` of the text is file line `start + k - 1`.
    Shifted(u64),
    /// Line `k` of the text starts on file line `table[k - 1]`.
    Table(Vec<u64>),
    /// Every line maps to this file line (the start of a base64 body).
    Fixed(u64),
}

impl LineMap {
    pub(crate) fn eml_line(&self, line_in_part: u64) -> u64 {
        let k = line_in_part.max(1);
        match self {
            LineMap::Shifted(start) => start + k - 1,
            LineMap::Fixed(line) => *line,
            LineMap::Table(table) => match table.get(k as usize - 1) {
                Some(&line) => line,
                // Past the table (not expected): continue from its end.
                None => table
                    .last()
                    .map_or(k, |&last| last + k - table.len() as u64),
            },
        }
    }
}

impl Draft {
    /// The `.eml` line of line `line_in_part` (1-based) of the decoded text
    /// of `parts[part]`. Quoted-printable soft line breaks are accounted
    /// for; a base64 body has no such correspondence, so any of its lines
    /// maps to the line where its body starts.
    pub fn eml_line(&self, part: usize, line_in_part: u64) -> u64 {
        match self.line_maps.get(part) {
            Some(map) => map.eml_line(line_in_part),
            None => line_in_part.max(1),
        }
    }

    pub(crate) fn line_map(&self, part: usize) -> LineMap {
        self.line_maps
            .get(part)
            .cloned()
            .unwrap_or(LineMap::Shifted(1))
    }
}

/// The [`LineMap`] of every part, from one pass that splits the file into
/// lines (split again for every part, a draft of 10,000 parts took seconds).
pub(super) fn line_maps(raw: &[u8], parts: &[BodyPart]) -> Vec<LineMap> {
    let lines: Vec<&[u8]> = raw.split(|&b| b == b'\n').collect();
    parts
        .iter()
        .map(|p| {
            let body = p.line as usize;
            match body_transfer_encoding(&lines, body).as_deref() {
                Some("base64") => LineMap::Fixed(p.line),
                Some("quoted-printable") => {
                    let wanted = p.text.split('\n').count();
                    let mut table = Vec::with_capacity(wanted);
                    let mut continued = false;
                    for (i, line) in lines.iter().enumerate().skip(body.saturating_sub(1)) {
                        if table.len() >= wanted {
                            break;
                        }
                        let eml = i as u64 + 1;
                        if !continued {
                            table.push(eml);
                        }
                        let line = trim_line_end(line).trim_ascii_end();
                        // An encoded line feed starts a text line mid-line.
                        let encoded_breaks = line
                            .windows(3)
                            .filter(|w| w.eq_ignore_ascii_case(b"=0a"))
                            .count();
                        table.extend(std::iter::repeat_n(eml, encoded_breaks));
                        continued = line.ends_with(b"=");
                    }
                    LineMap::Table(table)
                }
                _ => LineMap::Shifted(p.line),
            }
        })
        .collect()
}

/// The Content-Transfer-Encoding (lower case) of the body that starts on
/// 1-based line `body`, read from the header block just above it: the lines
/// between the empty line before the body and the boundary line (or the
/// start of the file).
fn body_transfer_encoding(lines: &[&[u8]], body: usize) -> Option<String> {
    let blank = body.checked_sub(2)?;
    for i in (0..blank).rev() {
        let line = trim_line_end(lines[i]);
        if line.is_empty() || line.starts_with(b"--") {
            break;
        }
        let Some(value) = line
            .get(..26)
            .filter(|name| name.eq_ignore_ascii_case(b"content-transfer-encoding:"))
            .map(|_| &line[26..])
        else {
            continue;
        };
        let mut value = String::from_utf8_lossy(value).trim().to_ascii_lowercase();
        if value.is_empty()
            && let Some(next) = lines.get(i + 1)
        {
            value = String::from_utf8_lossy(next).trim().to_ascii_lowercase();
        }
        return Some(value);
    }
    None
}

/// Maps byte offsets to 1-based line numbers.
pub(super) struct LineIndex {
    /// Offset of the first byte of every line after the first.
    starts: Vec<usize>,
}

impl LineIndex {
    pub(super) fn new(raw: &[u8]) -> LineIndex {
        let starts = raw
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .map(|(i, _)| i + 1)
            .collect();
        LineIndex { starts }
    }

    pub(super) fn line_of(&self, offset: usize) -> u64 {
        self.starts.partition_point(|&s| s <= offset) as u64 + 1
    }
}

/// The first offset at or after `offset` that does not start an empty line
/// (mail-parser's part offsets may point at the line break after a boundary).
pub(super) fn skip_blank_lines(raw: &[u8], mut offset: usize) -> usize {
    while offset < raw.len() && matches!(raw[offset], b'\r' | b'\n') {
        offset += 1;
    }
    offset
}

pub(super) fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}
