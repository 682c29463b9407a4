//! `unused-column`: a column that no rule and no template uses is carried along.
//!
//! Decided at the header, from the columns the rules read and the variables
//! the templates use; the cleaned list (`--sendable-out`) keeps only the
//! columns [`column_is_used`] calls used.

use std::collections::BTreeSet;

use crate::diagnostic::Finding;
use crate::recipients::{Column, Field};
use crate::rules::RuleId;
use crate::rules::list::{List, Scan};

crate::declare_rule! {
    name: "unused-column",
    scope: list,
    default: warning,
    order: 40,
    summary: "a column that no rule and no template uses is carried along",
    explain: "unused_column.md",
}

/// Reports the columns nothing uses: an export's own bookkeeping columns
/// left unused as one finding for all. When the templates' variables are
/// not known (a template did not compile), no column is called unused,
/// rather than every column that only the broken template uses.
pub fn check(list: &List<'_>, out: &mut Vec<Finding>) -> Option<Box<dyn Scan>> {
    let (columns, used_by_templates) = (list.columns, list.used_by_templates);
    // An export's own bookkeeping columns left unused: one finding for all.
    let mut bookkeeping: Vec<&Column> = Vec::new();
    for column in &columns.columns {
        let used = column_is_used(column, used_by_templates);
        if !used && columns.is_bookkeeping(column) {
            bookkeeping.push(column);
        } else if !used {
            // A header that looks like a logical field no column holds is
            // likely meant to be it: say how to map it.
            let hint = crate::recipients::likely_field(&column.header)
                .filter(|&f| column.field.is_none() && !columns.has(f))
                .map(|f| {
                    format!(
                        "; if it holds {f}, map it in the campaign file: [columns] {f} = \"{}\"",
                        column.header
                    )
                })
                .unwrap_or_default();
            out.push(list.at_header(
                column,
                Finding::new(
                RuleId::UnusedColumn,
                format!(
                    "column `{}` is used by no template and no rule; leave it out of the \
                     export (data minimisation){hint}",
                    column.header
                ),
            )));
        }
    }
    if let Some(first) = bookkeeping.first() {
        let names: Vec<String> = bookkeeping
            .iter()
            .map(|c| format!("`{}`", c.header))
            .collect();
        out.push(list.at_header(
            first,
            Finding::new(
                RuleId::UnusedColumn,
                format!(
                    "{} of Mailchimp's bookkeeping columns ({}) are used by no template and \
                     no rule; export the audience without them, or delete them before the \
                     list is shared (data minimisation)",
                    names.len(),
                    names.join(", ")
                ),
            ),
        ));
    }
    None
}

/// Headers that a preset reads although they map to no logical field.
const PRESET_USED: &[&str] = &["optinip", "confirmip", "cleantime", "attributes", "status"];

/// Whether a rule consults `column` or a template uses its variable (under
/// either name). `used_by_templates` is `None` when that is not known (a
/// template did not compile): then every column counts as used.
pub fn column_is_used(column: &Column, used_by_templates: Option<&BTreeSet<String>>) -> bool {
    let used_by_rules = matches!(
        column.field,
        Some(f) if !matches!(f, Field::FirstName | Field::LastName | Field::Name)
    ) || PRESET_USED.contains(&crate::normalise::header_letters(&column.header).as_str());
    used_by_rules
        || used_by_templates.is_none_or(|used| {
            used.contains(&column.var)
                || column.header_var.as_ref().is_some_and(|v| used.contains(v))
        })
}
