//! The exports recognised from their headers alone (SPEC §1.2): a
//! Mailchimp audience export and a listmonk subscriber export, and the
//! columns of theirs the reader derives fields from.

use super::Preset;
use super::aliases::normalized_eq;

pub(super) fn detect_preset<'a>(headers: impl Iterator<Item = &'a str> + Clone) -> Preset {
    let has = |name: &str| headers.clone().any(|h| normalized_eq(h, name));
    if has("email address") && (has("optin time") || has("confirm time")) {
        Preset::Mailchimp
    } else if has("uuid") && has("email") && has("attributes") && has("status") {
        Preset::Listmonk
    } else {
        Preset::Plain
    }
}

/// The columns of a Mailchimp opt-in record, and which fields are derived
/// from them (not when `[columns]` or another column provides the field).
#[derive(Debug, Clone, Copy)]
pub(in crate::recipients) struct Mailchimp {
    pub confirm_time: Option<usize>,
    pub optin_time: Option<usize>,
    pub confirm_ip: Option<usize>,
    pub optin_ip: Option<usize>,
    pub derive_consent_at: bool,
    pub derive_consent_source: bool,
    /// `CLEAN_TIME`: non-empty when Mailchimp "cleaned" the address (it
    /// bounced).
    pub clean_time: Option<usize>,
}

/// Mailchimp's own bookkeeping columns (compared as headers are): what an
/// audience export carries besides the merge fields and the opt-in record.
/// No rule reads them; `unused-column` names them once, as a group, and
/// `national-id` never looks at their values (a `LEID` is a 9-digit number
/// that may pass the eleven-test by chance). The opt-in record's own
/// columns (`CONFIRM_TIME`, `OPTIN_IP`, …) and `CLEAN_TIME` are read.
pub(super) const MAILCHIMP_BOOKKEEPING: &[&str] = &[
    "member rating",
    "latitude",
    "longitude",
    "gmtoff",
    "dstoff",
    "timezone",
    "cc",
    "region",
    "last changed",
    "leid",
    "euid",
    "notes",
    "tags",
    "unsub campaign title",
    "unsub campaign id",
    "unsub reason",
    "unsub reason other",
    "clean campaign title",
    "clean campaign id",
];

/// The columns of a listmonk export that hold more than a value.
#[derive(Debug, Clone, Copy)]
pub(in crate::recipients) struct Listmonk {
    /// `status`, when it decides `unsubscribed_at`.
    pub status: Option<usize>,
    pub attributes: Option<usize>,
}
