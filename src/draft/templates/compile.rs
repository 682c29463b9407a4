//! Compiling a draft's templates: the subject and every body part, each
//! under a name that picks its escaping, with every `template-error` found
//! on the way (syntax errors at the line of the tag at fault, template
//! bombs, chains too deep to compile, unknown filters and tests).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use minijinja::Error;
use minijinja::ErrorKind;

use super::environment::{OUT_OF_FUEL, TOO_DEEP, bomb, environment, too_deep};
use super::{
    BUILTIN_VARIABLES, Compiled, MAX_TRACKED_VARIABLES, TemplateProblem, TemplateSource, Templates,
};
use super::{template_variables, unknown_filters_and_tests};
use crate::draft::parse::LineMap;
use crate::draft::{Draft, PartKind};

impl Templates {
    /// Compiles the subject and every body part. HTML parts auto-escape
    /// values. Templates that fail to parse are reported and left out.
    pub fn compile(draft: &Draft) -> (Templates, Vec<TemplateProblem>) {
        let mut env = environment();

        let mut inputs = Vec::new();
        if let Some(subject) = &draft.subject {
            let line = draft.header("Subject").map_or(1, |h| h.line);
            inputs.push((
                TemplateSource::Subject,
                "subject.txt".to_string(),
                LineMap::Shifted(line),
                subject.clone(),
            ));
        }
        for (i, part) in draft.parts.iter().enumerate() {
            let extension = match part.kind {
                PartKind::Html => "html",
                PartKind::Plain => "txt",
            };
            inputs.push((
                TemplateSource::Part(i),
                format!("part-{i}.{extension}"),
                draft.line_map(i),
                part.text.clone(),
            ));
        }

        let mut compiled = Vec::new();
        let mut problems = Vec::new();
        for (source, name, lines, text) in inputs {
            if let Some(line) = too_deep(&text) {
                problems.push(TemplateProblem {
                    source,
                    line: lines.eml_line(line),
                    message: TOO_DEEP.to_owned(),
                });
                continue;
            }
            match env.add_template_owned(name.clone(), text.clone()) {
                Ok(()) if let Some(e) = bomb(&env, &name) => {
                    problems.push(TemplateProblem {
                        source,
                        line: lines.eml_line(e.line().unwrap_or(1) as u64),
                        message: OUT_OF_FUEL.to_owned(),
                    });
                }
                Ok(()) => {
                    let variables = template_variables(&env, &name);
                    for (line, message) in unknown_filters_and_tests(&env, &name) {
                        problems.push(TemplateProblem {
                            source,
                            line: lines.eml_line(line),
                            message,
                        });
                    }
                    compiled.push(Compiled {
                        source,
                        name,
                        lines,
                        text,
                        variables,
                    });
                }
                Err(e) => {
                    let mut message = match e.detail() {
                        Some(detail) => format!("{}: {detail}", e.kind()),
                        None => e.kind().to_string(),
                    };
                    let mut line = e.line().unwrap_or(1) as u64;
                    // minijinja notices an unclosed tag at the end of the
                    // template; the user needs the line where it opens.
                    if let Some(opened) = unclosed_tag_line(&e, &text) {
                        line = opened;
                        message.push_str("; the tag on this line is never closed");
                    }
                    problems.push(TemplateProblem {
                        source,
                        line: lines.eml_line(line),
                        message,
                    });
                }
            }
        }

        let variables: BTreeSet<String> = compiled
            .iter()
            .flat_map(|c| c.variables.iter().cloned())
            .collect();
        let tracked = variables
            .iter()
            .filter(|v| !BUILTIN_VARIABLES.contains(&v.as_str()))
            .take(MAX_TRACKED_VARIABLES)
            .cloned()
            .collect();
        let templates = Templates {
            env,
            all_compiled: problems.is_empty(),
            compiled,
            variables,
            tracked,
            probe_cache: Default::default(),
            first_uses: OnceLock::new(),
        };
        (templates, problems)
    }
}

/// For a syntax error that minijinja found at the very end of the template
/// (an `{% if %}` without `{% endif %}`, an unclosed `{{` or `{#`): the
/// 1-based line of the tag that is never closed.
///
/// Found with minijinja itself rather than a second lexer: the culprit is
/// the last tag start (`{{`, `{%`, `{#`) before which the template still
/// compiles — everything before it is balanced, and from it on nothing is.
fn unclosed_tag_line(error: &Error, text: &str) -> Option<u64> {
    let at_end = error
        .range()
        .is_some_and(|r| r.end >= text.trim_end().len());
    if error.kind() != ErrorKind::SyntaxError || !at_end {
        return None;
    }
    let mut env = environment();
    let starts: Vec<usize> = text
        .match_indices('{')
        .map(|(i, _)| i)
        .filter(|&i| matches!(text.as_bytes().get(i + 1), Some(b'{' | b'%' | b'#')))
        .collect();
    let opened = starts.into_iter().rev().find(|&start| {
        env.add_template_owned("prefix", text[..start].to_owned())
            .is_ok()
    })?;
    Some(text[..opened].matches('\n').count() as u64 + 1)
}

