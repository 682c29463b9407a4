//! The draft's subject and body parts as minijinja templates, compiled once.

use std::collections::BTreeSet;

use super::Draft;

/// Which template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TemplateSource {
    Subject,
    /// Index into [`Draft::parts`].
    Part(usize),
}

/// A template that does not parse (`template-error`).
#[derive(Clone, Debug)]
pub struct TemplateProblem {
    pub source: TemplateSource,
    /// 1-based line in the `.eml` file.
    pub line: u64,
    pub message: String,
}

/// The compiled templates of one draft.
pub struct Templates {
    _private: (),
}

impl Templates {
    /// Compiles the subject and every body part. HTML parts auto-escape
    /// values. Templates that fail to parse are reported and left out.
    pub fn compile(draft: &Draft) -> (Templates, Vec<TemplateProblem>) {
        let _ = draft;
        todo!()
    }

    /// Every variable the templates read from the context (top-level names),
    /// sorted.
    pub fn variables(&self) -> &BTreeSet<String> {
        todo!()
    }

    /// Where a variable is first used: which template and the `.eml` line.
    pub fn first_use(&self, variable: &str) -> Option<(TemplateSource, u64)> {
        let _ = variable;
        todo!()
    }

    /// Renders one template with the given context.
    pub fn render(
        &self,
        source: TemplateSource,
        context: &minijinja::Value,
    ) -> Result<String, minijinja::Error> {
        let _ = (source, context);
        todo!()
    }

    /// The variables that a recipient would see rendered as empty text:
    /// `value(name)` gives each variable's value for this recipient. A
    /// variable that is empty but only tested (`{% if first_name %}`) is not
    /// listed. Results are cached per pattern of empty variables, so this is
    /// cheap per row.
    pub fn empty_fields_shown<'v>(&self, value: &dyn Fn(&str) -> Option<&'v str>) -> Vec<&str> {
        let _ = value;
        todo!()
    }
}
