//! Reading a CSV for streaming, shared by the recipient and suppression
//! readers, one concern a file: opening it ([`open`]: is it text, which
//! delimiter), line ends ([`line_ends`]), driving `csv_core` with the quick
//! path for lines without quotes (here), batches of records ([`batch`]) and
//! the reading thread ([`read_ahead`]). In all: the BOM, a check that the file is text at all, delimiter
//! sniffing, line-ending normalisation, per-record UTF-8 with a Windows-1252
//! fallback, and the physical line each record starts on.

use std::fs::File;
use std::io::{self, Chain, Cursor, Read};
use std::path::{Path, PathBuf};

use csv_core::ReadRecordResult;

use super::InputError;
use crate::bytes::for_each_position;

mod batch;
mod line_ends;
mod open;
mod read_ahead;
#[cfg(test)]
mod tests;

pub(super) use batch::AheadColumns;
pub(super) use batch::Record;
#[cfg(test)]
use batch::decode_windows_1252;
use batch::{BATCH_TEXT, Batch, RecordSpan};
use line_ends::LineEnds;
use open::{check_is_text, io_error, sniff_delimiter};
pub(super) use read_ahead::ReadAhead;

/// How much of the file is read up front to check and sniff it.
const PREFIX_LEN: u64 = 16 * 1024;
/// The delimiters a list may use, in order of preference on a tie.
const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];
/// How many records the sniffer looks at.
const SNIFF_RECORDS: usize = 20;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// The parser's read buffer: larger than csv's 8 KiB default, so a long
/// list takes fewer reads (and fewer passes of [`LineEnds`]).
const READ_BUFFER: usize = 64 * 1024;
/// Room the records' raw text is grown by when the parser fills it.
const RAW_ROOM: usize = 64 * 1024;
/// Room the field ends are grown by when the parser fills them.
const ENDS_ROOM: usize = 1024;
/// The longest record read (see [`crate::limits::MAX_RECORD_BYTES`]).
const MAX_RECORD_BYTES: usize = crate::limits::MAX_RECORD_BYTES as usize;

type Stream = LineEnds<Chain<Cursor<Vec<u8>>, File>>;

/// A CSV file read record by record, straight into a [`Batch`].
pub(super) struct Records {
    path: PathBuf,
    parser: Parser,
    /// The raw bytes of the records being read into a batch, one after the
    /// other without delimiters or quotes, as the parser writes them. Reused
    /// from batch to batch; only its front is in use, the rest is room for
    /// the parser to write into.
    raw: Vec<u8>,
    /// The record [`Records::next`] read, as a batch of one.
    current: Batch,
    delimiter: u8,
    first_non_utf8_line: Option<u64>,
}

/// csv's own reader, taken apart: `csv_core` reading from [`LineEnds`]
/// through a buffer, with csv's settings (the sniffed delimiter, `"` quotes
/// escaped by doubling them, empty lines skipped; records of any length).
/// Driving `csv_core` here lets it write each record's text and field ends
/// straight into a batch, instead of into a `ByteRecord` that is then
/// walked and copied again — and lets a line without any quote, where CSV
/// is nothing but fields between delimiters, skip the parser's byte-by-byte
/// state machine ([`Parser::read_plain_line`]; a test compares every record
/// and line with csv's own reader).
struct Parser {
    core: csv_core::Reader,
    stream: Stream,
    buffer: Box<[u8]>,
    /// What of `buffer` is read and not yet parsed: `buffer[parsed..filled]`.
    parsed: usize,
    filled: usize,
    /// The parser found the end of the input, or reading failed.
    done: bool,
    /// The input has ended and the parser was handed the line break that
    /// [`Parser::read_record`] ends it with.
    line_break_added: bool,
    /// That line break went into a quoted field (see
    /// [`line_break_in_quotes`]): the record that the end of the input
    /// completes ends in a quoted field that was never closed (and the line
    /// break is the last byte of that field's text).
    ended_in_quotes: bool,
    delimiter: u8,
    /// Line breaks passed by [`Parser::read_plain_line`], beside the
    /// parser's own count.
    plain_lines: u64,
    /// Where in `buffer` the next `"` at or after `parsed` is (`filled`
    /// when there is none), once looked for in this buffer.
    next_quote: Option<usize>,
    /// The parser has been given input. Until then every line goes to it:
    /// csv_core drops a UTF-8 BOM from the start of the first input it is
    /// given (the file's own BOM is gone by then), and that must be the
    /// start of the file, not a later line that happens to begin with one.
    parser_used: bool,
    /// `buffer[..filled]` is valid UTF-8 on its own (no character cut off
    /// at either end).
    chunk_utf8: bool,
    /// Every chunk read since [`Parser::start_batch`] was valid UTF-8.
    input_utf8: bool,
}