#[cfg(test)]
mod tests {
    use minijinja::context;

    use super::*;
    use crate::draft::test_support::{draft, load};

    #[test]
    fn templates_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Templates>();
    }

    #[test]
    fn syntax_error_in_a_part_is_reported_at_its_eml_line() {
        let (templates, problems) = Templates::compile(&load("template_error.eml"));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].source, TemplateSource::Part(0));
        // The part starts on line 5; `{{ discount }` is its third line.
        assert_eq!(problems[0].line, 7);
        assert!(
            problems[0].message.starts_with("syntax error:"),
            "{}",
            problems[0].message
        );
        // The broken part is left out; the subject still compiled.
        assert_eq!(
            templates.sources().collect::<Vec<_>>(),
            [TemplateSource::Subject]
        );
        assert!(
            templates
                .render(TemplateSource::Part(0), &context! {})
                .is_err()
        );
    }

    #[test]
    fn syntax_error_in_an_html_part_counts_from_the_part_start() {
        let d = draft(
            "Subject: Hoi\nContent-Type: multipart/alternative; boundary=\"b\"\n\n--b\n\
             Content-Type: text/plain\n\nHallo\n--b\nContent-Type: text/html\n\n\
             <p>Hallo</p>\n<p>{% if x %}</p>\n<p>einde</p>\n--b--\n",
        );
        assert_eq!(d.parts[1].line, 11);
        let (_, problems) = Templates::compile(&d);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].source, TemplateSource::Part(1));
        // The unclosed `{% if x %}` is on file line 12 (minijinja itself
        // notices it only at the end of the part).
        assert_eq!(problems[0].line, 12, "{problems:?}");
        assert!(problems[0].message.contains("never closed"), "{problems:?}");
    }

    #[test]
    fn an_unclosed_tag_is_reported_where_it_opens() {
        let line_of = |body: &str| {
            let d = draft(&format!("Subject: Hoi\n\n{body}"));
            let (_, problems) = Templates::compile(&d);
            assert_eq!(problems.len(), 1, "{body:?}: {problems:?}");
            problems[0].line - 2
        };
        // Blocks before it are balanced; the second `if` is the open one.
        assert_eq!(
            line_of("{% if a %}x{% endif %}\n{% if b %}\nBeste {{ b }},\n\nTot ziens\n"),
            2
        );
        // The outer block is open although an inner one is closed.
        assert_eq!(
            line_of("Hoi\n{% for x in xs %}\n{% if x %}{{ x }}{% endif %}\n"),
            2
        );
        assert_eq!(line_of("Beste klant,\n\nUw code: {{ code \n"), 3);
        assert_eq!(line_of("Hallo\n{# opmerking\nnog meer\n"), 2);
        // An error in the middle stays where minijinja puts it.
        assert_eq!(line_of("Hallo\n{{ a }\nb {{ c }}\nd\n"), 2);
    }

    #[test]
    fn syntax_error_in_the_subject_is_at_the_subject_line() {
        let (_, problems) = Templates::compile(&draft(
            "From: a@example.nl\nSubject: Hallo {{ first_name }\n\nTekst\n",
        ));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].source, TemplateSource::Subject);
        assert_eq!(problems[0].line, 2);
    }

    #[test]
    fn html_parts_escape_values_and_text_parts_do_not() {
        let (templates, _) = Templates::compile(&load("mixed_csv_attachment.eml"));
        let ctx = context! {
            first_name => "<b>Jan</b>",
            unsubscribe_url => "https://example.nl/afmelden?e=1&x=2",
        };
        let html = templates
            .render(TemplateSource::Part(1), &ctx)
            .expect("html");
        assert!(
            html.contains("Beste &lt;b&gt;Jan&lt;&#x2f;b&gt;,"),
            "{html}"
        );
        assert!(html.contains("afmelden?e=1&amp;x=2"), "{html}");
        let text = templates
            .render(TemplateSource::Part(0), &ctx)
            .expect("text");
        assert!(text.contains("Beste <b>Jan</b>,"), "{text}");
        assert!(
            text.ends_with("afmelden?e=1&x=2\n"),
            "final newline kept: {text:?}"
        );
        let subject = templates
            .render(TemplateSource::Subject, &ctx)
            .expect("subject");
        assert_eq!(subject, "Uitnodiging klantendag");
    }
}
