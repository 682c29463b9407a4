//! mailgate: a pre-send linter and sending gate for mailing lists.
//!
//! The flow follows the data: [`campaign`] → [`recipients`] + [`draft`] →
//! [`judge`] → [`diagnostic`]s → [`report`]. The library never prints; the
//! binary chooses a reporter and maps the outcome to an exit code.

pub mod campaign;
pub mod diagnostic;
pub mod draft;
pub mod init;
pub mod judge;
pub mod lint;
pub mod recipients;
pub mod report;
pub mod rules;
pub mod send;
