//! The lint's second pass: one report row per recipient (`--report-out`)
//! and the cleaned list (`--sendable-out`), both in the list's dialect.

use std::path::Path;

use super::{LintError, Outputs, RowChecker};
use crate::address_book::AddressBook;
use crate::campaign::Campaign;
use crate::escape;
use crate::judge::{Basis, Verdict};
use crate::output_file::OutputFile;
use crate::recipients::{Dialect, Field, RecipientReader};

/// How the per-recipient files are written: in the list's dialect, and
/// (`--sendable-out`) with which of its columns.
pub(super) struct Written {
    pub(super) dialect: Dialect,
    /// The columns of the cleaned list, by index, in the list's order.
    pub(super) kept: Vec<usize>,
}

/// The second pass: one report row per recipient (`--report-out`) and the
/// cleaned list (`--sendable-out`). Both files are written beside their
/// target and renamed into place, so a failure leaves no half file.
pub(super) fn write_outputs(
    campaign: &Campaign,
    rows: &RowChecker<'_, '_>,
    book: &AddressBook,
    outputs: &Outputs,
    written: &Written,
) -> Result<(), LintError> {
    let mut reader = RecipientReader::open(&campaign.recipients, &campaign.columns)?;
    let create = |path: &Path| CsvOut::create(path, written.dialect);
    let mut report = outputs.report.as_deref().map(create).transpose()?;
    let mut sendable = outputs.sendable.as_deref().map(create).transpose()?;
    if let Some(out) = &mut report {
        out.write(["address", "row", "basis", "sendable", "rules"])?;
    }
    if let Some(out) = &mut sendable {
        let columns = &rows.columns.columns;
        out.write(written.kept.iter().map(|&i| columns[i].header.as_str()))?;
    }
    let mut verdict = Verdict::default();
    let mut findings = Vec::new();
    while let Some(row) = reader.next_row()? {
        let email = row.get(Field::Email);
        let key = book.key(email);
        let first = book.first_line(key);
        let earlier = first.filter(|&l| l != row.line());
        let ok = book.is_sendable(key);
        if let Some(out) = &mut report {
            rows.check(&row, key, earlier, &mut verdict, &mut findings);
            // The accountability record: every reason, whatever its
            // level (levels shape the report, not the record).
            let fired: Vec<&str> = findings.iter().map(|f| f.rule.name()).collect();
            let basis = verdict.basis.map_or("none", Basis::as_str);
            let line = row.line().to_string();
            let ok_text = if ok { "yes" } else { "no" };
            let rules = fired.join(" ");
            out.write([email, &line, basis, ok_text, &rules])?;
        }
        // A sendable address is written once, from its first row.
        if let Some(out) = &mut sendable
            && ok
            && first == Some(row.line())
        {
            out.write(written.kept.iter().map(|&i| row.value(i)))?;
        }
    }
    for out in [report, sendable].into_iter().flatten() {
        out.persist()?;
    }
    Ok(())
}

/// A CSV file in the list's dialect, written under a temporary name and
/// renamed when complete.
struct CsvOut {
    writer: csv::Writer<std::io::BufWriter<std::fs::File>>,
    file: OutputFile,
    path: std::path::PathBuf,
    dialect: Dialect,
    /// One record's cells, as written (reused).
    cells: Vec<Vec<u8>>,
}

impl CsvOut {
    fn create(path: &Path, dialect: Dialect) -> Result<Self, LintError> {
        use std::io::Write as _;
        let file = OutputFile::create(path)?;
        let mut out = std::io::BufWriter::new(file.file().try_clone()?);
        let mut out_error = |e: std::io::Error| {
            LintError::Output(std::io::Error::new(
                e.kind(),
                format!("cannot write {}: {e}", path.display()),
            ))
        };
        if dialect.bom {
            out.write_all(b"\xEF\xBB\xBF").map_err(&mut out_error)?;
        }
        let writer = csv::WriterBuilder::new()
            .delimiter(dialect.delimiter)
            .terminator(dialect.terminator())
            .from_writer(out);
        Ok(CsvOut {
            writer,
            file,
            path: path.to_owned(),
            dialect,
            cells: Vec::new(),
        })
    }

    /// Writes one record: each cell made safe for a spreadsheet, then
    /// encoded as the list was (the place for any further per-cell step).
    fn write<'c>(&mut self, cells: impl IntoIterator<Item = &'c str>) -> Result<(), LintError> {
        let mut n = 0;
        for cell in cells {
            if self.cells.len() <= n {
                self.cells.push(Vec::new());
            }
            let shown = escape::spreadsheet_cell(cell);
            let bytes = &mut self.cells[n];
            bytes.clear();
            bytes.extend_from_slice(&self.dialect.encode(&shown));
            n += 1;
        }
        let result = self.writer.write_record(&self.cells[..n]);
        result.map_err(|e| self.error(e))
    }

    /// A failed write, naming the file (its io error told once, not once
    /// more as the csv error's own text).
    fn error(&self, e: csv::Error) -> LintError {
        let e = match e.into_kind() {
            csv::ErrorKind::Io(e) => e,
            other => std::io::Error::other(format!("{other:?}")),
        };
        self.io_error(e)
    }

    fn io_error(&self, e: std::io::Error) -> LintError {
        LintError::Output(std::io::Error::new(
            e.kind(),
            format!("cannot write {}: {e}", self.path.display()),
        ))
    }

    fn persist(self) -> Result<(), LintError> {
        let flushed = self
            .writer
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|w| w.into_inner().map_err(|e| e.into_error()));
        if let Err(e) = flushed {
            return Err(LintError::Output(std::io::Error::new(
                e.kind(),
                format!("cannot write {}: {e}", self.path.display()),
            )));
        }
        Ok(self.file.persist()?)
    }
}
