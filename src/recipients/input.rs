//! Opening a CSV for streaming, shared by the recipient and suppression
//! readers: the BOM, a check that the file is text at all, delimiter
//! sniffing, line-ending normalisation, per-record UTF-8 with a Windows-1252
//! fallback, and the physical line each record starts on.

use std::fs::File;
use std::io::{self, Chain, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use csv::{ByteRecord, StringRecord};
use encoding_rs::{CoderResult, WINDOWS_1252};

use super::InputError;

/// How much of the file is read up front to check and sniff it.
const PREFIX_LEN: u64 = 16 * 1024;
/// The delimiters a list may use, in order of preference on a tie.
const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];
/// How many records the sniffer looks at.
const SNIFF_RECORDS: usize = 20;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// csv's read buffer: larger than its 8 KiB default, so a long list takes
/// fewer reads (and fewer passes of [`LineEnds`]).
const READ_BUFFER: usize = 64 * 1024;

type Stream = LineEnds<Chain<Cursor<Vec<u8>>, File>>;

/// A CSV file read one record at a time into one reused buffer.
pub(super) struct Records {
    path: PathBuf,
    csv: csv::Reader<Stream>,
    current: Current,
    scratch: String,
    line: u64,
    delimiter: u8,
    first_non_utf8_line: Option<u64>,
}

/// Where the current record's text lives. Valid UTF-8 is borrowed straight
/// from csv's buffer (converting a `ByteRecord` into a `StringRecord` moves
/// it, no copy); only a record that is not UTF-8 is decoded, into the second
/// record (the first keeps the raw bytes' buffer for reuse).
#[derive(Default)]
enum Current {
    #[default]
    None,
    Utf8(StringRecord),
    Decoded(ByteRecord, StringRecord),
}

impl Current {
    fn len(&self) -> usize {
        match self {
            Current::None => 0,
            Current::Utf8(record) | Current::Decoded(_, record) => record.len(),
        }
    }

    fn get(&self, index: usize) -> &str {
        let field = match self {
            Current::None => None,
            Current::Utf8(record) | Current::Decoded(_, record) => record.get(index),
        };
        field.unwrap_or("")
    }
}

impl Records {
    /// Opens `path` (described as `what` in messages, e.g. "recipient list").
    pub(super) fn open(path: &Path, what: &str) -> Result<Records, InputError> {
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
        let csv = csv::ReaderBuilder::new()
            .buffer_capacity(READ_BUFFER)
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(LineEnds::new(Cursor::new(prefix).chain(file)));
        Ok(Records {
            path: path.to_owned(),
            csv,
            current: Current::None,
            scratch: String::new(),
            line: 0,
            delimiter,
            first_non_utf8_line: None,
        })
    }

    /// The physical line the current record starts on (1-based).
    pub(super) fn line(&self) -> u64 {
        self.line
    }

    /// Number of fields in the current record.
    pub(super) fn len(&self) -> usize {
        self.current.len()
    }

    /// Field `index` of the current record, `""` when the record is shorter.
    pub(super) fn get(&self, index: usize) -> &str {
        self.current.get(index)
    }

    /// Reads the next record that is not blank (empty, or only whitespace
    /// and delimiters, as Excel writes for empty rows). `Ok(false)` at the
    /// end of the file.
    pub(super) fn next(&mut self) -> Result<bool, InputError> {
        let mut raw = match std::mem::take(&mut self.current) {
            Current::None => ByteRecord::new(),
            Current::Utf8(record) => record.into_byte_record(),
            Current::Decoded(raw, _) => raw,
        };
        if !self.read_raw(&mut raw)? {
            return Ok(false);
        }
        self.current = match StringRecord::from_byte_record(raw) {
            Ok(record) => Current::Utf8(record),
            Err(err) => {
                let raw = err.into_byte_record();
                let mut decoded = StringRecord::new();
                for field in &raw {
                    self.scratch.clear();
                    decode_windows_1252(field, &mut self.scratch);
                    decoded.push_field(&self.scratch);
                }
                self.note_non_utf8();
                Current::Decoded(raw, decoded)
            }
        };
        Ok(true)
    }

    /// Reads the next record that is not blank into `raw`, as bytes, and
    /// notes its line. `Ok(false)` at the end of the file.
    fn read_raw(&mut self, raw: &mut ByteRecord) -> Result<bool, InputError> {
        loop {
            let more = match self.csv.read_byte_record(raw) {
                Ok(more) => more,
                Err(err) => {
                    let line = self.csv.position().line();
                    return Err(InputError::new(
                        &self.path,
                        Some(line),
                        format!("cannot read the file further: {err}"),
                    ));
                }
            };
            if !more {
                return Ok(false);
            }
            let unclosed = self.runs_to_end_in_quotes(raw);
            self.line = self.start_line(raw, unclosed);
            self.check_record(raw, unclosed)?;
            let blank = raw
                .iter()
                .all(|field| field.iter().all(u8::is_ascii_whitespace));
            if !blank {
                return Ok(true);
            }
        }
    }

