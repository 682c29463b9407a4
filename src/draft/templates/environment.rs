//! The minijinja environment every mailgate template renders in, and the
//! bounds on a template's work: fuel for each render, and how many
//! operators one tag may chain before it is compiled.

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};

use super::tags::{TagKind, tags};

/// The work one render of one template may do, in minijinja's fuel: about
/// one unit per instruction run and one per 64 bytes of text made (output,
/// strings, lists). So a render runs at most a few million steps and makes
/// at most about 128 MB — more than the largest draft mailgate reads
/// ([`crate::limits::MAX_DRAFT_BYTES`]), and thousands of times what the
/// loops of a real newsletter need.
pub const RENDER_FUEL: u64 = 2_000_000;

/// The message of a render that ran out of [`RENDER_FUEL`].
pub const OUT_OF_FUEL: &str = "the template does more work or makes more text than any \
     message needs (a loop over a large `range`, or a value repeated many times?); \
     mailgate stops a render after 2,000,000 steps or about 128 MB of text";

/// The minijinja environment every mailgate template is rendered in: the
/// draft's, and any other template (such as the campaign's
/// `unsubscribe_url`) that should behave the same way.
///
/// - undefined values render as empty text and can be chained, so rendering
///   never fails on a missing field (unknown fields are reported beforehand);
/// - a template's final newline is kept (a body ends the way it was written);
/// - minijinja's `urlencode` filter is enabled (cargo feature `urlencode`);
/// - a render's work is bounded by [`RENDER_FUEL`], so a template bomb (two
///   nested `range(100000)` loops in a 300-byte draft) fails with
///   [`ErrorKind::OutOfFuel`] instead of running for hours and filling the
///   memory; minijinja's recursion limit (500) bounds macros calling
///   themselves.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_fuel(Some(RENDER_FUEL));
    if let Ok(syntax) = SyntaxConfig::builder().keep_trailing_newline(true).build() {
        env.set_syntax(syntax);
    }
    env
}

/// The error of a template that runs out of [`RENDER_FUEL`] whatever the
/// recipient's values: rendered once with none (every field undefined, so
/// empty), before any row is read. Such a template could not be rendered
/// for anyone; lint reports it as `template-error`, as send would fail on
/// it. Other render errors are not this check's business.
pub(super) fn bomb(env: &Environment<'_>, name: &str) -> Option<Error> {
    let render = env.get_template(name).and_then(|t| t.render(()));
    render.err().filter(|e| e.kind() == ErrorKind::OutOfFuel)
}

/// The most filters and operators one tag may chain. minijinja's parser
/// guards nesting (brackets, blocks) but builds chains (`x | f | f …`,
/// `a + b + c …`, `x.a.b …`) into trees as deep as they are long, which its
/// compiler then walks recursively: a draft with 100,000 filters in one
/// tag overflowed the stack and aborted mailgate. A real tag chains a few.
pub const MAX_TAG_OPERATORS: usize = 400;

/// The message of a tag past [`MAX_TAG_OPERATORS`].
pub const TOO_DEEP: &str = "a tag chains more than 400 filters or operators \
     (`| filter`, `+`, `.`, `[…]`, …), far more than any message needs; split it up";

