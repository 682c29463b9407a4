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
///
/// When a template cannot be rendered with the row's values at all (a
/// value that sends a loop past the render's fuel, say), no gap is
/// reported: `send` would fail this recipient, and the return value says
/// so — (the template's name, the message) — for the caller to report as
/// `invalid-merge-value`, the rule of a value that cannot go into the
/// recipient's message.
#[inline]
pub fn check<'a>(
    templates: &'a Templates,
    columns: &'a ColumnMap,
    tracked: &[VarRef],
    row: &Row<'_>,
    mut found: impl FnMut(&'a str, &'a str),
) -> Option<(&'static str, String)> {
    let names = templates.tracked_variables();
    let any_empty = tracked
        .iter()
        .zip(names)
        .any(|(var, name)| row.var_at(*var, name).is_some_and(|v| trim(v).is_empty()));
    if !any_empty {
        return None;
    }
    let tracked_value = |i: usize| row.var_at(tracked[i], names[i].as_str());
    let result = templates.empty_fields_shown_with(&tracked_value, &|name| row.var(name));
    if let Some((source, error)) = result.failed {
        let template = templates.template_name(source);
        return Some((
            template,
            format!(
                "the {template} template cannot be rendered with this recipient's values, so \
                 `send` would fail them: {error}"
            ),
        ));
    }
    for variable in result.shown {
        let header = columns
            .column_of_var(variable)
            .map_or(variable, |c| c.header.as_str());
        found(header, variable);
    }
    None
}

/// The message about an empty `variable`, written into `message` (a buffer
/// the judge lends, so a row's messages cost no allocation).
pub fn message(message: &mut String, variable: &str) {
    for piece in ["`", variable, "` is empty, so the recipient sees a gap"] {
        message.push_str(piece);
    }
}
