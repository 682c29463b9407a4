//! Recipient rules (SPEC §3). The judge decides most of them together
//! (SPEC §2 settles one basis per recipient), so their checks live in
//! [`crate::judge`]. The two it does not decide — whether this
//! recipient's message can be built (`invalid-merge-value`) and whether it
//! shows a gap (`empty-merge-field`) — are asked by [`MergeChecks`], row by
//! row, after the judge.

use std::borrow::Cow;

use crate::draft::Templates;
use crate::draft::templates::UnsubscribeTemplate;
use crate::recipients::{ColumnMap, RecipientReader, Row, VarRef};
use crate::rules::RuleId;

// The rule files of this scope (src/rules/recipient/), found by build.rs.
include!(concat!(env!("OUT_DIR"), "/rules/recipient.rs"));

use invalid_merge_value::HeaderCheck;

/// `invalid-merge-value` and `empty-merge-field` for one list: what the
/// templates read, resolved once in the list's header.
pub struct MergeChecks<'a> {
    headers: HeaderCheck<'a>,
    templates: &'a Templates,
    columns: &'a ColumnMap,
    /// The templates' tracked variables, resolved in the list's header.
    tracked: Vec<VarRef>,
}

impl<'a> MergeChecks<'a> {
    pub fn new(
        templates: &'a Templates,
        has_subject: bool,
        unsubscribe: Option<&'a UnsubscribeTemplate>,
        reader: &RecipientReader,
        columns: &'a ColumnMap,
    ) -> Self {
        MergeChecks {
            headers: HeaderCheck::new(templates, has_subject, unsubscribe, reader),
            templates,
            columns,
            tracked: templates
                .tracked_variables()
                .iter()
                .map(|name| reader.resolve_var(name))
                .collect(),
        }
    }

    /// Checks one row (one the judgement did not stop): calls
    /// `found(rule, message, column)` for each finding, with a message
    /// written into a string `buffer()` lends (the judge's, so that a row's
    /// messages cost no allocation). A row whose message cannot be built
    /// gets one `invalid-merge-value`, for its headers or else its
    /// templates.
    #[inline]
    pub fn check(
        &self,
        row: &Row<'_>,
        mut buffer: impl FnMut() -> String,
        mut found: impl FnMut(RuleId, Cow<'a, str>, &'a str),
    ) {
        let headers_fail = self.headers.check(row, self.columns);
        let invalid = headers_fail.is_some();
        if let Some((column, message)) = headers_fail {
            found(RuleId::InvalidMergeValue, Cow::Owned(message), column);
        }
        let failed = empty_merge_field::check(
            self.templates,
            self.columns,
            &self.tracked,
            row,
            |header, variable| {
                let mut message = buffer();
                empty_merge_field::message(&mut message, variable);
                found(RuleId::EmptyMergeField, Cow::Owned(message), header);
            },
        );
        // A template that fails with this row's values fails its send:
        // reported like a header that cannot be built, once per row.
        if let Some((template, message)) = failed
            && !invalid
        {
            found(RuleId::InvalidMergeValue, Cow::Owned(message), template);
        }
    }
}