    /// Remembers the current line as the first that was not UTF-8, if it is.
    fn note_non_utf8(&mut self) {
        self.first_non_utf8_line.get_or_insert(self.line);
    }

    /// The physical line `raw` started on. csv's own record position is
    /// taken before the blank lines it skips, so count back from where the
    /// record ended instead: every `\n` inside it, plus its terminator
    /// (line endings are normalised to `\n`, see [`LineEnds`]). The last
    /// record may have none; one `unclosed` has none (its last `\n` is
    /// inside the open quote).
    fn start_line(&self, raw: &ByteRecord, unclosed: bool) -> u64 {
        let end_line = self.csv.position().line();
        let inside = count_newlines(raw.as_slice());
        let terminated = !self.at_end_of_file() || (!unclosed && self.csv.get_ref().last == b'\n');
        end_line
            .saturating_sub(inside + u64::from(terminated))
            .max(1)
    }

    /// True when the record just read ran to the very end of the input.
    fn at_end_of_file(&self) -> bool {
        let stream = self.csv.get_ref();
        stream.eof && self.csv.position().byte() == stream.total
    }

    /// True when `raw` is a quoted field that was never closed: it swallows
    /// the rest of the file into the last field of one record. Only a
    /// quoted field can hold a line break, so a last field with one that
    /// reaches the end of the file must have been quoted — and a closed
    /// quote would be the last thing in the file.
    fn runs_to_end_in_quotes(&self, raw: &ByteRecord) -> bool {
        let last_field = raw.iter().next_back().unwrap_or_default();
        self.at_end_of_file()
            && last_field.contains(&b'\n')
            && self.csv.get_ref().last_significant != b'"'
    }

