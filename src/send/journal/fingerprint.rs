//! Fingerprints tie a journal to the inputs it was started for (SPEC §5):
//! what decides who gets which message, and nothing else.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// xxh3-128 fingerprints (32 lower-case hex digits) of what decides who
/// gets which message: the campaign's settings outside `[smtp]`, the draft,
/// the recipient list and the suppression lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprints {
    /// The campaign file's settings that change a verdict or a message
    /// (see [`fingerprint_campaign_settings`]).
    pub campaign: String,
    /// The draft (`.eml`).
    pub draft: String,
    /// The recipient CSV.
    pub recipients: String,
    /// The suppression files, in order; empty in journals written before
    /// they were fingerprinted (then not compared).
    #[serde(default)]
    pub suppression: String,
}

impl Fingerprints {
    /// Fingerprints the inputs (see [`fingerprint_file`] and
    /// [`fingerprint_campaign_settings`]).
    pub fn of_files(
        campaign: &Path,
        draft: &Path,
        recipients: &Path,
        suppression: &[PathBuf],
    ) -> io::Result<Self> {
        let mut hasher = xxhash_rust::xxh3::Xxh3Default::new();
        for file in suppression {
            hasher.update(fingerprint_file(file)?.as_bytes());
        }
        Ok(Fingerprints {
            campaign: fingerprint_campaign_settings(campaign)?,
            draft: fingerprint_file(draft)?,
            recipients: fingerprint_file(recipients)?,
            suppression: format!("{:032x}", hasher.digest128()),
        })
    }

    /// Which inputs differ between `self` (what the journal holds) and
    /// `now`, in the order campaign, draft, recipients, suppression.
    pub fn changed(&self, now: &Fingerprints) -> Vec<Input> {
        [
            (Input::Campaign, &self.campaign, &now.campaign),
            (Input::Draft, &self.draft, &now.draft),
            (Input::Recipients, &self.recipients, &now.recipients),
            (Input::Suppression, &self.suppression, &now.suppression),
        ]
        .into_iter()
        .filter(|(input, then, now)| {
            then != now && !(*input == Input::Suppression && then.is_empty())
        })
        .map(|(input, _, _)| input)
        .collect()
    }
}

/// The fingerprint of a campaign file's settings that decide who gets which
/// message: the whole file as TOML data (comments and layout do not count)
/// without the `[smtp]` table (host, port, connections, rate… change how
/// mail is handed over, not what or to whom) and without the rule levels
/// of `[rules]` (`allow`, `warn`, `deny` shape the report, never who is
/// sendable). A file that is no TOML is fingerprinted as bytes.
pub fn fingerprint_campaign_settings(path: &Path) -> io::Result<String> {
    let text = std::fs::read_to_string(path)?;
    let Ok(mut table) = text.parse::<toml::Table>() else {
        return fingerprint_file(path);
    };
    table.remove("smtp");
    if let Some(toml::Value::Table(rules)) = table.get_mut("rules") {
        for level in ["allow", "warn", "deny"] {
            rules.remove(level);
        }
    }
    // serde_json writes a table's keys in the map's (sorted) order.
    let canonical = serde_json::to_vec(&table).map_err(io::Error::other)?;
    Ok(format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&canonical)))
}

/// The xxh3-128 of a file's bytes as 32 lower-case hex digits, read in
/// chunks (a recipient list can be large).
pub fn fingerprint_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = xxhash_rust::xxh3::Xxh3Default::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(format!("{:032x}", hasher.digest128()))
}

/// One of the inputs a journal is tied to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Input {
    Campaign,
    Draft,
    Recipients,
    Suppression,
}

impl Input {
    pub fn describe(self) -> &'static str {
        match self {
            Input::Campaign => "the campaign settings (outside [smtp])",
            Input::Draft => "the draft",
            Input::Recipients => "the recipient list",
            Input::Suppression => "the suppression list",
        }
    }
}
