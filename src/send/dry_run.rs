//! The directory of `send --dry-run DIR`.
//!
//! A dry run writes `000001.eml`, `000002.eml`, … into DIR. Written into a
//! directory that already held files, the new messages would lie among
//! stale ones (an earlier run of a longer list leaves its `000900.eml`
//! behind), and what the user reviews would not be what goes out. So DIR
//! must be new or empty — unless it holds an earlier dry run of the same
//! campaign and nothing else, which is then replaced. A small marker file
//! says whose dry run a directory holds.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The marker a dry run leaves in its directory.
pub const MARKER: &str = ".mailgate-dry-run";

/// Makes `dir` ready for a dry run of the campaign in `campaign_file`:
/// creates it, or empties an earlier dry run of the same campaign. Refuses
/// (with what to do) a directory holding anything else.
pub fn prepare(dir: &Path, campaign_file: Option<&Path>) -> Result<(), String> {
    fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the dry-run directory {}: {e}", dir.display()))?;
    let owner = owner_line(campaign_file);
    let cannot_read = |e: io::Error| format!("cannot read {}: {e}", dir.display());
    let mut messages: Vec<PathBuf> = Vec::new();
    let mut marker = None;
    let mut foreign = None;
    for entry in fs::read_dir(dir).map_err(cannot_read)? {
        let entry = entry.map_err(cannot_read)?;
        let name = entry.file_name();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        match name.to_str() {
            Some(MARKER) if is_file => marker = Some(entry.path()),
            Some(n) if is_file && is_message_name(n) => messages.push(entry.path()),
            _ => {
                foreign.get_or_insert(entry.path());
            }
        }
    }
    if marker.is_none() && messages.is_empty() && foreign.is_none() {
        return write_marker(dir, &owner);
    }
    let earlier_owner = marker
        .as_deref()
        .map(|m| fs::read_to_string(m).unwrap_or_default());
    let refuse = |why: String| {
        Err(format!(
            "the dry-run directory {} is not empty ({why}); a dry run writes into a new or \
             empty directory, or over an earlier dry run of the same campaign: choose another \
             directory or empty this one",
            dir.display()
        ))
    };
    match (earlier_owner, foreign) {
        (_, Some(other)) => refuse(format!("it holds {}", other.display())),
        (None, None) => refuse("it holds .eml files that no dry run of mailgate marked".into()),
        (Some(earlier), None) if earlier != owner => {
            refuse("it holds a dry run of another campaign".into())
        }
        (Some(_), None) => {
            for message in messages {
                fs::remove_file(&message).map_err(|e| {
                    format!(
                        "cannot remove {} of the earlier dry run: {e}",
                        message.display()
                    )
                })?;
            }
            Ok(())
        }
    }
}

/// True for the names a dry run gives its messages (`000001.eml`).
fn is_message_name(name: &str) -> bool {
    name.strip_suffix(".eml")
        .is_some_and(|n| n.len() >= 6 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// What the marker says: the campaign file, by its absolute path (the same
/// campaign reached by another relative path is still the same).
fn owner_line(campaign_file: Option<&Path>) -> String {
    let file = campaign_file
        .map(|p| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()))
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    format!("mailgate dry run of campaign: {file}\n")
}

fn write_marker(dir: &Path, owner: &str) -> Result<(), String> {
    let path = dir.join(MARKER);
    fs::write(&path, owner).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_earlier_dry_run_of_the_same_campaign_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let campaign = dir.path().join("campaign.toml");
        fs::write(&campaign, "").unwrap();
        let out = dir.path().join("out");
        prepare(&out, Some(&campaign)).unwrap();
        fs::write(out.join("000001.eml"), "x").unwrap();
        fs::write(out.join("000002.eml"), "x").unwrap();
        prepare(&out, Some(&campaign)).unwrap();
        assert_eq!(names(&out), [MARKER]);
    }

    #[test]
    fn stale_messages_of_another_campaign_are_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (one, two) = (dir.path().join("one.toml"), dir.path().join("two.toml"));
        fs::write(&one, "").unwrap();
        fs::write(&two, "").unwrap();
        let out = dir.path().join("out");
        prepare(&out, Some(&one)).unwrap();
        fs::write(out.join("000001.eml"), "x").unwrap();
        let err = prepare(&out, Some(&two)).unwrap_err();
        assert!(err.contains("another campaign"), "{err}");
        assert_eq!(names(&out), [MARKER, "000001.eml"]);
    }

    #[test]
    fn a_directory_with_other_files_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("recipients.csv"), "email\n").unwrap();
        fs::write(dir.path().join("000001.eml"), "x").unwrap();
        let err = prepare(dir.path(), None).unwrap_err();
        assert!(err.contains("is not empty"), "{err}");
        assert_eq!(names(dir.path()), ["000001.eml", "recipients.csv"]);
        // Unmarked messages alone are not taken for a dry run either.
        fs::remove_file(dir.path().join("recipients.csv")).unwrap();
        let err = prepare(dir.path(), None).unwrap_err();
        assert!(err.contains("no dry run of mailgate marked"), "{err}");
    }
}
