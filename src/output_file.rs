//! Files mailgate writes for the user (`--output`, `--report-out`,
//! `--sendable-out`).
//!
//! A regular file is written under a temporary name beside it and renamed
//! into place when complete, so that a failed run never leaves half a file —
//! and an earlier report stays as it was. What is not a regular file is
//! written through, as the shell's `>` would: a character device
//! (`/dev/null`, `/dev/stdout` on a terminal) or a FIFO stays what it is, and
//! a symbolic link is followed, its target replaced (renamed next to the
//! target), the link kept.
//!
//! Before anything is written, [`check_outputs`] refuses an output that is
//! one of the run's inputs (`--report-out recipients.csv` would destroy the
//! list) or the same file as another output. Files are compared by identity
//! (device and inode), not by name: `./list.csv`, a hard link or a symbolic
//! link to it are the same file.

use std::fs::{File, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A file being written, that appears at its path only on [`persist`].
///
/// [`persist`]: OutputFile::persist
pub struct OutputFile {
    target: Target,
    /// Listed among the [`UNFINISHED`] while it lives (declared after
    /// `target`, so that it is forgotten once the file is gone).
    _listed: Option<Listed>,
}

/// Where the bytes go.
enum Target {
    /// A regular file (or none yet): a temporary file renamed over `path`.
    Replace {
        temp: tempfile::NamedTempFile,
        path: PathBuf,
    },
    /// A device or FIFO, written as it is; nothing to rename or remove.
    Through(File),
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

/// Symbolic links followed before giving up (Linux's own limit, `ELOOP`).
const MAX_LINKS: usize = 40;

impl OutputFile {
    /// Starts writing `path`. Errors name the path.
    pub fn create(path: &Path) -> io::Result<Self> {
        // `/dev/stdout` and its kin name this process's own descriptor: the
        // output goes where that descriptor goes, at its offset and in its
        // mode, as a print to standard output would. (Followed as links,
        // `>> log` behind them would be replaced by a rename, losing what
        // the file held.)
        if let Some(file) = own_descriptor(path).map_err(|e| named(path, "cannot write", e))? {
            return Ok(OutputFile {
                target: Target::Through(file),
                _listed: None,
            });
        }
        // What the path names once every link is followed (by the kernel:
        // `/dev/stdout` is a link the kernel resolves, not a file name).
        let existing = match std::fs::metadata(path) {
            Ok(meta) => Some(meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(named(path, "cannot write", e)),
        };
        match &existing {
            Some(meta) if meta.is_dir() => {
                return Err(named(
                    path,
                    "cannot write",
                    io::Error::new(io::ErrorKind::IsADirectory, "it is a directory"),
                ));
            }
            Some(meta) if is_block_device(meta) => {
                return Err(named(
                    path,
                    "will not write",
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "it is a block device (a disk); name a file, a character device or a pipe",
                    ),
                ));
            }
            Some(meta) if !meta.is_file() => return Self::through(path),
            _ => {}
        }
        // A regular file or none: replaced by renaming, at the end of its
        // chain of links, so the links stay links.
        let target = follow_links(path).map_err(|e| named(path, "cannot write", e))?;
        if let Some(meta) = &existing
            && !same_identity(meta, &target)
        {
            // A link the path cannot name again (`/proc/self/fd/1` of a
            // file since moved): write into it as `>` would.
            return Self::through(path);
        }
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut builder = tempfile::Builder::new();
        builder.prefix(".mailgate-");
        // A temporary file is private (0600) by default; what the user asked
        // for is an ordinary file, so it gets the mode any new file gets
        // (0666 less the umask), as `>` would give it — or, replacing a
        // file, that file's mode (a report kept private stays private).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let temp = builder
            .tempfile_in(dir)
            .map_err(|e| named(path, "cannot create", e))?;
        #[cfg(unix)]
        if let Some(meta) = &existing {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            temp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(mode))
                .map_err(|e| named(path, "cannot create", e))?;
        }
        UNFINISHED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(temp.path().to_path_buf());
        let listed = Listed(temp.path().to_path_buf());
        Ok(OutputFile {
            target: Target::Replace { temp, path: target },
            _listed: Some(listed),
        })
    }

    /// Opens a device or FIFO (or a file the path names only through a
    /// link of the kernel's) to write into it directly.
    fn through(path: &Path) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path)
            .or_else(|e| {
                // Devices refuse `O_TRUNC` on some systems; they have
                // nothing to truncate anyway.
                if e.kind() == io::ErrorKind::InvalidInput {
                    std::fs::OpenOptions::new().write(true).open(path)
                } else {
                    Err(e)
                }
            })
            .map_err(|e| named(path, "cannot write", e))?;
        Ok(OutputFile {
            target: Target::Through(file),
            _listed: None,
        })
    }

    /// The temporary name while a regular file is being written.
    #[cfg(test)]
    fn temp_path(&self) -> Option<&Path> {
        match &self.target {
            Target::Replace { temp, .. } => Some(temp.path()),
            Target::Through(_) => None,
        }
    }

    /// True when the file can be written out of order (a report may go
    /// back to fill in its head): a regular file, not a device or FIFO.
    pub fn is_seekable(&self) -> bool {
        matches!(self.target, Target::Replace { .. })
    }

    /// The file being written.
    pub fn file(&self) -> &File {
        match &self.target {
            Target::Replace { temp, .. } => temp.as_file(),
            Target::Through(file) => file,
        }
    }

    /// The file being written, to write to.
    pub fn file_mut(&mut self) -> &mut File {
        match &mut self.target {
            Target::Replace { temp, .. } => temp.as_file_mut(),
            Target::Through(file) => file,
        }
    }

    /// Renames the finished file into place (replacing what was there).
    pub fn persist(self) -> io::Result<()> {
        let OutputFile { target, _listed } = self;
        match target {
            Target::Replace { temp, path } => {
                temp.persist(&path)
                    .map_err(|e| named(&path, "cannot write", e.error))?;
            }
            Target::Through(_) => {}
        }
        Ok(())
    }
}