impl Records {
    /// Opens `path` (described as `what` in messages, e.g. "recipient list").
    pub(super) fn open(path: &Path, what: &str) -> Result<Records, InputError> {
        Records::open_with_buffer(path, what, READ_BUFFER)
    }

    /// [`Records::open`] with a read buffer of `buffer` bytes (tests use
    /// tiny ones, so that lines and fields cross reads).
    fn open_with_buffer(path: &Path, what: &str, buffer: usize) -> Result<Records, InputError> {
        let mut file = File::open(path).map_err(|e| io_error(path, what, &e))?;
        let mut prefix = Vec::with_capacity(PREFIX_LEN as usize);
        (&mut file)
            .take(PREFIX_LEN)
            .read_to_end(&mut prefix)
            .map_err(|e| io_error(path, what, &e))?;
        if prefix.starts_with(UTF8_BOM) {
            prefix.drain(..UTF8_BOM.len());
        }
        check_is_text(path, what, &prefix)?;
        let delimiter = sniff_delimiter(&prefix);
        let core = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        Ok(Records {
            path: path.to_owned(),
            parser: Parser {
                core,
                stream: LineEnds::new(Cursor::new(prefix).chain(file)),
                buffer: vec![0; buffer].into_boxed_slice(),
                parsed: 0,
                filled: 0,
                done: false,
                line_break_added: false,
                ended_in_quotes: false,
                delimiter,
                plain_lines: 0,
                next_quote: None,
                parser_used: false,
                chunk_utf8: true,
                input_utf8: true,
            },
            raw: Vec::new(),
            current: Batch::default(),
            delimiter,
            first_non_utf8_line: None,
        })
    }

    /// The physical line the current record starts on (1-based).
    pub(super) fn line(&self) -> u64 {
        self.current.records.first().map_or(0, |r| r.line)
    }

    /// Number of fields in the current record.
    pub(super) fn len(&self) -> usize {
        self.current.record(0).map_or(0, |r| r.ends.len())
    }

    /// Field `index` of the current record, `""` when the record is shorter.
    pub(super) fn get(&self, index: usize) -> &str {
        self.current
            .record(0)
            .and_then(|r| r.get(index))
            .unwrap_or("")
    }

    /// Reads the next record that is not blank (empty, or only whitespace
    /// and delimiters, as Excel writes for empty rows). `Ok(false)` at the
    /// end of the file.
    pub(super) fn next(&mut self) -> Result<bool, InputError> {
        let mut current = std::mem::take(&mut self.current);
        self.fill(&mut current, 1, AheadColumns::default());
        let end = current.end.take();
        if let Some(record) = current.records.first()
            && record.decoded
        {
            self.first_non_utf8_line.get_or_insert(record.line);
        }
        self.current = current;
        match end {
            None => Ok(true),
            Some(Ok(())) => Ok(false),
            Some(Err(err)) => Err(err),
        }
    }

    /// Refills `batch` with up to `limit` records, noting in `batch.end`
    /// the end of the file or the error that stopped the reading, if either
    /// came first; `columns` says what to work out for each record.
    fn fill(&mut self, batch: &mut Batch, limit: usize, columns: AheadColumns) {
        batch.clear();
        self.parser.start_batch();
        let mut raw_len = 0;
        let mut ends_len = 0;
        let end = loop {
            if batch.records.len() >= limit || raw_len >= BATCH_TEXT {
                break None;
            }
            match self.read_raw(raw_len, &mut batch.ends, ends_len) {
                Ok(Some(span)) => {
                    ends_len += span.fields as usize;
                    if let Some(&end) = batch.ends[..ends_len].last() {
                        raw_len = end;
                    }
                    batch.records.push(span);
                }
                Ok(None) => break Some(Ok(())),
                Err(err) => break Some(Err(err)),
            }
        };
        batch.take_text(&self.raw[..raw_len], self.parser.input_utf8, columns);
        batch.end = end;
    }

