//! `invalid-merge-value`: a merge value that cannot go into this recipient's
//! message headers (checked by the same code that builds them for `send`), or
//! that makes a template of the draft fail to render (found by
//! `empty_merge_field::check`, which renders the message of a recipient
//! with an empty field).
//!
//! Unlike the other recipient rules it is not decided by the judge (SPEC §2
//! says nothing of it): [`super::MergeChecks`] asks [`HeaderCheck`] (and
//! the templates, through `empty-merge-field`'s render) about every row the
//! judgement did not stop, and the lint blocks a row it fails, since `send`
//! could not build its message.

use std::collections::{BTreeMap, BTreeSet};

use crate::bytes::has_control_char;
use crate::draft::Templates;
use crate::draft::templates::{BUILTIN_VARIABLES, UnsubscribeTemplate};
use crate::recipients::{ColumnMap, Field, RecipientReader, Row, VarRef};

crate::declare_rule! {
    name: "invalid-merge-value",
    scope: recipient,
    default: error,
    order: 130,
    summary: "a merge value cannot go into this recipient's Subject, unsubscribe URL or body",
    explain: "invalid_merge_value.md",
}

/// The headers `send` renders from merge values (`Subject`, the
/// unsubscribe URL), checked row by row with the same code
/// ([`crate::message::render_headers`]), so that a row lint calls
/// sendable is one `send` can build.
pub struct HeaderCheck<'a> {
    templates: &'a Templates,
    has_subject: bool,
    unsubscribe: Option<&'a UnsubscribeTemplate>,
    /// The variables a template reads, resolved in the list's header.
    variables: Vec<(String, VarRef)>,
    /// The unsubscribe URL's scheme comes from a merge value: every row is
    /// rendered. Otherwise only a row with a control character in a value
    /// can fail, and only such a row is rendered (a long list costs a scan).
    every_row: bool,
}

impl<'a> HeaderCheck<'a> {
    /// Resolves the variables the templates read in the list's header.
    pub fn new(
        templates: &'a Templates,
        has_subject: bool,
        unsubscribe: Option<&'a UnsubscribeTemplate>,
        reader: &RecipientReader,
    ) -> Self {
        let mut names: BTreeSet<String> = templates.variables().clone();
        if let Some(u) = unsubscribe {
            names.extend(u.variables().iter().cloned());
        }
        let variables = names
            .into_iter()
            .filter(|n| !BUILTIN_VARIABLES.contains(&n.as_str()))
            .map(|n| {
                let var = reader.resolve_var(&n);
                (n, var)
            })
            .collect();
        HeaderCheck {
            templates,
            has_subject,
            unsubscribe,
            variables,
            every_row: unsubscribe.is_some_and(|u| u.source().trim_start().starts_with('{')),
        }
    }

    /// Why `row`'s headers cannot be built: the column at fault (the
    /// variable's header in `columns`, or `unsubscribe_url` when no column
    /// is to blame) and the message.
    pub fn check<'c>(&self, row: &Row<'_>, columns: &'c ColumnMap) -> Option<(&'c str, String)> {
        let suspect = self.every_row
            || self
                .variables
                .iter()
                .any(|(name, var)| row.var_at(*var, name).is_some_and(has_control_char));
        if !suspect {
            return None;
        }
        let values: BTreeMap<String, String> = self
            .variables
            .iter()
            .map(|(name, var)| {
                (
                    name.clone(),
                    row.var_at(*var, name).unwrap_or("").to_owned(),
                )
            })
            .collect();
        let error = crate::message::render_headers(
            self.templates,
            self.has_subject,
            self.unsubscribe,
            row.get(Field::Email),
            &values,
        )
        .err()?;
        let column = error
            .column()
            .and_then(|v| columns.column_of_var(v))
            .map_or("unsubscribe_url", |c| c.header.as_str());
        Some((column, error.to_string()))
    }
}