/// A duplicate of standard output or standard error when `path` names it
/// (`/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/1`, and the same for 2).
fn own_descriptor(path: &Path) -> io::Result<Option<File>> {
    use std::os::fd::AsFd;
    let fd = match path.to_str() {
        Some("/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1") => 1,
        Some("/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2") => 2,
        _ => return Ok(None),
    };
    let owned = if fd == 1 {
        io::stdout().as_fd().try_clone_to_owned()?
    } else {
        io::stderr().as_fd().try_clone_to_owned()?
    };
    Ok(Some(File::from(owned)))
}

/// `path` with every symbolic link along its last component followed: the
/// file a rename must replace for the link to keep pointing at the output.
fn follow_links(path: &Path) -> io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&path)?;
                path = match path.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(path),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        "too many levels of symbolic links",
    ))
}

/// A run's file as the check below sees it: what it is to the user
/// (`--report-out`, "the recipient list") and its path.
pub type Named<'a> = (&'a str, &'a Path);

/// Refuses outputs that would overwrite one of the `inputs` or each other,
/// before anything is written. The message names both and says what to do.
pub fn check_outputs(inputs: &[Named<'_>], outputs: &[Named<'_>]) -> Result<(), String> {
    let inputs: Vec<(Named<'_>, FileId)> = inputs
        .iter()
        .filter_map(|&(what, path)| FileId::of_existing(path).map(|id| ((what, path), id)))
        .collect();
    let mut seen: Vec<(Named<'_>, FileId)> = Vec::with_capacity(outputs.len());
    for &(flag, path) in outputs {
        let id = FileId::of(path);
        // Devices and pipes can be shared (`--output /dev/null` with
        // `--report-out /dev/null` just discards both).
        if id.is_device() {
            continue;
        }
        if let Some(((what, input), _)) = inputs.iter().find(|(_, i)| *i == id) {
            return Err(format!(
                "{flag} {} is {what} this run reads ({}): writing it would destroy it; name \
                 another file",
                path.display(),
                input.display()
            ));
        }
        if let Some(((other, other_path), _)) = seen.iter().find(|(_, o)| *o == id) {
            return Err(format!(
                "{flag} {} and {other} {} are the same file: one would overwrite the other; \
                 name two different files",
                path.display(),
                other_path.display()
            ));
        }
        seen.push(((flag, path), id));
    }
    Ok(())
}

/// Which file a path names: an existing file by device and inode, a file
/// still to be made by its directory's identity and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
enum FileId {
    Existing {
        device: u64,
        inode: u64,
        /// A character device, FIFO or socket.
        special: bool,
    },
    New {
        dir: Box<FileId>,
        name: std::ffi::OsString,
    },
    /// Neither could be found out (the error comes when it is written).
    Unknown(PathBuf),
}

impl FileId {
    fn of(path: &Path) -> FileId {
        if let Some(id) = Self::of_existing(path) {
            return id;
        }
        let Ok(target) = follow_links(path) else {
            return FileId::Unknown(path.to_path_buf());
        };
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        match (Self::of_existing(dir), target.file_name()) {
            (Some(dir), Some(name)) => FileId::New {
                dir: Box::new(dir),
                name: name.to_os_string(),
            },
            _ => FileId::Unknown(target),
        }
    }

    fn of_existing(path: &Path) -> Option<FileId> {
        std::fs::metadata(path)
            .ok()
            .map(|meta| identity(&meta, path))
    }

    fn is_device(&self) -> bool {
        matches!(self, FileId::Existing { special: true, .. })
    }
}

#[cfg(unix)]
fn identity(meta: &Metadata, _path: &Path) -> FileId {
    use std::os::unix::fs::MetadataExt;
    FileId::Existing {
        device: meta.dev(),
        inode: meta.ino(),
        special: !meta.is_file() && !meta.is_dir(),
    }
}

/// Elsewhere, without inodes: the path made absolute with its links
/// resolved.
#[cfg(not(unix))]
fn identity(_meta: &Metadata, path: &Path) -> FileId {
    FileId::Unknown(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// True when the file at `path` is the one `meta` describes.
fn same_identity(meta: &Metadata, path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|other| identity(&other, path) == identity(meta, path))
}

#[cfg(unix)]
fn is_block_device(meta: &Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_block_device()
}

#[cfg(not(unix))]
fn is_block_device(_meta: &Metadata) -> bool {
    false
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
        let done_temp = done.temp_path().unwrap().to_path_buf();
        assert!(listed(&done_temp));
        done.persist().unwrap();
        assert!(!listed(&done_temp));
        let dropped = OutputFile::create(&dir.path().join("dropped.json")).unwrap();
        let dropped_temp = dropped.temp_path().unwrap().to_path_buf();
        assert!(listed(&dropped_temp));
        drop(dropped);
        assert!(!listed(&dropped_temp));
    }

    #[cfg(unix)]
    #[test]
    fn output_to_dev_null_replaced_the_device_with_a_file() {
        use std::os::unix::fs::FileTypeExt;
        let mut out = OutputFile::create(Path::new("/dev/null")).unwrap();
        // Written through: no temporary file that a rename would put in
        // the device's place (which, run as root, it did).
        assert!(out.temp_path().is_none());
        out.file_mut().write_all(b"a@example.nl\n").unwrap();
        out.persist().unwrap();
        let kind = std::fs::metadata("/dev/null").unwrap().file_type();
        assert!(kind.is_char_device());
    }

    #[cfg(unix)]
    #[test]
    fn output_to_a_fifo_replaced_the_fifo_with_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        let mut out = OutputFile::create(&fifo).unwrap();
        out.file_mut().write_all(b"report").unwrap();
        out.persist().unwrap();
        assert_eq!(reader.join().unwrap(), "report");
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn output_through_a_symlink_replaced_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let real_dir = dir.path().join("reports");
        std::fs::create_dir(&real_dir).unwrap();
        let real = real_dir.join("report.json");
        std::fs::write(&real, "old").unwrap();
        // A relative link, followed from the link's own directory.
        let link = dir.path().join("latest.json");
        std::os::unix::fs::symlink("reports/report.json", &link).unwrap();
        let mut out = OutputFile::create(&link).unwrap();
        // The temporary file lies beside the target, for the rename.
        assert_eq!(out.temp_path().unwrap().parent(), Some(real_dir.as_path()));
        out.file_mut().write_all(b"new").unwrap();
        out.persist().unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        // A dangling link: its target is made.
        let dangling = dir.path().join("next.json");
        std::os::unix::fs::symlink("reports/next.json", &dangling).unwrap();
        OutputFile::create(&dangling).unwrap().persist().unwrap();
        assert!(real_dir.join("next.json").is_file());
        assert!(std::fs::symlink_metadata(&dangling).unwrap().is_symlink());
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_private_report_stays_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.csv");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        OutputFile::create(&path).unwrap().persist().unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_directory_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let err = OutputFile::create(dir.path()).err().unwrap();
        assert!(err.to_string().contains("is a directory"), "{err}");
    }

    #[test]
    fn report_out_naming_an_input_destroyed_it() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("recipients.csv");
        std::fs::write(&list, "email\n").unwrap();
        let inputs = [("the recipient list", list.as_path())];
        // By another name of the same file: `./`, `..`, a link.
        let dotted = dir.path().join(".").join("recipients.csv");
        let err = check_outputs(&inputs, &[("--report-out", &dotted)]).unwrap_err();
        assert!(
            err.contains("is the recipient list this run reads"),
            "{err}"
        );
        #[cfg(unix)]
        {
            let hard = dir.path().join("hard.csv");
            std::fs::hard_link(&list, &hard).unwrap();
            let soft = dir.path().join("soft.csv");
            std::os::unix::fs::symlink(&list, &soft).unwrap();
            for alias in [hard, soft] {
                assert!(check_outputs(&inputs, &[("--output", &alias)]).is_err());
            }
        }
        let other = dir.path().join("report.csv");
        assert!(check_outputs(&inputs, &[("--report-out", &other)]).is_ok());
    }

    #[test]
    fn two_outputs_naming_one_file_overwrote_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("out.csv");
        let b = dir.path().join(".").join("out.csv");
        // Neither exists yet: the same name in the same directory.
        let err = check_outputs(&[], &[("--report-out", &a), ("--sendable-out", &b)]).unwrap_err();
        assert!(err.contains("are the same file"), "{err}");
        std::fs::write(&a, "").unwrap();
        assert!(check_outputs(&[], &[("--report-out", &a), ("--sendable-out", &b)]).is_err());
        let c = dir.path().join("other.csv");
        assert!(check_outputs(&[], &[("--report-out", &a), ("--sendable-out", &c)]).is_ok());
        // Discarding two outputs into /dev/null is fine.
        #[cfg(unix)]
        {
            let null = Path::new("/dev/null");
            assert!(check_outputs(&[], &[("--output", null), ("--report-out", null)]).is_ok());
        }
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