    /// Parses the next record that is not blank onto `raw` at `raw_start`,
    /// its field ends onto `ends` at `first_end`, and notes its line.
    /// The ends come out as positions in `raw` (the [`RecordSpan`] says where
    /// its text starts in `raw`; [`Batch::take_text`] moves both to the
    /// batch's text). `Ok(None)` at the end of the file.
    fn read_raw(
        &mut self,
        raw_start: usize,
        ends: &mut Vec<usize>,
        first_end: usize,
    ) -> Result<Option<RecordSpan>, InputError> {
        loop {
            let line_before = self.parser.line();
            let parsed = self
                .parser
                .read_record(&mut self.raw, raw_start, ends, first_end);
            let (len, fields, separators) = match parsed {
                Ok(Some(sizes)) => sizes,
                Ok(None) => return Ok(None),
                Err(err) if err.get_ref().is_some_and(|e| e.is::<RecordTooLong>()) => {
                    return Err(InputError::new(
                        &self.path,
                        Some(line_before),
                        format!(
                            "the row starting on this line is longer than {}, far more than \
                             any list needs; is a quote left open (then the rest of the file \
                             is one value), or is this not a CSV file?",
                            crate::limits::megabytes(MAX_RECORD_BYTES as u64)
                        ),
                    ));
                }
                Err(err) => {
                    return Err(InputError::new(
                        &self.path,
                        Some(self.parser.line()),
                        format!("cannot read the file further: {err}"),
                    ));
                }
            };
            let text = &self.raw[raw_start..raw_start + len];
            let field_ends = &ends[first_end..first_end + fields];
            let unclosed = self.parser.ended_in_quotes;
            let line = self.parser.start_line(text, unclosed, line_before);
            self.parser
                .check_record(&self.path, text, field_ends, line, unclosed)?;
            let delimiter = self.parser.delimiter;
            let blank = |&b: &u8| b.is_ascii_whitespace() || (separators && b == delimiter);
            if text.iter().all(blank) {
                continue;
            }
            // Offsets in a batch are 32-bit, and decoding Windows-1252 may
            // triple the text.
            if (raw_start + len).saturating_mul(3) > u32::MAX as usize {
                return Err(InputError::new(
                    &self.path,
                    Some(line),
                    "this record is too large to read (gigabytes in one row)".to_owned(),
                ));
            }
            for end in &mut ends[first_end..first_end + fields] {
                *end += raw_start;
            }
            return Ok(Some(RecordSpan {
                line,
                start: raw_start as u32,
                first_end: first_end as u32,
                fields: fields as u32,
                separators,
                decoded: false,
                address_hash: None,
                address_ok: None,
                list_source: None,
            }));
        }
    }

    /// Hands the rest of the file to a thread that reads ahead of the
    /// caller (see [`ReadAhead`]), and also works out there what
    /// `columns` asks of each record: the address's hash and whether it
    /// [`is_deliverable`], the list source's classification. The current
    /// record is not carried over.
    pub(in crate::recipients) fn read_ahead(self, columns: AheadColumns) -> ReadAhead {
        ReadAhead::spawn(self, columns)
    }
}

/// [`Parser::read_record`]'s error for a record longer than
/// [`MAX_RECORD_BYTES`].
#[derive(Debug)]
struct RecordTooLong;

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a record longer than {MAX_RECORD_BYTES} bytes")
    }
}

impl std::error::Error for RecordTooLong {}

impl Parser {
    /// Starts noting whether the input that the records of a batch are
    /// parsed from is valid UTF-8 (they may begin in the chunk at hand).
    fn start_batch(&mut self) {
        self.input_utf8 = self.chunk_utf8;
    }

