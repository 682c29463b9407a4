//! Files mailgate writes for the user (`--output`, `--report-out`,
//! `--sendable-out`): written under a temporary name beside the target and
//! renamed into place when complete, so that a failed run never leaves half
//! a file — and an earlier report stays as it was.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A file being written, that appears at its path only on [`persist`].
///
/// [`persist`]: OutputFile::persist
pub struct OutputFile {
    temp: tempfile::NamedTempFile,
    path: PathBuf,
    /// Listed among the [`UNFINISHED`] while it lives (declared after
    /// `temp`, so that it is forgotten once the file is gone).
    _listed: Listed,
}

/// A temporary name in [`UNFINISHED`], taken off the list when dropped.
struct Listed(PathBuf);

impl Drop for Listed {
    fn drop(&mut self) {
        let mut unfinished = UNFINISHED.lock().unwrap_or_else(|e| e.into_inner());
        unfinished.retain(|p| *p != self.0);
    }
}

/// The temporary names of the outputs being written. A run that is
/// interrupted (Ctrl-C, SIGTERM) does not unwind, so their `Drop` never
/// runs: the binary's signal handler calls [`remove_unfinished`] instead,
/// as half a report holds recipients' addresses and must not be left behind.
static UNFINISHED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every output still being written (for a signal handler, just
/// before the process exits).
pub fn remove_unfinished() {
    let mut unfinished = UNFINISHED.lock().unwrap_or_else(|e| e.into_inner());
    for path in unfinished.drain(..) {
        let _ = std::fs::remove_file(path);
    }
}

impl OutputFile {
    /// Starts writing `path`. Errors name the path.
    pub fn create(path: &Path) -> io::Result<Self> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut builder = tempfile::Builder::new();
        builder.prefix(".mailgate-");
        // A temporary file is private (0600) by default; what the user asked
        // for is an ordinary file, so it gets the mode any new file gets
        // (0666 less the umask), as `>` would give it.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let temp = builder
            .tempfile_in(dir)
            .map_err(|e| named(path, "cannot create", e))?;
        UNFINISHED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(temp.path().to_path_buf());
        let listed = Listed(temp.path().to_path_buf());
        Ok(OutputFile {
            temp,
            path: path.to_path_buf(),
            _listed: listed,
        })
    }

    /// The file being written.
    pub fn file(&self) -> &File {
        self.temp.as_file()
    }

    /// The file being written, to write to.
    pub fn file_mut(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// Renames the finished file into place (replacing what was there).
    pub fn persist(self) -> io::Result<()> {
        let OutputFile {
            temp,
            path,
            _listed,
        } = self;
        temp.persist(&path)
            .map_err(|e| named(&path, "cannot write", e.error))?;
        Ok(())
    }
}

fn named(path: &Path, what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn appears_only_when_persisted_and_replaces_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, "old").unwrap();
        let mut out = OutputFile::create(&path).unwrap();
        out.file_mut().write_all(b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        out.persist().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn dropped_unpersisted_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        drop(OutputFile::create(&path).unwrap());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn is_an_ordinary_file_not_a_private_temporary_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        OutputFile::create(&path).unwrap().persist().unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        // 0666 less whatever umask the test runs under; never the 0600 of a
        // temporary file unless the umask says so.
        assert_eq!(mode & 0o600, 0o600);
        let same_as_a_new_file = {
            let plain = dir.path().join("plain");
            File::create(&plain).unwrap();
            std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777
        };
        assert_eq!(mode, same_as_a_new_file);
    }

    #[test]
    fn only_outputs_being_written_are_listed_for_removal() {
        // (Calling `remove_unfinished` here would remove the outputs of
        // tests running beside this one: tests/bad_input.rs interrupts a
        // real run instead.)
        let listed = |path: &Path| UNFINISHED.lock().unwrap().iter().any(|p| p == path);
        let dir = tempfile::tempdir().unwrap();
        let done = OutputFile::create(&dir.path().join("done.json")).unwrap();
        let done_temp = done.temp.path().to_path_buf();
        assert!(listed(&done_temp));
        done.persist().unwrap();
        assert!(!listed(&done_temp));
        let dropped = OutputFile::create(&dir.path().join("dropped.json")).unwrap();
        let dropped_temp = dropped.temp.path().to_path_buf();
        assert!(listed(&dropped_temp));
        drop(dropped);
        assert!(!listed(&dropped_temp));
    }

    #[test]
    fn a_missing_directory_is_named_in_the_error() {
        let err = OutputFile::create(Path::new("/nonexistent-dir/report.json"))
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("/nonexistent-dir/report.json"),
            "{err}"
        );
    }
}