    /// Refuses binary data and a quote that was never closed.
    fn check_record(&self, raw: &ByteRecord, unclosed: bool) -> Result<(), InputError> {
        if self.csv.get_ref().saw_nul && raw.as_slice().contains(&0) {
            return Err(InputError::new(
                &self.path,
                Some(self.line),
                "this line holds binary data (a NUL byte): the file is not a CSV text file, \
                 or it is damaged; export the list as CSV again"
                    .to_owned(),
            ));
        }
        if unclosed {
            let before_last = raw.len().saturating_sub(1);
            let opened = self.line
                + raw
                    .iter()
                    .take(before_last)
                    .map(count_newlines)
                    .sum::<u64>();
            return Err(InputError::new(
                &self.path,
                Some(opened),
                "a quoted field opened on this line is never closed, so the rest of the file \
                 would be read as one value; add the missing closing `\"` (a `\"` inside a \
                 quoted value is written `\"\"`)"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    /// Hands the rest of the file to a thread that reads ahead of the
    /// caller (see [`ReadAhead`]), and also hashes the address in
    /// `email_column` of each record there. The current record is not
    /// carried over.
    pub(super) fn read_ahead(self, email_column: Option<usize>) -> ReadAhead {
        ReadAhead::spawn(self, email_column)
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
    /// Where each field ends in `text`, record after record.
    ends: Vec<u32>,
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
    /// Not UTF-8: decoded from Windows-1252.
    decoded: bool,
    /// The [`super::address_hash`] of the address column (`None`: none).
    address_hash: Option<u64>,
}

impl Batch {
    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
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
        }
    }

    /// Appends `raw` read on `line`: its text as it is when every field is
    /// UTF-8, else decoded from Windows-1252 (the caller's `scratch` helps).
    /// Returns false when it would not fit the batch's 32-bit offsets.
    fn push(&mut self, raw: &ByteRecord, line: u64, email_column: Option<usize>) -> bool {
        let start = self.text.len();
        if start + raw.as_slice().len() * 3 > u32::MAX as usize {
            return false;
        }
        let first_end = self.ends.len();
        // The whole record is UTF-8 and no field boundary splits a
        // character: exactly when every field is UTF-8 (what csv's own
        // check asks), in one pass instead of one per field.
        let decoded = match std::str::from_utf8(raw.as_slice()) {
            Ok(text) => {
                let mut end = 0;
                let mut boundaries = true;
                for field in raw {
                    end += field.len();
                    boundaries &= text.is_char_boundary(end);
                    self.ends.push((start + end) as u32);
                }
                if boundaries {
                    self.text.push_str(text);
                }
                !boundaries
            }
            Err(_) => true,
        };
        if decoded {
            self.ends.truncate(first_end);
            for field in raw {
                decode_windows_1252(field, &mut self.text);
                self.ends.push(self.text.len() as u32);
            }
        }
        let mut span = RecordSpan {
            line,
            start: start as u32,
            first_end: first_end as u32,
            fields: (self.ends.len() - first_end) as u32,
            decoded,
            address_hash: None,
        };
        span.address_hash = email_column.map(|column| {
            let record = self.span_record(&span);
            super::address_hash(super::trim(record.get(column).unwrap_or("")))
        });
        self.records.push(span);
        true
    }
}

/// One record of a batch: its fields as text.
#[derive(Clone, Copy)]
pub(super) struct Record<'a> {
    text: &'a str,
    ends: &'a [u32],
    start: u32,
}

impl<'a> Record<'a> {
    /// Field `index`, `None` when the record is shorter.
    pub(super) fn get(&self, index: usize) -> Option<&'a str> {
        let end = *self.ends.get(index)? as usize;
        let start = match index {
            0 => self.start as usize,
            _ => self.ends[index - 1] as usize,
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
        records.current = Current::None;
        let thread = std::thread::Builder::new()
            .name("mailgate-csv".to_owned())
            .spawn(move || {
                let mut batches = 0;
                let mut raw = ByteRecord::new();
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
                    records.fill(&mut batch, &mut raw, email_column);
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

    /// The address hashes of the records already read after the current
    /// one, in order (some or none of the rest of the file).
    pub(super) fn hashes_ahead(&self) -> impl Iterator<Item = u64> {
        let ahead = self.batch.records.get(self.position + 1..);
        ahead
            .unwrap_or_default()
            .iter()
            .filter_map(|span| span.address_hash)
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

impl Records {
    /// Refills `batch` with up to [`BATCH`] records (`raw` is a reused
    /// buffer), noting in `batch.end` the end of the file or the error that
    /// stopped the reading, if either came first.
    fn fill(&mut self, batch: &mut Batch, raw: &mut ByteRecord, email_column: Option<usize>) {
        batch.clear();
        while batch.records.len() < BATCH && batch.text.len() < BATCH_TEXT {
            match self.read_raw(raw) {
                Ok(true) => {
                    if !batch.push(raw, self.line, email_column) {
                        batch.end = Some(Err(InputError::new(
                            &self.path,
                            Some(self.line),
                            "this record is too large to read (gigabytes in one row)".to_owned(),
                        )));
                        return;
                    }
                }
                Ok(false) => {
                    batch.end = Some(Ok(()));
                    return;
                }
                Err(err) => {
                    batch.end = Some(Err(err));
                    return;
                }
            }
        }
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
/// physical line; and notes what the record checks need to know about the
/// stream: how much was read, whether it ended, its last bytes, any NUL.
struct LineEnds<R> {
    inner: R,
    after_cr: bool,
    eof: bool,
    total: u64,
    last: u8,
    last_significant: u8,
    saw_nul: bool,
}

impl<R> LineEnds<R> {
    fn new(inner: R) -> Self {
        LineEnds {
            inner,
            after_cr: false,
            eof: false,
            total: 0,
            last: 0,
            last_significant: 0,
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
                self.eof = true;
                return Ok(0);
            }
            // The common case: nothing to normalise and no NUL, so the chunk
            // passes as it is and only its end needs looking at.
            if !self.after_cr && memchr::memchr2(b'\r', 0, &buf[..n]).is_none() {
                let chunk = &buf[..n];
                if let Some(&byte) = chunk.iter().rev().find(|b| !b.is_ascii_whitespace()) {
                    self.last_significant = byte;
                }
                self.total += n as u64;
                self.last = chunk[n - 1];
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
                if !byte.is_ascii_whitespace() {
                    self.last_significant = byte;
                }
                buf[out] = byte;
                out += 1;
            }
            // A read that was only the `\n` of a `\r\n` split across reads
            // yields nothing; 0 would mean end of file, so read on.
            if out > 0 {
                self.total += out as u64;
                self.last = buf[out - 1];
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
        assert_eq!(stream.total, out.len() as u64);
        assert_eq!(stream.last_significant, b'"');
        assert!(stream.eof);
    }

    #[test]
    fn line_ends_passes_clean_chunks_through_and_notes_their_end() {
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
        assert_eq!(stream.total, out.len() as u64);
        assert_eq!(stream.last, b' ');
        assert_eq!(stream.last_significant, b'f');
        assert!(!stream.saw_nul);

        let mut stream = LineEnds::new(Chunks(vec![b"a\n\"b\"\n", b"c\0d\n"]));
        let mut out = Vec::new();
        stream.read_to_end(&mut out).unwrap();
        assert!(stream.saw_nul);
        assert_eq!(stream.last_significant, b'd');
    }

    #[test]
    fn decodes_windows_1252() {
        let mut out = String::from("x");
        decode_windows_1252(b"Jos\xe9 \x80 \x93ok\x94", &mut out);
        assert_eq!(out, "xJosé € “ok”");
    }
}
