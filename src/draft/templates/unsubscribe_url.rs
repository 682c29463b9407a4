//! The campaign's `unsubscribe_url`: a template of its own, compiled once in
//! the same environment and with the same checks as the draft's.

use super::environment::{TOO_DEEP, environment, too_deep};
use super::{template_variables, unknown_filters_and_tests};

/// The unsubscribe URL template of the campaign, compiled once.
pub struct UnsubscribeTemplate {
    env: minijinja::Environment<'static>,
    variables: Vec<String>,
    source: String,
}

impl UnsubscribeTemplate {
    /// Compiles `unsubscribe_url`; the error is minijinja's message.
    pub fn compile(source: &str) -> Result<Self, String> {
        if too_deep(source).is_some() {
            return Err(TOO_DEEP.to_owned());
        }
        let mut env = environment();
        env.add_template_owned("unsubscribe_url", source.to_owned())
            .map_err(|e| e.to_string())?;
        // The same checks as the draft's templates: an unknown filter
        // would fail every recipient's render.
        if let Some((_, problem)) = unknown_filters_and_tests(&env, "unsubscribe_url")
            .into_iter()
            .next()
        {
            return Err(problem);
        }
        let variables = template_variables(&env, "unsubscribe_url")
            .into_iter()
            .collect();
        Ok(UnsubscribeTemplate {
            env,
            variables,
            source: source.to_owned(),
        })
    }

    /// The variables the template reads.
    pub fn variables(&self) -> &[String] {
        &self.variables
    }

    /// The template as written in the campaign file.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn render(&self, context: &minijinja::Value) -> Result<String, String> {
        self.env
            .get_template("unsubscribe_url")
            .and_then(|t| t.render(context))
            .map_err(|e| e.to_string())
    }
}
