//! `unknown-merge-field`: a template uses a variable that is no column and no built-in.

use std::collections::BTreeSet;

use crate::diagnostic::Finding;
use crate::campaign::Campaign;
use crate::draft::templates::{BUILTIN_VARIABLES, UnsubscribeTemplate};
use crate::draft::{Draft, Templates};
use crate::recipients::ColumnMap;
use crate::rules::RuleId;
use crate::rules::draft::template_error::template_field;



crate::declare_rule! {
    name: "unknown-merge-field",
    scope: draft,
    default: error,
    order: 120,
    summary: "a template uses a variable that is no column and no built-in",
    explain: "unknown_merge_field.md",
}

/// `unknown-merge-field`: template variables that are no column and no built-in.
pub fn unknown_merge_fields(
    templates: &Templates,
    draft: &Draft,
    known: &BTreeSet<String>,
) -> Vec<Finding> {
    let file = crate::paths::display(&draft.path);
    templates
        .variables()
        .iter()
        .filter(|v| !known.contains(*v))
        .map(|variable| {
            let hint = unknown_hint(variable, known);
            let (source, line) = templates
                .first_use(variable)
                .map_or((None, None), |(s, l)| (Some(s), Some(l)));
            let mut finding = Finding::new(
                RuleId::UnknownMergeField,
                format!("the template uses `{variable}`, which is no column and no built-in{hint}"),
            )
            .file(&file)
            .line(line);
            if let Some(source) = source {
                finding = finding.field(template_field(draft, source));
            }
            finding
        })
        .collect()
}

/// "did you mean" for an unknown variable, or what to do.
pub fn unknown_hint(variable: &str, known: &BTreeSet<String>) -> String {
    let candidates: Vec<&str> = known.iter().map(String::as_str).collect();
    crate::suggest::suggest(variable, &candidates)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_else(|| "; add the column to the CSV or fix the template".to_owned())
}

/// `unknown-merge-field` for the draft's templates and the campaign's
/// `unsubscribe_url`: a variable is known when it is a column of the list
/// (under its header or its logical field), a built-in, or one of
/// `attribute_keys` (a listmonk export's, known after its last row).
pub fn check_templates(
    templates: &Templates,
    unsubscribe: Option<&UnsubscribeTemplate>,
    draft: &Draft,
    campaign: &Campaign,
    columns: &ColumnMap,
    attribute_keys: &BTreeSet<String>,
) -> Vec<Finding> {
    let known: BTreeSet<String> = columns
        .vars()
        .map(str::to_owned)
        .chain(BUILTIN_VARIABLES.iter().map(|v| v.to_string()))
        .chain(attribute_keys.iter().cloned())
        .collect();
    let known = &known;
    let mut findings = unknown_merge_fields(templates, draft, known);
    let unknown = unsubscribe
        .map(|t| t.variables())
        .unwrap_or_default()
        .iter()
        .filter(|v| !known.contains(*v));
    for variable in unknown {
        let mut finding = Finding::new(
            RuleId::UnknownMergeField,
            format!(
                "unsubscribe_url uses `{variable}`, which is no column and no built-in{}",
                unknown_hint(variable, known)
            ),
        )
        .field("unsubscribe_url");
        if let Some(file) = campaign.display_path() {
            finding = finding.file(file);
        }
        findings.push(finding);
    }
    findings
}
