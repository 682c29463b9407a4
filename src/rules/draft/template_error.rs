//! `template-error`: a template does not parse.


use crate::campaign::Campaign;
use crate::diagnostic::Finding;
use crate::draft::templates::TemplateProblem;
use crate::draft::{Draft, TemplateSource};
use crate::rules::RuleId;

crate::declare_rule! {
    name: "template-error",
    scope: draft,
    default: error,
    order: 130,
    summary: "a template does not parse",
    explain: "template_error.md",
}

/// The `field` of a diagnostic about a template.
pub fn template_field(draft: &Draft, source: TemplateSource) -> String {
    match source {
        TemplateSource::Subject => "Subject".to_owned(),
        TemplateSource::Part(i) => draft
            .parts
            .get(i)
            .map_or("body", |p| p.kind.mime())
            .to_owned(),
    }
}

/// The draft's templates that do not parse.
pub fn in_draft(draft: &Draft, problems: Vec<TemplateProblem>, file: &str) -> Vec<Finding> {
    problems
        .into_iter()
        .map(|problem| {
            let field = template_field(draft, problem.source);
            Finding::new(RuleId::TemplateError, problem.message)
                .file(file)
                .line(problem.line)
                .field(field)
        })
        .collect()
}

/// The campaign's `unsubscribe_url`, which is a template too, when it does
/// not parse (`message`: why).
pub fn in_unsubscribe_url(campaign: &Campaign, message: &str) -> Finding {
    let finding = Finding::new(
        RuleId::TemplateError,
        format!("unsubscribe_url is not a valid template: {message}"),
    )
    .field("unsubscribe_url")
    .at(campaign.unsubscribe_url_at);
    match campaign.display_path() {
        Some(file) => finding.file(file),
        None => finding,
    }
}
