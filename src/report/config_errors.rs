//! Problems with the campaign settings, rendered for a person the way every
//! other diagnostic is (cargo-deny's config errors, rustc's): the message,
//! `--> campaign.toml:LINE:COLUMN`, the line with a caret under the key or
//! value at fault. A problem with no place in the file (a missing setting,
//! an unreadable file) is one plain line.
//!
//! The text carries ANSI styles; the caller's `anstream` stream strips them
//! when its output is not a terminal or `NO_COLOR` is set.

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
use anstyle::{AnsiColor, Effects, Style};

use super::source::SourceLines;
use crate::campaign::{ConfigError, ConfigErrors};
use crate::diagnostic::Scope;
use crate::escape::control_chars;

/// Every problem of `errors`, in their order, then a line that counts them.
pub fn render_config_errors(errors: &ConfigErrors) -> String {
    let mut sources = SourceLines::default();
    let mut out = String::new();
    for error in &errors.0 {
        out.push_str(&render(error, &mut sources));
        out.push('\n');
        out.push('\n');
    }
    let count = errors.0.len();
    let red = Style::new()
        .fg_color(Some(AnsiColor::Red.into()))
        .effects(Effects::BOLD);
    out.push_str(&format!(
        "{red}error{red:#}: the campaign settings are not usable ({count} problem{}); \
         nothing was checked or sent\n",
        if count == 1 { "" } else { "s" }
    ));
    out
}

/// One problem: with its line and a caret when the file can be read back
/// there, else on one line.
fn render(error: &ConfigError, sources: &mut SourceLines) -> String {
    let path = error.path.display().to_string();
    // A key or value quoted from the file has its control characters (a
    // line break too) shown escaped.
    let message = control_chars(&error.message);
    let path_shown = control_chars(&path);
    if let Some(line) = error.line
        && let Some((text, underline)) = sources.shown(Scope::Campaign, &path, line, error.span)
        && let Ok(line_start) = usize::try_from(line)
    {
        let report = &[Level::ERROR.primary_title(message.as_ref()).element(
            Snippet::source(text.as_str())
                .line_start(line_start)
                .path(path_shown.as_ref())
                .annotation(AnnotationKind::Primary.span(underline)),
        )];
        return Renderer::styled().render(report).to_string();
    }
    let red = Style::new()
        .fg_color(Some(AnsiColor::Red.into()))
        .effects(Effects::BOLD);
    let at = match (path.is_empty(), error.line) {
        (true, _) => String::new(),
        (false, Some(line)) => format!("{path_shown}:{line}: "),
        (false, None) => format!("{path_shown}: "),
    };
    format!("{red}error{red:#}: {at}{message}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::{Campaign, Overrides};

    fn errors_of(text: &str) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("campaign.toml");
        std::fs::write(&path, text).unwrap();
        let errors = Campaign::load(Some(&path), &Overrides::default()).unwrap_err();
        let styled = render_config_errors(&errors);
        let plain = anstream::adapter::strip_str(&styled).to_string();
        (dir, plain)
    }

    #[test]
    fn a_config_error_is_shown_with_its_line_and_a_caret_under_the_key() {
        let (dir, text) = errors_of(
            "[campaign]\ndraft = \"d.eml\"\nrecipients = \"r.csv\"\n  recipents = \"x.csv\"\n",
        );
        let path = dir.path().join("campaign.toml");
        let expected = format!(
            "error: unknown key `recipents` in [campaign]; did you mean `recipients`?\n \
             --> {}:4:3\n  |\n4 |   recipents = \"x.csv\"\n  |   ^^^^^^^^^\n",
            path.display()
        );
        assert!(text.starts_with(&expected), "{text}");
        assert!(
            text.ends_with("error: the campaign settings are not usable (1 problem); nothing was checked or sent\n"),
            "{text}"
        );
    }

    #[test]
    fn a_secret_on_the_line_of_a_config_error_is_not_shown() {
        let (_dir, text) = errors_of(
            "[campaign]\ndraft = \"d.eml\"\nrecipients = \"r.csv\"\n[smtp]\nhost = \"h\"\n\
             passwrod = \"hunter2\"\n",
        );
        assert!(text.contains("passwrod = ********"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn a_problem_with_no_place_is_one_plain_line() {
        let (dir, text) = errors_of("[campaign]\ndraft = \"d.eml\"\n");
        let path = dir.path().join("campaign.toml");
        assert!(
            text.starts_with(&format!(
                "error: {}: no recipients: set `recipients = \"...\"` in [campaign]",
                path.display()
            )),
            "{text}"
        );
    }
}
