//! Batches: records as the reading thread hands them over, their text in
//! one buffer and their field ends in one list.

use encoding_rs::{CoderResult, WINDOWS_1252};

use super::InputError;
use crate::recipients::address::is_deliverable;
use crate::recipients::list_source::{self, ListSource};

/// Records per batch handed from the reading thread to the caller.
pub(super) const BATCH: usize = 1024;
/// A batch is handed over early when its text passes this size.
pub(super) const BATCH_TEXT: usize = 1 << 20;
/// Batches in use at most: two in the channel, one being filled, one being
/// read, one on its way back.
pub(super) const BATCHES: usize = 5;

/// Records as the reading thread hands them over: all their text in one
/// buffer and all their field ends in one list, so that the caller walks
/// three arrays in order (which the CPU fetches ahead) rather than a heap
/// allocation or three per record, and nothing is allocated once the
/// batches have grown to size. `end` is set on the last batch: the end of
/// the file, or the error that stopped the reading.
#[derive(Default)]
pub(super) struct Batch {
    /// The records' text: valid UTF-8, or decoded from Windows-1252.
    pub(super) text: String,
    /// Where each field ends in `text`, record after record. The parser
    /// writes into it, so it is kept at its full size: only the ends the
    /// records point at are in use.
    pub(super) ends: Vec<usize>,
    pub(super) records: Vec<RecordSpan>,
    pub(super) end: Option<Result<(), InputError>>,
}

/// The columns whose values the reading thread works something out for,
/// record by record, so that the judging thread finds it done.
#[derive(Clone, Copy, Debug, Default)]
pub(in crate::recipients) struct AheadColumns {
    /// The address column: its [`crate::recipients::address_hash`], and
    /// whether it [`is_deliverable`] (trimmed as `Row::get` trims it).
    pub(in crate::recipients) email: Option<usize>,
    /// The `list_source` column: its value [`list_source::classify`]d.
    pub(in crate::recipients) list_source: Option<usize>,
}

/// Where one record of a [`Batch`] is.
#[derive(Clone, Copy)]
pub(super) struct RecordSpan {
    pub(super) line: u64,
    /// Where its text starts in `text`.
    pub(super) start: u32,
    /// Its field ends: `ends[first_end..first_end + fields]`.
    pub(super) first_end: u32,
    pub(super) fields: u32,
    /// The delimiters are kept in `text` between the fields (see
    /// [`Parser::read_plain_line`]): a field starts one byte after the one
    /// before ends.
    pub(super) separators: bool,
    /// Not UTF-8: decoded from Windows-1252.
    pub(super) decoded: bool,
    /// The [`super::address_hash`] of the address column (`None`: none).
    pub(super) address_hash: Option<u64>,
    /// Whether that address [`is_deliverable`] (`None`: not worked out).
    pub(super) address_ok: Option<bool>,
    /// The list source column's value classified (`None`: not worked out).
    pub(super) list_source: Option<ListSource>,
}

impl Batch {
    #[inline]
    pub(super) fn clear(&mut self) {
        self.text.clear();
        self.records.clear();
        self.end = None;
    }

