//! `mailgate init [DIR]`: a commented example campaign that lints clean, to
//! start from.

use std::path::Path;

/// The files `init` writes, with their contents.
pub const FILES: &[(&str, &str)] = &[
    ("campaign.toml", include_str!("campaign.toml")),
    ("draft.eml", include_str!("draft.eml")),
    ("recipients.csv", include_str!("recipients.csv")),
    ("unsubscribed.csv", include_str!("unsubscribed.csv")),
];

/// Writes the example campaign into `dir` (created if needed). Refuses to
/// overwrite: an existing file is an error that names it, and nothing is
/// written.
pub fn write_example(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let paths: Vec<_> = FILES.iter().map(|(name, _)| dir.join(name)).collect();
    if let Some(existing) = paths.iter().find(|p| p.exists()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "{} already exists; choose an empty directory (`mailgate init DIR`)",
                existing.display()
            ),
        ));
    }
    for (path, (_, contents)) in paths.iter().zip(FILES) {
        std::fs::write(path, contents)?;
    }
    Ok(paths)
}
