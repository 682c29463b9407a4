//! How a file is named in a message: relative to the working directory
//! when it lies below it, as the user most likely typed it.

use std::path::Path;

/// A path as the user would recognise it in a message.
pub fn display(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    cwd.as_deref()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path)
        .display()
        .to_string()
}