    #[inline]
    pub(super) fn record(&self, index: usize) -> Option<Record<'_>> {
        self.records.get(index).map(|span| self.span_record(span))
    }

    #[inline]
    pub(super) fn span_record(&self, span: &RecordSpan) -> Record<'_> {
        let first = span.first_end as usize;
        Record {
            text: &self.text,
            ends: &self.ends[first..first + span.fields as usize],
            start: span.start,
            gap: usize::from(span.separators),
        }
    }

    /// Makes the batch's text from `raw`, the records' bytes as parsed (the
    /// records' spans and ends point into it), and works out what
    /// `columns` asks of each record (see [`AheadColumns`]). A record's
    /// text is its bytes when every field is UTF-8, else they are decoded
    /// from Windows-1252. `input_utf8` says the input they were parsed
    /// from was valid UTF-8.
    pub(super) fn take_text(&mut self, raw: &[u8], input_utf8: bool, columns: AheadColumns) {
        // Usually the whole batch is UTF-8 and no field end splits a
        // character, which is exactly when every field is (what a check
        // field by field would ask): then it is one check and one copy,
        // and every offset stays as it is. When the input was UTF-8, no
        // field end can split a character: the parser only leaves out
        // ASCII bytes (delimiters, quotes, line ends), and a field ends
        // where it left one out or where the input ends.
        let whole = simdutf8::basic::from_utf8(raw)
            .ok()
            .filter(|_| input_utf8 || splits_no_character(raw, &self.ends, &self.records));
        match whole {
            Some(text) => self.text.push_str(text),
            None => self.decode_records(raw),
        }
        if let Some(column) = columns.email {
            for i in 0..self.records.len() {
                let span = self.records[i];
                let address = self.span_record(&span).get(column).unwrap_or("");
                // Trimmed as `Row::get` trims it: the judge's address.
                let address = crate::recipients::trim(address);
                let hash = crate::recipients::address_hash(address);
                // Here rather than in the judge: this thread has the
                // address in hand and less to do than the judging one.
                let ok = is_deliverable(address);
                self.records[i].address_hash = Some(hash);
                self.records[i].address_ok = Some(ok);
            }
        }
        // Both the judge and the `unknown-list-source` tally need it; this
        // thread has the time.
        if let Some(column) = columns.list_source {
            for i in 0..self.records.len() {
                let span = self.records[i];
                let value = self.span_record(&span).get(column).unwrap_or("");
                self.records[i].list_source = Some(list_source::classify(value));
            }
        }
    }

    /// Makes the text record by record: the bytes of those whose every
    /// field is UTF-8, the others decoded from Windows-1252; and moves the
    /// spans and ends from `raw` to the text.
    fn decode_records(&mut self, raw: &[u8]) {
        for span in &mut self.records {
            let first = span.first_end as usize;
            let ends = &mut self.ends[first..first + span.fields as usize];
            let raw_start = span.start as usize;
            let bytes = &raw[raw_start..ends.last().copied().unwrap_or(raw_start)];
            let start = self.text.len();
            let utf8 = std::str::from_utf8(bytes).ok().filter(|text| {
                ends.iter()
                    .all(|&end| text.is_char_boundary(end - raw_start))
            });
            match utf8 {
                Some(text) => {
                    self.text.push_str(text);
                    for end in ends {
                        *end = *end - raw_start + start;
                    }
                }
                None => {
                    // Field by field, the delimiters left out.
                    span.decoded = true;
                    let gap = usize::from(span.separators);
                    span.separators = false;
                    let mut field_start = raw_start;
                    for end in ends {
                        decode_windows_1252(&raw[field_start..*end], &mut self.text);
                        field_start = *end + gap;
                        *end = self.text.len();
                    }
                }
            }
            // Fits: a record is refused when its text could pass u32::MAX.
            span.start = start as u32;
        }
    }
}

/// True when no field of `records` (their ends in `ends`) ends inside a
/// character of `raw`, which is valid UTF-8: when the byte at each end
/// starts a character (or `raw` ends there).
fn splits_no_character(raw: &[u8], ends: &[usize], records: &[RecordSpan]) -> bool {
    let (Some(first), Some(last)) = (records.first(), records.last()) else {
        return true;
    };
    let in_use = &ends[first.first_end as usize..(last.first_end + last.fields) as usize];
    // All of them without stopping early: most batches pass.
    in_use.iter().fold(true, |whole, &end| {
        // A continuation byte is 0b10xx_xxxx, below -0x40 as an i8.
        whole & raw.get(end).is_none_or(|&byte| (byte as i8) >= -0x40)
    })
}

/// One record of a batch: its fields as text.
#[derive(Clone, Copy)]
pub(in crate::recipients) struct Record<'a> {
    pub(super) text: &'a str,
    pub(super) ends: &'a [usize],
    pub(super) start: u32,
    /// Bytes between one field's end and the next one's start: 1 where the
    /// delimiters are kept in `text`, else 0.
    pub(super) gap: usize,
}

impl<'a> Record<'a> {
    /// Field `index`, `None` when the record is shorter.
    pub(in crate::recipients) fn get(&self, index: usize) -> Option<&'a str> {
        let end = *self.ends.get(index)?;
        let start = match index {
            0 => self.start as usize,
            _ => self.ends[index - 1] + self.gap,
        };
        self.text.get(start..end)
    }

    /// Every field, in order.
    pub(in crate::recipients) fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let record = *self;
        (0..self.ends.len()).filter_map(move |i| record.get(i))
    }
}

/// Appends `bytes`, read as Windows-1252, to `out` (every byte maps to a
/// character, so nothing is lost or replaced).
pub(in crate::recipients) fn decode_windows_1252(bytes: &[u8], out: &mut String) {
    let mut decoder = WINDOWS_1252.new_decoder_without_bom_handling();
    let mut input = bytes;
    loop {
        let needed = decoder
            .max_utf8_buffer_length(input.len())
            .unwrap_or(input.len() * 3);
        out.reserve(needed);
        let (result, read, _) = decoder.decode_to_string(input, out, true);
        input = &input[read..];
        if result == CoderResult::InputEmpty {
            return;
        }
    }
}
