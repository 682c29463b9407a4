//! The reading thread: [`Records`] read on a second thread, handed over in
//! batches.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::batch::{AheadColumns, BATCH, BATCHES, Batch, Record};
use super::{InputError, Records};
use crate::recipients::ListSource;

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
pub(in crate::recipients) struct ReadAhead {
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
    pub(super) fn spawn(mut records: Records, columns: AheadColumns) -> ReadAhead {
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
                    records.fill(&mut batch, BATCH, columns);
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

    pub(in crate::recipients) fn path(&self) -> &Path {
        &self.path
    }

    pub(in crate::recipients) fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// The physical line the current record starts on (1-based).
    pub(in crate::recipients) fn line(&self) -> u64 {
        self.batch.records.get(self.position).map_or(0, |r| r.line)
    }

    /// The physical line of the first record (the header included) that
    /// was not valid UTF-8 and was decoded as Windows-1252, among those the
    /// caller has reached.
    pub(in crate::recipients) fn first_non_utf8_line(&self) -> Option<u64> {
        self.first_non_utf8_line
    }

    /// True when the current record was not UTF-8 and was decoded as
    /// Windows-1252.
    pub(in crate::recipients) fn is_decoded(&self) -> bool {
        self.batch
            .records
            .get(self.position)
            .is_some_and(|r| r.decoded)
    }

    /// The current record (`None` before the first and after the last).
    pub(in crate::recipients) fn record(&self) -> Option<Record<'_>> {
        self.batch.record(self.position)
    }

    /// The address hash of the current record (see [`Records::read_ahead`]).
    pub(in crate::recipients) fn address_hash(&self) -> Option<u64> {
        self.batch.records.get(self.position)?.address_hash
    }

    /// Whether the address of the current record [`is_deliverable`], as
    /// worked out on the reading thread; `None` when it was not (no
    /// address column).
    pub(in crate::recipients) fn address_ok(&self) -> Option<bool> {
        self.batch.records.get(self.position)?.address_ok
    }

    /// The list source of the current record classified, as worked out on
    /// the reading thread; `None` when it was not (no such column).
    pub(in crate::recipients) fn list_source(&self) -> Option<ListSource> {
        self.batch.records.get(self.position)?.list_source
    }

    /// The address hashes of the records already read after the current
    /// one, in order (some or none of the rest of the file).
    pub(in crate::recipients) fn hashes_ahead(&self) -> impl Iterator<Item = u64> {
        let ahead = self.batch.records.get(self.position + 1..);
        ahead
            .unwrap_or_default()
            .iter()
            .filter_map(|span| span.address_hash)
    }

    /// Number of fields in the current record.
    pub(in crate::recipients) fn len(&self) -> usize {
        self.batch
            .records
            .get(self.position)
            .map_or(0, |span| span.fields as usize)
    }

    /// Field `index` of the current record, `""` when the record is shorter.
    pub(in crate::recipients) fn get(&self, index: usize) -> &str {
        self.record().and_then(|r| r.get(index)).unwrap_or("")
    }

    /// Moves to the next record, as [`Records::next`] does.
    pub(in crate::recipients) fn next(&mut self) -> Result<bool, InputError> {
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
