//! Opening a journal for a run: created atomically when new, locked, read
//! back, repaired, and a `session` record appended.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use super::boot::machine_boot_id;
use super::error::{JournalError, io_error};
use super::format::{JournalHeader, Record, header_line, unix_now};
use super::read::read;
use super::state::JournalState;
use super::writer::{Appender, Journal};

impl Journal {
    /// Opens the journal at `path`, creating it with `header` when it does not
    /// exist, and otherwise reading it: the stored fingerprints must equal
    /// `header.fingerprints` (else [`JournalError::InputsChanged`]), a torn
    /// last line is cut off, and the state of every recipient is returned.
    /// The file stays locked until the `Journal` is dropped.
    ///
    /// A `session` record with this machine's boot id (see
    /// [`machine_boot_id`]) is appended and synced: it tells a later run
    /// whether the attempts that follow were made on its own boot.
    pub fn open(
        path: &Path,
        header: JournalHeader,
    ) -> Result<(Journal, JournalState), JournalError> {
        Journal::open_with(path, header, machine_boot_id().as_deref(), false)
    }

    /// [`Journal::open`] as if the machine's boot id were `boot` (`None`:
    /// not known).
    pub fn open_on_boot(
        path: &Path,
        header: JournalHeader,
        boot: Option<&str>,
    ) -> Result<(Journal, JournalState), JournalError> {
        Journal::open_with(path, header, boot, false)
    }

    /// [`Journal::open`] on boot `boot`; with `accept_changes`, inputs that
    /// differ from the journal's are accepted (`--accept-changes`) and a
    /// `change` record says so: the journal goes on, sent stays sent.
    pub fn open_with(
        path: &Path,
        header: JournalHeader,
        boot: Option<&str>,
        accept_changes: bool,
    ) -> Result<(Journal, JournalState), JournalError> {
        let mut tried_to_create = false;
        let mut created = false;
        let file = loop {
            match OpenOptions::new().read(true).append(true).open(path) {
                Ok(file) => break file,
                Err(e) if e.kind() == io::ErrorKind::NotFound && !tried_to_create => {
                    tried_to_create = true;
                    // Then open what is there: ours, or a racing process's,
                    // which the lock below sorts out.
                    created = create(path, &header)?;
                }
                Err(e) => return Err(io_error(path, "open", e)),
            }
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(JournalError::Locked {
                    path: path.to_owned(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_error(path, "lock", e)),
        }

        let (mut state, repair) = read(path, &file, &header)?;
        let changed = state.fingerprints.changed(&header.fingerprints);
        if !changed.is_empty() && !accept_changes {
            // Refused before any repair: the file is left exactly as it was.
            return Err(JournalError::InputsChanged {
                path: path.to_owned(),
                started: state.header.started.clone(),
                sent: state.counts().sent,
                changed,
            });
        }
        repair.apply(path, &file, &header)?;
        state.is_new |= created;
        state.settle(boot);
        let mut session = serde_json::to_vec(&Record::Session {
            boot: boot.map(Cow::Borrowed),
            pid: std::process::id(),
            at: unix_now(),
        })
        .expect("a journal record serialises");
        session.push(b'\n');
        if !changed.is_empty() {
            let mut change = serde_json::to_vec(&Record::Change {
                changed: changed.clone(),
                fingerprints: header.fingerprints.clone(),
                at: unix_now(),
            })
            .expect("a journal record serialises");
            change.push(b'\n');
            session.extend_from_slice(&change);
            state.fingerprints = header.fingerprints.clone();
            state.changes += 1;
            state.accepted_now = changed.clone();
        }
        (&file)
            .write_all(&session)
            .and_then(|()| file.sync_data())
            .map_err(|e| io_error(path, "write", e))?;

        let sync_handle = file.try_clone().map_err(|e| io_error(path, "open", e))?;
        let journal = Journal {
            path: path.to_owned(),
            writer: Mutex::new(Appender {
                out: BufWriter::with_capacity(64 * 1024, file),
                appended: 0,
            }),
            synced: Mutex::new(0),
            sync_handle,
            broken: AtomicBool::new(false),
        };
        Ok((journal, state))
    }
}

/// Creates the journal atomically: the header is written and synced in a
/// temporary file that is then linked into place without replacing anything,
/// so a journal on disk always starts with a whole header. Returns false if
/// another process created it first.
fn create(path: &Path, header: &JournalHeader) -> Result<bool, JournalError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".mailgate-journal-")
        .tempfile_in(dir)
        .map_err(|e| io_error(path, "create", e))?;
    tmp.write_all(&header_line(header))
        .and_then(|()| tmp.as_file().sync_data())
        .map_err(|e| io_error(path, "write the header", e))?;
    match tmp.persist_noclobber(path) {
        Ok(_) => {}
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(io_error(path, "create", e.error)),
    }
    // The new directory entry must survive a crash too.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(path, "sync the directory of", e))?;
    Ok(true)
}