    /// Parses one record onto `raw` at `raw_start` and its field ends (as
    /// lengths from `raw_start`) onto `ends` at `first_end`, growing either
    /// when the parser fills it. Returns the record's length and number of
    /// fields, and whether the delimiters are kept between the fields (see
    /// [`Parser::read_plain_line`]); `Ok(None)` at the end of the input.
    ///
    /// When the input has ended, the parser is handed a line break before
    /// it is told so (with an empty input), as if the file ended with one:
    /// that ends the last record just as the end of the input would, or is
    /// a blank line, unless the record is in a quoted field that was never
    /// closed; then the line break goes into the field, and
    /// [`Parser::ended_in_quotes`] says so. (A copy of the parser cannot be
    /// asked instead: csv_core 0.1.13's `Reader::clone` leaves most of its
    /// tables behind, and the copy misreads everything.)
    fn read_record(
        &mut self,
        raw: &mut Vec<u8>,
        raw_start: usize,
        ends: &mut Vec<usize>,
        first_end: usize,
    ) -> io::Result<Option<(usize, usize, bool)>> {
        if self.done {
            return Ok(None);
        }
        let (mut len, mut fields) = (0, 0);
        // The parser has been given bytes of this record.
        let mut started = false;
        loop {
            // Read on only when everything read is parsed, as csv's
            // `BufReader` does.
            let mut at_end = false;
            if self.parsed == self.filled {
                self.parsed = 0;
                self.filled = 0;
                self.next_quote = None;
                match self.stream.read(&mut self.buffer) {
                    Ok(n) => {
                        self.filled = n;
                        at_end = n == 0;
                        self.chunk_utf8 = simdutf8::basic::from_utf8(&self.buffer[..n]).is_ok();
                        self.input_utf8 &= self.chunk_utf8;
                    }
                    Err(err) => {
                        self.done = true;
                        return Err(err);
                    }
                }
            }
            if !started && !at_end && self.parser_used {
                if let Some((len, fields)) = self.read_plain_line(raw, raw_start, ends, first_end) {
                    return Ok(Some((len, fields, true)));
                }
                // Blank lines skipped to the end of the buffer: read on
                // (empty input would tell the parser the file has ended).
                if self.parsed == self.filled {
                    continue;
                }
            }
            started = true;
            self.parser_used = true;
            if raw.len() <= raw_start + len {
                raw.resize(raw.len() + RAW_ROOM.max(raw.len()), 0);
            }
            if ends.len() <= first_end + fields {
                ends.resize(ends.len() + ENDS_ROOM.max(ends.len()), 0);
            }
            let add_line_break = at_end && !self.line_break_added;
            let input = if add_line_break {
                &b"\n"[..]
            } else {
                &self.buffer[self.parsed..self.filled]
            };
            // The ends csv_core writes count from where this record's
            // output began, across calls.
            let (result, read, written, ended) = self.core.read_record(
                input,
                &mut raw[raw_start + len..],
                &mut ends[first_end + fields..],
            );
            if add_line_break {
                self.line_break_added = read == 1;
                self.ended_in_quotes = line_break_in_quotes(&result, written);
            } else {
                self.parsed += read;
            }
            len += written;
            fields += ended;
            // Lines the fast path reads are shorter than its buffer; only
            // here can a record grow without end (a line that never
            // ends, a quote never closed): it stops at the limit.
            if len > MAX_RECORD_BYTES {
                self.done = true;
                return Err(io::Error::new(io::ErrorKind::InvalidData, RecordTooLong));
            }
            match result {
                ReadRecordResult::InputEmpty
                | ReadRecordResult::OutputFull
                | ReadRecordResult::OutputEndsFull => {}
                ReadRecordResult::Record => return Ok(Some((len, fields, false))),
                ReadRecordResult::End => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
    }

    /// The line the parser is on: the line breaks it passed and those
    /// [`Parser::read_plain_line`] passed.
    fn line(&self) -> u64 {
        self.core.line() + self.plain_lines
    }

    /// Reads the next line in the buffer past the parser when the line is
    /// there whole and holds no `"`, as nearly every line of a list does:
    /// then it is its fields between delimiters, and finding the line's
    /// end (memchr) and its delimiters (eight bytes at a time) costs a
    /// fraction of what the parser's state machine does, byte by byte. The line is copied onto
    /// `raw` at `raw_start` as it is, delimiters and all, and the field
    /// ends (relative to `raw_start`) go onto `ends` at `first_end`, each
    /// field starting one byte (its delimiter) after the one before ends.
    /// Blank lines are skipped, as the parser skips them. `None` (and
    /// nothing read) when the next line is not whole in the buffer or holds
    /// a quote: then the parser reads the record. Called only at the start
    /// of a record, where the parser would start one too, so that it can
    /// carry on after any line read here.
    fn read_plain_line(
        &mut self,
        raw: &mut Vec<u8>,
        raw_start: usize,
        ends: &mut Vec<usize>,
        first_end: usize,
    ) -> Option<(usize, usize)> {
        loop {
            let start = self.parsed;
            let line_len = memchr::memchr(b'\n', &self.buffer[start..self.filled])?;
            let next_quote = match self.next_quote {
                Some(quote) if quote >= start => quote,
                _ => {
                    let rest = &self.buffer[start..self.filled];
                    let quote = memchr::memchr(b'"', rest).map_or(self.filled, |q| start + q);
                    self.next_quote = Some(quote);
                    quote
                }
            };
            if next_quote < start + line_len {
                return None;
            }
            self.parsed = start + line_len + 1;
            self.plain_lines += 1;
            if line_len == 0 {
                continue;
            }
            let line = &self.buffer[start..start + line_len];
            if raw.len() < raw_start + line_len {
                raw.resize(raw_start + line_len + RAW_ROOM.max(raw.len()), 0);
            }
            raw[raw_start..raw_start + line_len].copy_from_slice(line);
            // A line of n bytes has at most n + 1 fields.
            if ends.len() <= first_end + line_len {
                ends.resize(first_end + line_len + 1 + ENDS_ROOM.max(ends.len()), 0);
            }
            let ends = &mut ends[first_end..];
            let mut fields = 0;
            for_each_position(line, self.delimiter, |at| {
                ends[fields] = at;
                fields += 1;
            });
            ends[fields] = line_len;
            return Some((line_len, fields + 1));
        }
    }

    /// The physical line the record just parsed (`text`) started on, given
    /// the line the parser was on before it. The parser counts every `\n`
    /// it passes (line endings are normalised to `\n`, see [`LineEnds`]):
    /// the blank lines it skipped before the record, those inside it, and
    /// its terminator. Every record has one (the last one perhaps the line
    /// break [`Parser::read_record`] adds), except one `unclosed`: its last
    /// `\n` is inside the open quote.
    fn start_line(&self, text: &[u8], unclosed: bool, line_before: u64) -> u64 {
        let end_line = self.line();
        let terminated = !unclosed;
        // Nearly every record is one line, and then one `\n` was passed:
        // no need to look for others.
        if terminated && end_line == line_before + 1 {
            return line_before;
        }
        let inside = count_newlines(text);
        end_line
            .saturating_sub(inside + u64::from(terminated))
            .max(1)
    }

    /// Refuses binary data and a quote that was never closed, in the record
    /// just parsed (`text`, its fields ending at `ends`) that starts on `line`.
    fn check_record(
        &self,
        path: &Path,
        text: &[u8],
        ends: &[usize],
        line: u64,
        unclosed: bool,
    ) -> Result<(), InputError> {
        if self.stream.saw_nul && text.contains(&0) {
            return Err(InputError::new(
                path,
                Some(line),
                "this line holds binary data (a NUL byte): the file is not a CSV text file, \
                 or it is damaged; export the list as CSV again"
                    .to_owned(),
            ));
        }
        if unclosed {
            let before_last = &text[..text.len() - last_field(text, ends).len()];
            let opened = line + count_newlines(before_last);
            return Err(InputError::new(
                path,
                Some(opened),
                "a quoted field opened on this line is never closed, so the rest of the file \
                 would be read as one value; add the missing closing `\"` (a `\"` inside a \
                 quoted value is written `\"\"`)"
                    .to_owned(),
            ));
        }
        Ok(())
    }
}

/// True when the line break [`Parser::read_record`] hands the parser at
/// the end of the input went into a quoted field that was never closed,
/// given what the parser made of it: `result`, having `written` bytes.
///
/// By csv_core's states, with mailgate's settings (`"` quotes, doubled to
/// escape one, no escape byte, no comments, and `\n` the only line break
/// that reaches it): in a quoted field, the line break is part of the field
/// (written, and the record goes on: `InputEmpty`). After a quoted field's
/// closing `"` (the input ended there, so no second `"` makes it a doubled
/// one), with or without text after it, in an unquoted field, and at the
/// start of a field, it ends the record (`Record`), with the same field
/// ends as the end of the input would. At the start of a record (after a
/// last line break, or blank lines) it is one more blank line, skipped
/// (`InputEmpty`, nothing written).
fn line_break_in_quotes(result: &ReadRecordResult, written: usize) -> bool {
    matches!(result, ReadRecordResult::InputEmpty) && written > 0
}

/// The last field of `text`, whose fields end at `ends`.
fn last_field<'a>(text: &'a [u8], ends: &[usize]) -> &'a [u8] {
    match ends {
        [] => &[],
        [last] => &text[..*last],
        [.., before, last] => &text[*before..*last],
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    // Nearly every record has none: one quick search says so.
    match memchr::memchr(b'\n', bytes) {
        None => 0,
        Some(first) => memchr::memchr_iter(b'\n', &bytes[first..]).count() as u64,
    }
}
