//! Opening a CSV for streaming, shared by the recipient and suppression
//! readers: the BOM, a check that the file is text at all, delimiter
//! sniffing, line-ending normalisation, per-record UTF-8 with a Windows-1252
//! fallback, and the physical line each record starts on.

use std::fs::File;
use std::io::{self, Chain, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use csv_core::ReadRecordResult;
use encoding_rs::{CoderResult, WINDOWS_1252};

use super::InputError;
use super::address::is_deliverable;

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
        self.fill(&mut current, 1, None);
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
    /// came first; `email_column` says which field's address to hash.
    fn fill(&mut self, batch: &mut Batch, limit: usize, email_column: Option<usize>) {
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
        batch.take_text(&self.raw[..raw_len], self.parser.input_utf8, email_column);
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
            }));
        }
    }

    /// Hands the rest of the file to a thread that reads ahead of the
    /// caller (see [`ReadAhead`]), and also hashes the address in
    /// `email_column` of each record there and checks that it
    /// [`is_deliverable`]. The current record is not
    /// carried over.
    pub(super) fn read_ahead(self, email_column: Option<usize>) -> ReadAhead {
        ReadAhead::spawn(self, email_column)
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

/// Calls `f` with each position of `byte` in `bytes`, in order. Eight
/// bytes at a time: the delimiters of a line are a byte in ten, too many
/// for a search that starts over after each (`memchr_iter` took more
/// instructions than the rest of the line's reading). (Gathering a mask of
/// 64 bytes first, to loop once per 64, took more instructions and no
/// less time.)
fn for_each_position(bytes: &[u8], byte: u8, mut f: impl FnMut(usize)) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW_SEVENS: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let splat = ONES * u64::from(byte);
    let (words, rest) = bytes.as_chunks::<8>();
    for (i, word) in words.iter().enumerate() {
        // The lanes equal to `byte` are zero in `x`; a lane's high bit ends
        // up set exactly when it is zero (adding 0x7f to its low seven bits
        // carries into no other lane).
        let x = u64::from_le_bytes(*word) ^ splat;
        let mut found = !(((x & LOW_SEVENS) + LOW_SEVENS) | x | LOW_SEVENS);
        while found != 0 {
            f(i * 8 + found.trailing_zeros() as usize / 8);
            found &= found - 1;
        }
    }
    let offset = bytes.len() - rest.len();
    for (i, &b) in rest.iter().enumerate() {
        if b == byte {
            f(offset + i);
        }
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

/// Records per batch handed from the reading thread to the caller.
const BATCH: usize = 1024;
/// A batch is handed over early when its text passes this size.
const BATCH_TEXT: usize = 1 << 20;
/// Batches in use at most: two in the channel, one being filled, one being
/// read, one on its way back.
const BATCHES: usize = 5;

/// Records as the reading thread hands them over: all their text in one
/// buffer and all their field ends in one list, so that the caller walks
/// three arrays in order (which the CPU fetches ahead) rather than a heap
/// allocation or three per record, and nothing is allocated once the
/// batches have grown to size. `end` is set on the last batch: the end of
/// the file, or the error that stopped the reading.
#[derive(Default)]
struct Batch {
    /// The records' text: valid UTF-8, or decoded from Windows-1252.
    text: String,
    /// Where each field ends in `text`, record after record. The parser
    /// writes into it, so it is kept at its full size: only the ends the
    /// records point at are in use.
    ends: Vec<usize>,
    records: Vec<RecordSpan>,
    end: Option<Result<(), InputError>>,
}

/// Where one record of a [`Batch`] is.
#[derive(Clone, Copy)]
struct RecordSpan {
    line: u64,
    /// Where its text starts in `text`.
    start: u32,
    /// Its field ends: `ends[first_end..first_end + fields]`.
    first_end: u32,
    fields: u32,
    /// The delimiters are kept in `text` between the fields (see
    /// [`Parser::read_plain_line`]): a field starts one byte after the one
    /// before ends.
    separators: bool,
    /// Not UTF-8: decoded from Windows-1252.
    decoded: bool,
    /// The [`super::address_hash`] of the address column (`None`: none).
    address_hash: Option<u64>,
    /// Whether that address [`is_deliverable`] (`None`: not worked out).
    address_ok: Option<bool>,
}

impl Batch {
    fn clear(&mut self) {
        self.text.clear();
        self.records.clear();
        self.end = None;
    }

    fn record(&self, index: usize) -> Option<Record<'_>> {
        self.records.get(index).map(|span| self.span_record(span))
    }

    fn span_record(&self, span: &RecordSpan) -> Record<'_> {
        let first = span.first_end as usize;
        Record {
            text: &self.text,
            ends: &self.ends[first..first + span.fields as usize],
            start: span.start,
            gap: usize::from(span.separators),
        }
    }

    /// Makes the batch's text from `raw`, the records' bytes as parsed (the
    /// records' spans and ends point into it), and hashes the address in
    /// `email_column` of each record and checks that it is deliverable. A record's text is its bytes when
    /// every field is UTF-8, else they are decoded from Windows-1252.
    /// `input_utf8` says the input they were parsed from was valid UTF-8.
    fn take_text(&mut self, raw: &[u8], input_utf8: bool, email_column: Option<usize>) {
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
        if let Some(column) = email_column {
            for i in 0..self.records.len() {
                let span = self.records[i];
                let address = self.span_record(&span).get(column).unwrap_or("");
                // Trimmed as `Row::get` trims it: the judge's address.
                let address = super::trim(address);
                let hash = super::address_hash(address);
                // Here rather than in the judge: this thread has the
                // address in hand and less to do than the judging one.
                let ok = is_deliverable(address);
                self.records[i].address_hash = Some(hash);
                self.records[i].address_ok = Some(ok);
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
pub(super) struct Record<'a> {
    text: &'a str,
    ends: &'a [usize],
    start: u32,
    /// Bytes between one field's end and the next one's start: 1 where the
    /// delimiters are kept in `text`, else 0.
    gap: usize,
}

impl<'a> Record<'a> {
    /// Field `index`, `None` when the record is shorter.
    pub(super) fn get(&self, index: usize) -> Option<&'a str> {
        let end = *self.ends.get(index)?;
        let start = match index {
            0 => self.start as usize,
            _ => self.ends[index - 1] + self.gap,
        };
        self.text.get(start..end)
    }

    /// Every field, in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let record = *self;
        (0..self.ends.len()).filter_map(move |i| record.get(i))
    }
}

/// [`Records`] read on a second thread, so that parsing the CSV (the csv
/// crate, line endings, UTF-8 checks) runs beside whatever the caller does
/// with each record: a two-stage pipeline on two cores.
///
/// Records come over in [`Batch`]es of [`BATCH`] through a channel of two
/// batches, so the reader runs at most a few thousand records ahead and
/// memory stays small; spent batches go back to be refilled. What the
/// caller sees is exactly what [`Records`] gives: the same records, lines
/// and errors, in the same order — an error comes after every record before
/// it.
pub(super) struct ReadAhead {
    path: PathBuf,
    delimiter: u8,
    batches: Receiver<Batch>,
    spent: SyncSender<Batch>,
    thread: Option<JoinHandle<()>>,
    batch: Batch,
    /// Index in `batch` of the current record.
    position: usize,
    /// The end of the file or an error, once the last batch is reached.
    end: Option<Result<(), InputError>>,
    first_non_utf8_line: Option<u64>,
}

impl ReadAhead {
    fn spawn(mut records: Records, email_column: Option<usize>) -> ReadAhead {
        let (full_tx, full_rx) = mpsc::sync_channel::<Batch>(2);
        let (spent_tx, spent_rx) = mpsc::sync_channel::<Batch>(BATCHES);
        let path = records.path.clone();
        let delimiter = records.delimiter;
        let first_non_utf8_line = records.first_non_utf8_line;
        records.current = Batch::default();
        let thread = std::thread::Builder::new()
            .name("mailgate-csv".to_owned())
            .spawn(move || {
                let mut batches = 0;
                loop {
                    // A new batch while fewer than BATCHES exist, then only
                    // spent ones, so that their buffers are reused.
                    let mut batch = match spent_rx.try_recv() {
                        Ok(batch) => batch,
                        Err(_) if batches < BATCHES => {
                            batches += 1;
                            Batch::default()
                        }
                        Err(_) => match spent_rx.recv() {
                            Ok(batch) => batch,
                            // The caller stopped reading.
                            Err(_) => return,
                        },
                    };
                    records.fill(&mut batch, BATCH, email_column);
                    let last = batch.end.is_some();
                    // The receiver is gone when the caller stopped reading.
                    if full_tx.send(batch).is_err() || last {
                        return;
                    }
                }
            });
        let (batches, thread) = match thread {
            Ok(thread) => (full_rx, Some(thread)),
            Err(err) => {
                // No thread to be had: report it as the reading error it is.
                let (tx, rx) = mpsc::sync_channel(1);
                let _ = tx.send(Batch {
                    end: Some(Err(InputError::new(
                        &path,
                        None,
                        format!("cannot start a thread to read the file: {err}"),
                    ))),
                    ..Batch::default()
                });
                (rx, None)
            }
        };
        ReadAhead {
            path,
            delimiter,
            batches,
            spent: spent_tx,
            thread,
            batch: Batch::default(),
            position: 0,
            end: None,
            first_non_utf8_line,
        }
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// The physical line the current record starts on (1-based).
    pub(super) fn line(&self) -> u64 {
        self.batch.records.get(self.position).map_or(0, |r| r.line)
    }

    /// The physical line of the first record (the header included) that
    /// was not valid UTF-8 and was decoded as Windows-1252, among those the
    /// caller has reached.
    pub(super) fn first_non_utf8_line(&self) -> Option<u64> {
        self.first_non_utf8_line
    }

    /// True when the current record was not UTF-8 and was decoded as
    /// Windows-1252.
    pub(super) fn is_decoded(&self) -> bool {
        self.batch
            .records
            .get(self.position)
            .is_some_and(|r| r.decoded)
    }

    /// The current record (`None` before the first and after the last).
    pub(super) fn record(&self) -> Option<Record<'_>> {
        self.batch.record(self.position)
    }

    /// The address hash of the current record (see [`Records::read_ahead`]).
    pub(super) fn address_hash(&self) -> Option<u64> {
        self.batch.records.get(self.position)?.address_hash
    }

    /// Whether the address of the current record [`is_deliverable`], as
    /// worked out on the reading thread; `None` when it was not (no
    /// address column).
    pub(super) fn address_ok(&self) -> Option<bool> {
        self.batch.records.get(self.position)?.address_ok
    }

    /// The address hashes of the records already read after the current
    /// one, in order (some or none of the rest of the file).
    pub(super) fn hashes_ahead(&self) -> impl Iterator<Item = u64> {
        let ahead = self.batch.records.get(self.position + 1..);
        ahead
            .unwrap_or_default()
            .iter()
            .filter_map(|span| span.address_hash)
    }

    /// Number of fields in the current record.
    pub(super) fn len(&self) -> usize {
        self.batch
            .records
            .get(self.position)
            .map_or(0, |span| span.fields as usize)
    }

    /// Field `index` of the current record, `""` when the record is shorter.
    pub(super) fn get(&self, index: usize) -> &str {
        self.record().and_then(|r| r.get(index)).unwrap_or("")
    }

    /// Moves to the next record, as [`Records::next`] does.
    pub(super) fn next(&mut self) -> Result<bool, InputError> {
        self.position += 1;
        while self.position >= self.batch.records.len() {
            match self.end.take() {
                Some(Ok(())) => {
                    self.end = Some(Ok(()));
                    return Ok(false);
                }
                Some(Err(err)) => {
                    // Stay at the end afterwards.
                    self.end = Some(Ok(()));
                    return Err(err);
                }
                None => {}
            }
            let mut batch = match self.batches.recv() {
                Ok(batch) => batch,
                Err(_) => self.reader_died(),
            };
            self.end = batch.end.take();
            let spent = std::mem::replace(&mut self.batch, batch);
            // The reading thread may be gone already; then nobody needs it.
            let _ = self.spent.try_send(spent);
            self.position = 0;
        }
        let record = self.batch.records[self.position];
        if record.decoded {
            self.first_non_utf8_line.get_or_insert(record.line);
        }
        Ok(true)
    }

    /// The reading thread hung up without saying why: it panicked. Pass the
    /// panic on, as if it had happened here.
    fn reader_died(&mut self) -> ! {
        if let Some(thread) = self.thread.take()
            && let Err(panic) = thread.join()
        {
            std::panic::resume_unwind(panic);
        }
        panic!("the CSV reading thread stopped without reporting the end of the file");
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    // Nearly every record has none: one quick search says so.
    match memchr::memchr(b'\n', bytes) {
        None => 0,
        Some(first) => memchr::memchr_iter(b'\n', &bytes[first..]).count() as u64,
    }
}

/// Appends `bytes`, read as Windows-1252, to `out` (every byte maps to a
/// character, so nothing is lost or replaced).
pub(super) fn decode_windows_1252(bytes: &[u8], out: &mut String) {
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

fn io_error(path: &Path, what: &str, err: &io::Error) -> InputError {
    let message = match err.kind() {
        io::ErrorKind::NotFound => format!(
            "cannot open the {what}: no such file; check the path (paths in a campaign \
             file are relative to that file)"
        ),
        io::ErrorKind::PermissionDenied => {
            format!("cannot open the {what}: permission denied; check the file's permissions")
        }
        io::ErrorKind::IsADirectory => {
            format!("the {what} is a directory, not a CSV file; name the CSV file itself")
        }
        _ => format!("cannot read the {what}: {err}"),
    };
    InputError::new(path, None, message)
}

/// Refuses files that are plainly not CSV text: workbooks, UTF-16, binary.
fn check_is_text(path: &Path, what: &str, prefix: &[u8]) -> Result<(), InputError> {
    const SAVE_AS: &str = "open it in Excel (or LibreOffice) and save it as \"CSV UTF-8\"";
    let refuse = |line: Option<u64>, why: String| Err(InputError::new(path, line, why));
    if prefix.starts_with(b"PK\x03\x04") {
        return refuse(
            None,
            format!("the {what} is a ZIP archive (an .xlsx workbook?), not a CSV file; {SAVE_AS}"),
        );
    }
    if prefix.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        return refuse(
            None,
            format!("the {what} is an Excel .xls workbook, not a CSV file; {SAVE_AS}"),
        );
    }
    let nuls = prefix.iter().filter(|&&b| b == 0).count();
    if prefix.starts_with(b"\xFF\xFE") || prefix.starts_with(b"\xFE\xFF") || nuls * 3 > prefix.len()
    {
        return refuse(
            None,
            format!(
                "the {what} is UTF-16 text (Excel's \"Unicode text\"?) or binary, not a CSV \
                 file; {SAVE_AS}"
            ),
        );
    }
    if let Some(at) = prefix.iter().position(|&b| b == 0) {
        let line = count_newlines(&prefix[..at]) + 1;
        return refuse(
            Some(line),
            format!("the {what} is not a CSV file: it holds binary data (a NUL byte); {SAVE_AS}"),
        );
    }
    // Text has next to no control characters besides tab and line breaks
    // (form feed and DOS's end-of-file mark turn up in old exports).
    let controls = prefix
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A)) || b == 0x7F)
        .count();
    if controls * 50 > prefix.len() {
        return refuse(
            None,
            format!(
                "the {what} is not a CSV file: it is mostly binary data (control characters); \
                 {SAVE_AS}"
            ),
        );
    }
    Ok(())
}

