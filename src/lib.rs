//! mailgate: a pre-send linter and sending gate for mailing lists.
//!
//! The flow follows the data: [`campaign`] → [`recipients`] + [`draft`] →
//! [`judge`] → [`diagnostic`]s → [`report`]. The library never prints; the
//! binary chooses a reporter and maps the outcome to an exit code.
//!
//! Linting the README's demo from code:
//!
//! ```
//! use mailgate::campaign::{Campaign, Overrides};
//! use mailgate::lint::{lint, Outputs};
//! use mailgate::report::JsonEmitter;
//!
//! let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/campaign.toml");
//! let campaign = Campaign::load(Some(&path), &Overrides::default()).unwrap();
//! let mut emitter = JsonEmitter::new().unwrap();
//! let summary = lint(&campaign, &mut emitter, &Outputs::default()).unwrap();
//! assert_eq!((summary.recipients, summary.sendable, summary.blocked), (50, 25, 24));
//! ```

pub mod address_book;
pub mod bytes;
pub mod campaign;
pub mod diagnostic;
pub mod draft;
pub mod escape;
pub mod hash;
pub mod init;
pub mod judge;
pub mod levels;
pub mod limits;
pub mod lint;
pub mod message;
pub mod normalise;
pub mod output_file;
pub mod paths;
pub mod recipients;
pub mod report;
pub mod rules;
pub mod send;
pub mod span;
pub mod suggest;
