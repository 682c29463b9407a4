//! The draft's subject and body parts as minijinja templates, compiled once.
//!
//! Each template gets a name whose extension picks minijinja's auto-escaping:
//! `part-N.html` for HTML parts (values are HTML-escaped), `part-N.txt` and
//! `subject.txt` for the rest. Undefined variables render as empty text and
//! may be chained (`{{ a.b }}`); mailgate finds unknown variables itself, from
//! [`Templates::variables`], before anything is rendered.
//!
//! - `environment`: the minijinja environment every template renders in,
//!   and the bounds on a template's work (fuel per render, operators per tag);
//! - [`compile`](Templates::compile): the draft's templates compiled, with
//!   the `template-error` problems found on the way;
//! - `unknown_filters`: filters and tests the environment does not have;
//! - `variables`: which variables a template reads, and where first;
//! - `tags`: the tags of a template's source, found by a quick scan;
//! - `empty_fields`: which empty fields a recipient would see
//!   (`empty-merge-field`);
//! - [`UnsubscribeTemplate`]: the campaign's `unsubscribe_url`, compiled the
//!   same way.

mod compile;
mod empty_fields;
mod environment;
mod tags;
mod unknown_filters;
mod unsubscribe_url;
mod variables;

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use minijinja::{Environment, Error, ErrorKind};

use super::parse::LineMap;

pub use empty_fields::{EmptyFieldsShown, MAX_TRACKED_VARIABLES};
pub use environment::{MAX_TAG_OPERATORS, OUT_OF_FUEL, RENDER_FUEL, TOO_DEEP, environment};
pub use unknown_filters::unknown_filters_and_tests;
pub use unsubscribe_url::UnsubscribeTemplate;
pub use variables::template_variables;

/// The variables mailgate provides to every template, whatever the CSV holds.
pub const BUILTIN_VARIABLES: [&str; 2] = ["email", "unsubscribe_url"];

/// Which template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TemplateSource {
    Subject,
    /// Index into [`Draft::parts`](crate::draft::Draft::parts).
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

/// One template that compiled.
struct Compiled {
    source: TemplateSource,
    /// The name in the environment; its extension chooses auto-escaping.
    name: String,
    /// Where the template's lines are in the `.eml` file.
    lines: LineMap,
    text: String,
    /// Top-level variables it reads from the context.
    variables: BTreeSet<String>,
}

/// The compiled templates of one draft.
pub struct Templates {
    env: Environment<'static>,
    compiled: Vec<Compiled>,
    /// Every template of the draft compiled (none is left out).
    all_compiled: bool,
    variables: BTreeSet<String>,
    /// The variables `empty_fields_shown` tracks, sorted; bit `i` of a mask
    /// is `tracked[i]`.
    tracked: Vec<String>,
    /// What the empty-field probe remembers between recipients.
    probe_cache: empty_fields::ProbeCache,
    /// Where each variable is first used (see [`Templates::first_use`]).
    first_uses: OnceLock<HashMap<String, (TemplateSource, u64)>>,
}

impl Templates {
    /// Every variable the templates read from the context (top-level names),
    /// sorted.
    pub fn variables(&self) -> &BTreeSet<String> {
        &self.variables
    }

    /// True when every template compiled. When one did not, the variables
    /// it uses are unknown, so [`Templates::variables`] is incomplete and a
    /// column cannot be called unused.
    pub fn all_compiled(&self) -> bool {
        self.all_compiled
    }

    /// The templates that compiled, in order: the subject, then the parts.
    pub fn sources(&self) -> impl Iterator<Item = TemplateSource> + '_ {
        self.compiled.iter().map(|c| c.source)
    }

    /// What a template is called in messages, the way `send` names it when
    /// its render fails: `Subject`, `text/plain` or `text/html`.
    pub fn template_name(&self, source: TemplateSource) -> &'static str {
        let html = self
            .compiled
            .iter()
            .any(|c| c.source == source && c.name.ends_with(".html"));
        match source {
            TemplateSource::Subject => "Subject",
            TemplateSource::Part(_) if html => "text/html",
            TemplateSource::Part(_) => "text/plain",
        }
    }

    /// Renders one template with the given context.
    pub fn render(
        &self,
        source: TemplateSource,
        context: &minijinja::Value,
    ) -> Result<String, minijinja::Error> {
        let compiled = self
            .compiled
            .iter()
            .find(|c| c.source == source)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::TemplateNotFound,
                    "this part of the draft did not compile as a template",
                )
            })?;
        self.env
            .get_template(&compiled.name)?
            .render(context.clone())
            .map_err(|e| {
                if e.kind() == ErrorKind::OutOfFuel {
                    Error::new(ErrorKind::OutOfFuel, OUT_OF_FUEL)
                } else {
                    e
                }
            })
    }
}

/// Helpers for the templates' tests.
#[cfg(test)]
mod test_support {
    use super::Templates;
    use crate::draft::test_support::draft;

    /// A text-only draft whose body (starting on line 4) is `body`.
    pub(super) fn plain(body: &str) -> Templates {
        let (templates, problems) = Templates::compile(&draft(&format!(
            "From: a@example.nl\nSubject: Hoi\n\n{body}"
        )));
        assert!(problems.is_empty(), "{problems:?}");
        templates
    }
}