/// Picks the delimiter among `,` `;` and tab: the one the header line uses
/// most often outside quotes; on a tie, the one the following records use
/// the same number of times; then `,` over `;` over tab. A one-column file
/// (no delimiter at all) gets `,`.
pub(super) fn sniff_delimiter(prefix: &[u8]) -> u8 {
    let mut records: Vec<[usize; 3]> = Vec::new();
    let mut counts = [0; 3];
    let mut in_quotes = false;
    let mut blank = true;
    for &byte in prefix {
        match byte {
            b'"' => {
                in_quotes = !in_quotes;
                blank = false;
            }
            b'\n' | b'\r' if !in_quotes => {
                if !blank {
                    records.push(counts);
                    if records.len() == SNIFF_RECORDS {
                        break;
                    }
                }
                counts = [0; 3];
                blank = true;
            }
            _ => {
                if let Some(i) = DELIMITERS.iter().position(|&d| d == byte) {
                    if !in_quotes {
                        counts[i] += 1;
                    }
                    blank = false;
                } else if !byte.is_ascii_whitespace() {
                    blank = false;
                }
            }
        }
    }
    if records.is_empty() && !blank {
        // The whole prefix is one (header) line.
        records.push(counts);
    }
    let Some((header, rows)) = records.split_first() else {
        return DELIMITERS[0];
    };
    let score = |i: usize| {
        let consistent = rows.iter().filter(|row| row[i] == header[i]).count();
        (header[i], consistent)
    };
    let mut best = 0;
    for i in 1..DELIMITERS.len() {
        if score(i) > score(best) {
            best = i;
        }
    }
    if header[best] == 0 {
        DELIMITERS[0]
    } else {
        DELIMITERS[best]
    }
}

