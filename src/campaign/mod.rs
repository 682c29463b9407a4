//! The campaign file (SPEC §1.1): read with serde and spans, then validated
//! into a [`Campaign`]. Every problem is collected before any is reported.

mod load;
pub mod unsubscribe;

pub use load::{ConfigError, ConfigErrors};

use std::net::IpAddr;
use std::path::PathBuf;

use jiff::civil::Date;

pub use crate::levels::Jurisdiction;
use crate::levels::{Level, RuleId};
use crate::recipients::Field;
use crate::span::Place;

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tls {
    #[default]
    Starttls,
    Tls,
    None,
}

/// A sending rate cap across all connections.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub messages: u32,
    pub per_seconds: u32,
}

/// The `[smtp]` table.
#[derive(Clone, Debug)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub username: Option<String>,
    /// The name of the environment variable that holds the password.
    pub password_env: Option<String>,
    /// Extra CA certificate (PEM) to trust, for private relays.
    pub ca_file: Option<PathBuf>,
    pub connections: u32,
    pub rate: Option<Rate>,
    /// Where the `tls` value is, for `insecure-transport`.
    pub tls_at: Option<Place>,
    /// Where a `password` key is, for `password-in-config` (its value is
    /// never kept: a secret must not travel further).
    pub password_at: Option<Place>,
}

/// A `[products]` similarity group.
#[derive(Clone, Debug)]
pub struct ProductGroup {
    pub name: String,
    pub products: Vec<String>,
    pub line: Option<u64>,
}

/// A validated campaign: the file's settings with command-line overrides
/// applied and paths resolved.
#[derive(Clone, Debug)]
pub struct Campaign {
    /// The campaign file, when there is one.
    pub path: Option<PathBuf>,
    pub name: String,
    pub draft: PathBuf,
    pub recipients: PathBuf,
    pub suppression: Vec<PathBuf>,
    /// What the mailing promotes.
    pub products: Vec<String>,
    /// Where the `product`/`products` key is in the campaign file (`None`
    /// when the products come from `--product`).
    pub products_at: Option<Place>,
    /// Where each of `products` is written in the campaign file, in order
    /// (empty when they come from `--product`).
    pub product_places: Vec<Place>,
    pub sender: Option<String>,
    pub postal_address: Option<String>,
    pub unsubscribe_url: Option<String>,
    /// Where the `unsubscribe_url` value is in the campaign file.
    pub unsubscribe_url_at: Option<Place>,
    pub jurisdiction: Jurisdiction,
    /// The date ages are measured against.
    pub today: Date,
    pub product_groups: Vec<ProductGroup>,
    /// `[columns]`: logical field → CSV header.
    pub columns: Vec<(Field, String)>,
    /// `[rules]` allow/warn/deny entries, in file order (the registry turns
    /// them into levels: `rules::Levels::for_campaign`).
    pub rule_levels: Vec<(RuleId, Level)>,
    pub soft_opt_in_months: u32,
    pub consent_max_age_months: u32,
    pub smtp: Option<Smtp>,
}

impl Campaign {
    /// Every file the run reads, each with what it is to the user (for
    /// refusing an output that would overwrite one of them).
    pub fn input_files(&self) -> Vec<(&'static str, &std::path::Path)> {
        let mut files = Vec::with_capacity(3 + self.suppression.len());
        if let Some(path) = &self.path {
            files.push(("the campaign file", path.as_path()));
        }
        files.push(("the recipient list", self.recipients.as_path()));
        files.push(("the draft", self.draft.as_path()));
        for path in &self.suppression {
            files.push(("a suppression file", path.as_path()));
        }
        files
    }

    /// The file name to show in diagnostics about the campaign file.
    pub fn display_path(&self) -> Option<String> {
        self.path.as_ref().map(|p| p.display().to_string())
    }
}

impl Smtp {
    /// True when mail and the password would cross the network in clear
    /// text: `tls = "none"` to a host that is not this machine. One test for
    /// the `insecure-transport` rule, which reports it, and for `send`, which
    /// refuses it unless forced, so that the two cannot disagree.
    pub fn is_clear_text_off_machine(&self) -> bool {
        self.tls == Tls::None && !is_loopback(&self.host)
    }
}

/// True for `localhost` and loopback IP addresses.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Command-line settings that override the campaign file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub recipients: Option<PathBuf>,
    pub draft: Option<PathBuf>,
    pub products: Vec<String>,
}