/// The line (1-based, within `text`) of the first tag that chains more than
/// [`MAX_TAG_OPERATORS`] filters and operators (outside string literals).
pub(super) fn too_deep(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    for tag in tags(text).filter(|t| t.kind != TagKind::Comment) {
        let body_end = tag.body.end;
        let mut operators = 0;
        let mut quote = None;
        let mut i = tag.body.start;
        while i < body_end {
            let b = bytes[i];
            match quote {
                Some(_) if b == b'\\' => i += 1,
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None if b == b'"' || b == b'\'' => quote = Some(b),
                None if b"|.[(+-*/%~<>=!".contains(&b) => operators += 1,
                None if b.is_ascii_alphabetic() => {
                    // A word operator (`and`, `or`, `is`, `not`, `in`, `if`)
                    // counts once; other words are names.
                    let start = i;
                    while i < body_end && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                        i += 1;
                    }
                    if matches!(
                        &bytes[start..i],
                        b"and" | b"or" | b"is" | b"not" | b"in" | b"if"
                    ) {
                        operators += 1;
                    }
                    continue;
                }
                None => {}
            }
            if operators > MAX_TAG_OPERATORS {
                return Some(text[..tag.open].matches('\n').count() as u64 + 1);
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use minijinja::context;

    use super::super::test_support::plain;
    use super::super::{TemplateSource, Templates, UnsubscribeTemplate};
    use super::*;
    use crate::draft::test_support::draft;

    #[test]
    fn a_template_bomb_hung_lint() {
        // Two nested loops of 100,000 in a few hundred bytes: 10^10 steps.
        let body = "Beste {{ first_name }},\n\
                    {% for i in range(100000) %}{% for j in range(100000) %}\
                    {{ first_name }}{% endfor %}{% endfor %}\n";
        let (templates, problems) = Templates::compile(&draft(&format!(
            "From: a@example.nl\nSubject: Hoi\n\n{body}"
        )));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].source, TemplateSource::Part(0));
        assert_eq!(problems[0].message, OUT_OF_FUEL);
        assert!(!templates.all_compiled());
        // So is text multiplied out of all proportion, in the subject.
        let (_, problems) = Templates::compile(&draft(
            "From: a@example.nl\nSubject: {{ 'x' * 1000000000 }}\n\nafmelden\n",
        ));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].source, TemplateSource::Subject);
        assert_eq!(problems[0].line, 2);
    }

    #[test]
    fn a_hundred_thousand_chained_filters_overflowed_the_stack() {
        // Found by tests/fuzz.rs: minijinja builds a chain into a tree as
        // deep as it is long and compiles it recursively.
        for chain in [" | upper", " + 1", ".x", "[0]"] {
            let tag = format!("{{{{ first_name{} }}}}", chain.repeat(100_000));
            let (_, problems) = Templates::compile(&draft(&format!(
                "From: a@example.nl\nSubject: Hoi\n\nregel 1\n{tag}\n"
            )));
            assert_eq!(problems.len(), 1, "{chain}: {problems:?}");
            assert_eq!(problems[0].message, TOO_DEEP);
            assert_eq!(problems[0].line, 5);
        }
        let url = format!(
            "https://x.example/u?e={{{{ email{} }}}}",
            " | urlencode".repeat(100_000)
        );
        assert_eq!(
            UnsubscribeTemplate::compile(&url).err().as_deref(),
            Some(TOO_DEEP)
        );
    }

    #[test]
    fn chains_up_to_the_limit_compile_and_render_on_a_small_stack() {
        // Tests run on threads of 2 MB, a quarter of the binary's main
        // thread: the limit leaves room.
        for chain in [" | upper", " ~ 'x'", ".x", "[0]"] {
            let tag = format!(
                "{{{{ first_name{} }}}}",
                chain.repeat(MAX_TAG_OPERATORS - 1)
            );
            let templates = plain(&format!("{tag}\n"));
            let _ = templates.render(TemplateSource::Part(0), &context! { first_name => "a" });
        }
        // Operators inside a string are text.
        let long = format!("{{{{ '{}' }}}}\n", "|".repeat(10_000));
        let templates = plain(&long);
        assert_eq!(
            templates
                .render(TemplateSource::Part(0), &context! {})
                .unwrap()
                .len(),
            10_001
        );
    }

    #[test]
    fn a_bomb_that_depends_on_a_value_fails_that_render_with_the_reason() {
        let templates = plain(
            "{% for i in range(n|int) %}{% for j in range(n|int) %}{{ j }}\
             {% endfor %}{% endfor %}\n",
        );
        let small = templates.render(TemplateSource::Part(0), &context! { n => "2" });
        assert_eq!(small.unwrap(), "0101\n");
        let huge = templates
            .render(TemplateSource::Part(0), &context! { n => "100000" })
            .unwrap_err();
        assert_eq!(huge.kind(), ErrorKind::OutOfFuel);
        assert!(huge.to_string().contains(OUT_OF_FUEL), "{huge}");
    }

    #[test]
    fn a_macro_calling_itself_stops_at_the_recursion_limit() {
        let templates =
            plain("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }} {{ first_name }}\n");
        let err = templates
            .render(TemplateSource::Part(0), &context! { first_name => "Anna" })
            .unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::InvalidOperation | ErrorKind::OutOfFuel
            ),
            "{err}"
        );
    }

    #[test]
    fn a_newsletter_loop_is_far_below_the_fuel() {
        // A thousand products with a few lines each, like a long catalogue.
        let templates = plain(
            "{% for i in range(1000) %}<tr><td>Product {{ i }}</td>\
             <td>{{ first_name }}</td></tr>\n{% endfor %}\n",
        );
        let html = templates
            .render(TemplateSource::Part(0), &context! { first_name => "Anna" })
            .unwrap();
        assert_eq!(html.matches("<tr>").count(), 1000);
    }

    #[test]
    fn urlencode_is_available() {
        let templates = plain("{{ unsubscribe_url }}?e={{ email|urlencode }}");
        let ctx =
            context! { email => "jan+nieuws@example.nl", unsubscribe_url => "https://x.nl/af" };
        assert_eq!(
            templates
                .render(TemplateSource::Part(0), &ctx)
                .expect("render"),
            "https://x.nl/af?e=jan%2Bnieuws%40example.nl"
        );
    }
}