/// Normalises line endings to `\n` (`\r\n` and a lone `\r`, as old Mac
/// Excel writes, both become one `\n`), so that counting `\n` gives the
/// physical line; and notes whether the stream held a NUL byte, which the
/// record checks look for.
struct LineEnds<R> {
    inner: R,
    after_cr: bool,
    saw_nul: bool,
}

impl<R> LineEnds<R> {
    fn new(inner: R) -> Self {
        LineEnds {
            inner,
            after_cr: false,
            saw_nul: false,
        }
    }
}

impl<R: Read> Read for LineEnds<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            // The common case: nothing to normalise and no NUL, so the chunk
            // passes as it is.
            if !self.after_cr && memchr::memchr2(b'\r', 0, &buf[..n]).is_none() {
                return Ok(n);
            }
            let mut out = 0;
            for i in 0..n {
                let byte = buf[i];
                if byte == b'\n' && self.after_cr {
                    self.after_cr = false;
                    continue;
                }
                self.after_cr = byte == b'\r';
                let byte = if byte == b'\r' { b'\n' } else { byte };
                self.saw_nul |= byte == 0;
                buf[out] = byte;
                out += 1;
            }
            // A read that was only the `\n` of a `\r\n` split across reads
            // yields nothing; 0 would mean end of file, so read on.
            if out > 0 {
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_semicolon_of_dutch_excel() {
        let text = b"email;naam;bedrag\njan@example.nl;Jan;12,50\n";
        assert_eq!(sniff_delimiter(text), b';');
    }

    #[test]
    fn sniffs_tab() {
        assert_eq!(sniff_delimiter(b"email\tname\na@b.nl\tA\n"), b'\t');
    }

    #[test]
    fn sniff_ignores_delimiters_inside_quotes() {
        let text = b"\"email;x;y\",name\na@b.nl,A\n";
        assert_eq!(sniff_delimiter(text), b',');
    }

    #[test]
    fn sniff_breaks_ties_by_consistency() {
        // One of each in the header; the rows agree with `;` only.
        let text = b"e,f;g\n1,2;3,4\n5,6;7,8\n";
        assert_eq!(sniff_delimiter(text), b';');
        // Both agree: the preference order decides.
        assert_eq!(sniff_delimiter(b"e,f;g\n1,2;3\n"), b',');
    }

    #[test]
    fn one_column_defaults_to_comma() {
        assert_eq!(sniff_delimiter(b"email\na@b.nl\n"), b',');
        assert_eq!(sniff_delimiter(b""), b',');
    }

    #[test]
    fn line_ends_normalises_crlf_and_lone_cr_across_reads() {
        // One byte at a time, so a `\r\n` is split across reads.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let Some((&first, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                buf[0] = first;
                self.0 = rest;
                Ok(1)
            }
        }
        let mut out = Vec::new();
        let mut stream = LineEnds::new(Trickle(b"a\r\nb\rc\n\"d\"  \r\n"));
        stream.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"a\nb\nc\n\"d\"  \n");
    }

    #[test]
    fn line_ends_passes_clean_chunks_through_and_notes_a_nul() {
        // Chunks of several bytes: clean ones take the fast path, one that
        // follows a chunk ending in `\r` does not.
        struct Chunks<'a>(Vec<&'a [u8]>);
        impl Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Ok(0);
                }
                let chunk = self.0[0];
                let n = chunk.len().min(buf.len());
                buf[..n].copy_from_slice(&chunk[..n]);
                if n == chunk.len() {
                    self.0.remove(0);
                } else {
                    self.0[0] = &chunk[n..];
                }
                Ok(n)
            }
        }
        let mut stream = LineEnds::new(Chunks(vec![b"a,b\n\"c\"  \n", b"d\r", b"\ne,f\n  "]));
        let mut out = Vec::new();
        stream.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"a,b\n\"c\"  \nd\ne,f\n  ");
        assert!(!stream.saw_nul);

        let mut stream = LineEnds::new(Chunks(vec![b"a\n\"b\"\n", b"c\0d\n"]));
        let mut out = Vec::new();
        stream.read_to_end(&mut out).unwrap();
        assert!(stream.saw_nul);
    }

    /// Every record of `bytes` as a file: its line, fields and whether it
    /// was decoded, read one by one with [`Records::next`] and also through
    /// [`ReadAhead`]'s batches; both must agree.
    fn read_all(bytes: &[u8]) -> Vec<(u64, Vec<String>, bool)> {
        read_all_with_buffer(bytes, READ_BUFFER).unwrap()
    }

    /// [`read_all`] with a read buffer of `buffer` bytes; the error that
    /// stopped the reading, if one did.
    fn read_all_with_buffer(
        bytes: &[u8],
        buffer: usize,
    ) -> Result<Vec<(u64, Vec<String>, bool)>, InputError> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, bytes).unwrap();
        let open = || Records::open_with_buffer(file.path(), "test list", buffer);
        let mut records = open()?;
        let mut one_by_one = Vec::new();
        while records.next()? {
            let fields = (0..records.len()).map(|i| records.get(i).to_owned());
            let decoded = records.current.records[0].decoded;
            one_by_one.push((records.line(), fields.collect(), decoded));
        }
        let mut records = open()?;
        if !records.next()? {
            return Ok(one_by_one);
        }
        let mut ahead = records.read_ahead(Some(0));
        let mut batched = vec![one_by_one[0].clone()];
        while ahead.next().unwrap() {
            let record = ahead.record().unwrap();
            let fields = record.iter().map(str::to_owned).collect::<Vec<_>>();
            let address = fields.first().map_or("", |f| f.as_str());
            assert_eq!(
                ahead.address_hash(),
                Some(crate::recipients::address_hash(address.trim()))
            );
            assert_eq!(
                ahead.address_ok(),
                Some(is_deliverable(address.trim())),
                "{address:?}"
            );
            batched.push((ahead.line(), fields, ahead.is_decoded()));
        }
        assert!(one_by_one == batched, "one by one and in batches differ");
        Ok(one_by_one)
    }

    /// What csv's own reader makes of `bytes` as [`Records`] reads them:
    /// line endings normalised, the delimiter given, records of any length,
    /// blank ones (only whitespace) left out, and a record whose fields are
    /// not all UTF-8 decoded as Windows-1252.
    fn read_as_csv_does(bytes: &[u8], delimiter: u8) -> Vec<(u64, Vec<String>, bool)> {
        let mut normalised = Vec::new();
        LineEnds::new(bytes).read_to_end(&mut normalised).unwrap();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(normalised.as_slice());
        let mut records = Vec::new();
        let mut record = csv::ByteRecord::new();
        while reader.read_byte_record(&mut record).unwrap() {
            if record.iter().flatten().all(u8::is_ascii_whitespace) {
                continue;
            }
            // csv notes where it started reading the record, before the
            // blank lines it skipped; the record starts after them.
            let position = record.position().unwrap();
            let blank_lines = normalised[position.byte() as usize..]
                .iter()
                .take_while(|&&b| b == b'\n')
                .count();
            let line = position.line() + blank_lines as u64;
            let utf8: Option<Vec<String>> = record
                .iter()
                .map(|f| std::str::from_utf8(f).ok().map(str::to_owned))
                .collect();
            let decoded = utf8.is_none();
            let fields = utf8.unwrap_or_else(|| {
                record
                    .iter()
                    .map(|f| {
                        let mut text = String::new();
                        decode_windows_1252(f, &mut text);
                        text
                    })
                    .collect()
            });
            records.push((line, fields, decoded));
        }
        records
    }

    /// Where a quoted field opened that `normalised` (line endings made
    /// `\n`) ends inside, if it does: the line it opened on. Written from
    /// RFC 4180 with csv's leniencies (a quote inside an unquoted field is
    /// text; text may follow a closing quote), apart from the reader.
    fn open_quote_at_end(normalised: &[u8], delimiter: u8) -> Option<u64> {
        #[derive(PartialEq)]
        enum State {
            FieldStart,
            Unquoted,
            Quoted,
            QuoteInQuoted,
        }
        let (mut state, mut line, mut opened) = (State::FieldStart, 1, 0);
        for &b in normalised {
            let ends_field = b == delimiter || b == b'\n';
            state = match state {
                State::FieldStart if b == b'"' => {
                    opened = line;
                    State::Quoted
                }
                State::FieldStart | State::Unquoted | State::QuoteInQuoted if ends_field => {
                    State::FieldStart
                }
                State::Quoted if b == b'"' => State::QuoteInQuoted,
                State::Quoted => State::Quoted,
                State::QuoteInQuoted if b == b'"' => State::Quoted,
                _ => State::Unquoted,
            };
            line += u64::from(b == b'\n');
        }
        (state == State::Quoted).then_some(opened)
    }

    /// Reads one random list as the reader and as csv do, and checks that
    /// they agree, or that the reader's error is the right one. Returns
    /// whether the list was read (not refused).
    fn check_against_csv(bytes: &[u8], buffer: usize) -> bool {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, bytes).unwrap();
        let Ok(records) = Records::open(file.path(), "test list") else {
            // Refused as binary from its first bytes.
            return false;
        };
        let delimiter = records.delimiter;
        let mut normalised = Vec::new();
        let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
        LineEnds::new(body).read_to_end(&mut normalised).unwrap();
        let show = || format!("{:?} (buffer {buffer})", String::from_utf8_lossy(bytes));
        match read_all_with_buffer(bytes, buffer) {
            Ok(ours) => {
                assert_eq!(
                    open_quote_at_end(&normalised, delimiter),
                    None,
                    "{}",
                    show()
                );
                assert!(!normalised.contains(&0), "a NUL read: {}", show());
                let theirs = read_as_csv_does(body, delimiter);
                assert_eq!(ours, theirs, "{}", show());
                true
            }
            Err(err) if err.message.contains("never closed") => {
                let opened = open_quote_at_end(&normalised, delimiter);
                assert_eq!(err.line, opened, "{}", show());
                false
            }
            Err(err) if err.message.contains("NUL") => {
                assert!(normalised.contains(&0), "{}", show());
                false
            }
            Err(err) => panic!("{err}: {}", show()),
        }
    }

    #[test]
    fn a_bom_at_the_start_of_a_later_line_is_text() {
        // The parser drops a BOM from the first input it is given; given
        // this line first (the lines before it have no quote), it dropped
        // this one, and the quote after it then opened a quoted field: the
        // address read as a deliverable one.
        let records = read_all(
            "email,first_name\na@example.nl,A\n\u{feff}\"jan@example.nl\",Jan\n".as_bytes(),
        );
        assert_eq!(records[2].1, ["\u{feff}\"jan@example.nl\"", "Jan"]);
    }

    #[test]
    fn reads_every_record_as_csv_does() {
        // Random lists from the bytes that matter to the reading (quotes,
        // the three delimiters, line endings, blanks, a BOM in the middle,
        // text that is UTF-8, text that is not and characters cut in two),
        // after headers that make each delimiter the sniffed one, read
        // through buffers from one byte up, so that lines, fields and
        // characters cross reads: the quick way through lines without a
        // quote and the parser for the others must give what csv gives,
        // record by record and line by line; and a list refused must be
        // one that ends in an open quote (refused at the line it opened on)
        // or holds a NUL.
        const HEADERS: &[&[u8]] = &[
            b"email,name\n",
            b"email;name\n",
            b"email\tname\n",
            b"email\n",
            b"\xef\xbb\xbfemail;name\r\n",
            b"\"email\";\"name\"\n",
            b"email,name",
        ];
        const PIECES: &[&[u8]] = &[
            b"a",
            b"jan@x.nl",
            b"Zo\xc3\xab",
            b"\xe9",
            b"\xc3",
            b"\xab",
            b",",
            b",",
            b";",
            b";",
            b"\t",
            b"\"",
            b"\"\"",
            b"\n",
            b"\n",
            b"\r\n",
            b"\r",
            b" ",
            b"\n\n",
            b"\xef\xbb\xbf",
            b"\x0c",
        ];
        let mut rng = fastrand::Rng::with_seed(0x6373_765f_7265_6164);
        let mut compared = 0;
        for _ in 0..6_000 {
            let mut bytes = HEADERS[rng.usize(..HEADERS.len())].to_vec();
            for _ in 0..rng.usize(1..60) {
                bytes.extend_from_slice(PIECES[rng.usize(..PIECES.len())]);
            }
            let buffer = [1, 2, 3, 5, 8, 13, 17, 64, READ_BUFFER][rng.usize(..9)];
            compared += usize::from(check_against_csv(&bytes, buffer));
        }
        assert!(compared > 2_000, "{compared}");
    }

    #[test]
    fn reads_lists_past_the_sniffed_prefix_as_csv_does() {
        // The same past the first 16 KiB (read apart, to sniff the
        // delimiter), with NUL bytes among the pieces.
        const PIECES: &[&[u8]] = &[
            b"a",
            b"jan@x.nl",
            b"\xe9",
            b",",
            b";",
            b"\t",
            b"\"",
            b"\"\"",
            b"\n",
            b"\r\n",
            b"\r",
            b" ",
            b"\0",
            b"\xc3\xab",
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        let mut compared = 0;
        for _ in 0..200 {
            let delimiter = [b',', b';', b'\t'][rng.usize(..3)];
            let mut bytes = format!("email{}name\n", char::from(delimiter)).into_bytes();
            let length = rng.usize(PREFIX_LEN as usize - 200..PREFIX_LEN as usize + 200);
            for i in 0.. {
                if bytes.len() >= length {
                    break;
                }
                bytes.extend_from_slice(
                    format!("p{i}@x.nl{}Naam\n", char::from(delimiter)).as_bytes(),
                );
            }
            for _ in 0..rng.usize(1..40) {
                bytes.extend_from_slice(PIECES[rng.usize(..PIECES.len())]);
            }
            let buffer = [1, 7, 64, 100, READ_BUFFER][rng.usize(..5)];
            compared += usize::from(check_against_csv(&bytes, buffer));
        }
        assert!(compared > 50, "{compared}");
    }

    #[test]
    fn for_each_position_finds_every_one_and_nothing_else() {
        // Every byte value beside and as the one sought, at every position
        // of strings up to 20 bytes.
        for byte in [b',', b';', b'\t', 0, 0x80, 0xff] {
            for len in (0..20).chain(60..70).chain([127, 128, 129]) {
                for at in 0..len {
                    for other in 0..=255u8 {
                        let mut bytes: Vec<u8> = (0..len).map(|i| [other, byte][i % 2]).collect();
                        bytes[at] = other;
                        let mut found = Vec::new();
                        for_each_position(&bytes, byte, |i| found.push(i));
                        let expected: Vec<usize> = (0..len).filter(|&i| bytes[i] == byte).collect();
                        assert_eq!(found, expected, "{bytes:?} {byte}");
                    }
                }
            }
        }
    }

    fn strings(fields: &[&str]) -> Vec<String> {
        fields.iter().map(|&f| f.to_owned()).collect()
    }

    #[test]
    fn a_record_longer_than_the_read_buffer_with_quoted_lines_across_reads() {
        // One quoted field of several read buffers, with line breaks, a
        // doubled quote and non-ASCII text throughout, then a last line
        // without a line break.
        let long: String = (0..40_000).map(|i| format!("Zoë \"{i}\"\n")).collect();
        let quoted = long.replace('"', "\"\"");
        let text = format!("email,note\r\na@x.nl,\"{quoted}\"\r\n\r\nb@x.nl,kort");
        assert!(text.len() > 4 * READ_BUFFER);
        let records = read_all(text.as_bytes());
        assert_eq!(records.len(), 3);
        assert_eq!(records[1], (2, strings(&["a@x.nl", &long]), false));
        // The field's 40,000 line breaks, its line's end and a blank line.
        assert_eq!(records[2], (40_004, strings(&["b@x.nl", "kort"]), false));
    }

    #[test]
    fn a_character_cut_by_a_read_is_text_not_windows_1252() {
        // The first read is the 16 KiB prefix: put `é` across its end, in
        // the second field, with a Windows-1252 row further on in the same
        // batch and UTF-8 rows after it.
        let mut text = b"email,name\n".to_vec();
        let mut row = 0;
        while text.len() < PREFIX_LEN as usize - 40 {
            text.extend_from_slice(format!("r{row}@x.nl,Naam{row}\n").as_bytes());
            row += 1;
        }
        let pad = PREFIX_LEN as usize - 1 - text.len() - "cut@x.nl,".len();
        let name = format!("{}é", "n".repeat(pad));
        text.extend_from_slice(format!("cut@x.nl,{name}\n").as_bytes());
        assert_eq!(&text[PREFIX_LEN as usize - 1..][..2], "é".as_bytes());
        text.extend_from_slice(b"jose@x.nl,Jos\xe9\nzoe@x.nl,Zo\xc3\xab\n");
        let records = read_all(&text);
        let n = records.len();
        assert_eq!(
            records[n - 3],
            (row + 2, strings(&["cut@x.nl", &name]), false)
        );
        assert_eq!(
            records[n - 2],
            (row + 3, strings(&["jose@x.nl", "José"]), true)
        );
        assert_eq!(
            records[n - 1],
            (row + 4, strings(&["zoe@x.nl", "Zoë"]), false)
        );
        assert!(records[..n - 2].iter().all(|(_, _, decoded)| !decoded));
    }

    #[test]
    fn a_field_end_that_splits_a_character_makes_the_record_windows_1252() {
        // `\xC3\xA9` is `é` in UTF-8, but the delimiter between them makes
        // the fields `\xC3` and `\xA9`: not UTF-8 each. The same across a
        // line break: each record on its own is not UTF-8, so all of it is
        // read as Windows-1252, even its UTF-8 `ë`. Put together, the
        // records' text would be valid UTF-8.
        let text = b"email,name\na@x.nl,x\xc3,\xa9y\nb@x.nl,\xc3\n\xa9@x.nl,Zo\xc3\xab";
        let records = read_all(text);
        assert_eq!(records[1], (2, strings(&["a@x.nl", "xÃ", "©y"]), true));
        assert_eq!(records[2], (3, strings(&["b@x.nl", "Ã"]), true));
        assert_eq!(records[3], (4, strings(&["©@x.nl", "ZoÃ«"]), true));
    }

    /// Whether the line break added at the end of `input` goes into a
    /// quoted field (by [`line_break_in_quotes`]), for a parser with
    /// `delimiter` that has parsed all of `input`, record after record.
    fn in_quotes_after(input: &[u8], delimiter: u8) -> bool {
        let mut core = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        let mut rest = input;
        while !rest.is_empty() {
            let (_, read, ..) = core.read_record(rest, &mut [0; 64], &mut [0; 64]);
            rest = &rest[read..];
        }
        let (result, read, written, _) = core.read_record(b"\n", &mut [0; 64], &mut [0; 64]);
        assert_eq!(read, 1);
        line_break_in_quotes(&result, written)
    }

    #[test]
    fn the_line_break_at_the_end_tells_in_quotes_in_every_state() {
        let outside: &[&[u8]] = &[
            b"",
            b"a,b\n",
            b"a,b\n\n\n",
            b"a,",
            b"a,b",
            b"a,b\"c",
            b"a,\"b\"",
            b"a,\"\"",
            b"a,\"b\"c",
            b"a,\"b\"c\"",
            b"a,\"he said \"\"hi\"\"\"",
            b"a,\"two\nlines\"",
            b"a,\"b\n\"\"\"",
            b"a,\"b\"\n",
        ];
        for input in outside {
            let text = String::from_utf8_lossy(input);
            assert!(!in_quotes_after(input, b','), "{text:?}");
        }
        let inside: &[&[u8]] = &[
            b"\"",
            b"a,\"",
            b"a,\"\n",
            b"a,\"b",
            b"a,\"b\"\"",
            b"a,\"\"\"",
            b"a,\"b\nc,d\n",
            b"a,\"b\"\"\n",
            b"a,b\n\"",
        ];
        for input in inside {
            let text = String::from_utf8_lossy(input);
            assert!(in_quotes_after(input, b','), "{text:?}");
        }
        assert!(in_quotes_after(b"a;\"b,c", b';'));
        assert!(!in_quotes_after(b"a;\"b;c\"", b';'));
        assert!(in_quotes_after(b"a\t\"\n", b'\t'));
        assert!(!in_quotes_after(b"a\t\"\"\t", b'\t'));
    }

    /// The line of the unclosed-quote error reading `bytes` as a file.
    fn error_line(bytes: &[u8]) -> Option<u64> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, bytes).unwrap();
        let mut records = Records::open(file.path(), "test list").unwrap();
        loop {
            match records.next() {
                Ok(true) => {}
                Ok(false) => panic!("read {:?} to the end", String::from_utf8_lossy(bytes)),
                Err(err) => {
                    assert!(err.message.contains("never closed"), "{}", err.message);
                    return err.line;
                }
            }
        }
    }

    #[test]
    fn a_quote_left_open_at_the_end_of_the_file_is_refused() {
        assert_eq!(error_line(b"email\nx@x.nl,\"\n"), Some(2));
        assert_eq!(error_line(b"email\nx@x.nl,\""), Some(2));
        assert_eq!(error_line(b"email\r\nx@x.nl,\"\r\n"), Some(2));
        assert_eq!(error_line(b"email\nx@x.nl,\"\n\n\n"), Some(2));
        assert_eq!(error_line(b"email\n\"\n"), Some(2));
        assert_eq!(error_line(b"email\nx@x.nl,\"a\nb\n\"\"\n"), Some(2));
        assert_eq!(
            error_line(b"email\nx@x.nl,\"1\n2\",\"open\nmore\n"),
            Some(3)
        );
        assert_eq!(error_line(b"email\n\nx@x.nl,\"a\"\"\n"), Some(3));
    }

    #[test]
    fn a_quote_closed_at_the_end_of_the_file_reads() {
        let records = read_all(b"email,note\na@x.nl,\"b\"\n");
        assert_eq!(records[1], (2, strings(&["a@x.nl", "b"]), false));
        let records = read_all(b"email,note\na@x.nl,\"b\"");
        assert_eq!(records[1], (2, strings(&["a@x.nl", "b"]), false));
        let records = read_all(b"email,note\na@x.nl,\"he said \"\"hi\"\"\"");
        assert_eq!(
            records[1],
            (2, strings(&["a@x.nl", "he said \"hi\""]), false)
        );
        let records = read_all(b"email,note\na@x.nl,\"a\n\"\"\"\n");
        assert_eq!(records[1], (2, strings(&["a@x.nl", "a\n\""]), false));
        let records = read_all(b"email,note\na@x.nl,\"two\r\nlines\"\r\nb@x.nl,\"\"");
        assert_eq!(records[1], (2, strings(&["a@x.nl", "two\nlines"]), false));
        assert_eq!(records[2], (4, strings(&["b@x.nl", ""]), false));
    }

    #[test]
    fn decodes_windows_1252() {
        let mut out = String::from("x");
        decode_windows_1252(b"Jos\xe9 \x80 \x93ok\x94", &mut out);
        assert_eq!(out, "xJosé € “ok”");
    }
}
