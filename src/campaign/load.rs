//! Reading `campaign.toml`: raw serde structs with spans → [`Campaign`].

use std::fmt;
use std::path::{Path, PathBuf};

use super::{Campaign, Overrides};

/// One problem in the campaign file.
#[derive(Clone, Debug)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<u64>,
    pub message: String,
}

/// Every problem found in the campaign file, reported together.
#[derive(Clone, Debug)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl Campaign {
    /// Reads the campaign file (if any) and applies the command-line overrides.
    pub fn load(path: Option<&Path>, overrides: &Overrides) -> Result<Campaign, ConfigErrors> {
        let _ = (path, overrides);
        todo!()
    }
}
