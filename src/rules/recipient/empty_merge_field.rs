//! `empty-merge-field`: the template uses a field that is empty for this recipient.

use crate::draft::Templates;
use crate::normalise::trim;
use crate::recipients::{ColumnMap, Row, VarRef};

crate::declare_rule! {
    name: "empty-merge-field",
    scope: recipient,
    default: warning,
    order: 120,
    summary: "the template uses a field that is empty for this recipient",
    explain: "empty_merge_field.md",
}

/// Calls `found(header, variable)` for each merge field the templates show
/// although it is empty in `row` (`tracked`: the templates' tracked
/// variables resolved in the list's header). Run on every row: most rows
/// have every field filled, which is told without the templates' machinery
/// (which would find the same).
#[inline]
pub fn check<'a>(
    templates: &'a Templates,
    columns: &'a ColumnMap,
    tracked: &[VarRef],
    row: &Row<'_>,
    mut found: impl FnMut(&'a str, &'a str),
) {
    let names = templates.tracked_variables();
    let any_empty = tracked
        .iter()
        .zip(names)
        .any(|(var, name)| row.var_at(*var, name).is_some_and(|v| trim(v).is_empty()));
    if !any_empty {
        return;
    }
    let tracked_value = |i: usize| row.var_at(tracked[i], names[i].as_str());
    let shown = templates.empty_fields_shown_with(&tracked_value, &|name| row.var(name));
    for variable in shown {
        let header = columns
            .column_of_var(variable)
            .map_or(variable, |c| c.header.as_str());
        found(header, variable);
    }
}

/// The message about an empty `variable`, written into `message` (a buffer
/// the judge lends, so a row's messages cost no allocation).
pub fn message(message: &mut String, variable: &str) {
    for piece in ["`", variable, "` is empty, so the recipient sees a gap"] {
        message.push_str(piece);
    }
}
