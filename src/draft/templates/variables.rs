//! Which variables a template reads from its context, and where each is
//! first used (for `unknown-merge-field` and `unused-column`).

use std::collections::{BTreeSet, HashMap, HashSet};

use minijinja::Environment;

use super::tags::{TagKind, tags};
use super::{TemplateSource, Templates};
use crate::draft::line_counter::LineCounter;

/// The variables a template reads from its context: minijinja's undeclared
/// variables less the environment's globals (`range`, `namespace`, …),
/// which are built-ins, not fields.
pub fn template_variables(env: &Environment<'_>, name: &str) -> BTreeSet<String> {
    let globals: HashSet<&str> = env.globals().map(|(name, _)| name).collect();
    env.get_template(name)
        .map(|t| t.undeclared_variables(false))
        .unwrap_or_default()
        .into_iter()
        .filter(|v| !globals.contains(v.as_str()))
        .collect()
}

impl Templates {
    /// Where a variable is first used: which template and the `.eml` line.
    /// The line is found by looking for the name inside `{{ }}` and `{% %}`
    /// in the template's text; when that fails, the template's first line.
    ///
    /// The first call finds every variable's first use in one pass over the
    /// templates (a draft naming 20,000 unknown fields was searched 20,000
    /// times, once per field).
    pub fn first_use(&self, variable: &str) -> Option<(TemplateSource, u64)> {
        self.first_uses
            .get_or_init(|| {
                let mut uses: HashMap<String, (TemplateSource, u64)> = HashMap::new();
                for c in &self.compiled {
                    visit_identifiers(&c.text, |name, line| {
                        if !uses.contains_key(name) && c.variables.contains(name) {
                            uses.insert(name.to_owned(), (c.source, c.lines.eml_line(line)));
                        }
                    });
                    for name in &c.variables {
                        if !uses.contains_key(name) {
                            uses.insert(name.clone(), (c.source, c.lines.eml_line(1)));
                        }
                    }
                }
                uses
            })
            .get(variable)
            .copied()
    }
}

/// Calls `visit(name, line)` for every identifier named in a `{{ }}` or
/// `{% %}` tag of `text`, outside string literals and not as an attribute
/// (`x.name`), in order, with its 1-based line within `text`. One pass over
/// the text, however many names it holds.
fn visit_identifiers<'t>(text: &'t str, mut visit: impl FnMut(&'t str, u64)) {
    let mut lines = LineCounter::new(text);
    for tag in tags(text).filter(|t| t.kind != TagKind::Comment) {
        let body_start = tag.body.start;
        for_each_identifier(&text[tag.body], |at, name| {
            visit(name, lines.line_at(body_start + at));
        });
    }
}

/// Calls `visit(offset, name)` for every identifier of a tag's expression,
/// skipping string literals and attribute lookups.
fn for_each_identifier<'t>(expr: &'t str, mut visit: impl FnMut(usize, &'t str)) {
    let bytes = expr.as_bytes();
    let mut i = 0;
    let mut previous = b' ';
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'"' || b == b'\'' {
            i += 1;
            while i < bytes.len() && bytes[i] != b {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            previous = b;
        } else if b.is_ascii_alphabetic() || b == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            if previous != b'.' {
                visit(start, &expr[start..i]);
            }
            previous = b'a';
        } else {
            if !b.is_ascii_whitespace() {
                previous = b;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {

    use super::super::test_support::plain;
    use super::*;
    use crate::draft::test_support::load;

    #[test]
    fn variables_are_the_undeclared_top_level_names() {
        let (templates, problems) = Templates::compile(&load("thunderbird_alternative.eml"));
        assert!(problems.is_empty());
        assert_eq!(
            templates.variables().iter().collect::<Vec<_>>(),
            ["first_name", "unsubscribe_url"]
        );

        let templates = plain(
            "{% set greeting = 'Hoi' %}{{ greeting }} {{ customer.name }}\n\
             {% for p in products %}{{ loop.index }}. {{ p }}{% endfor %}\n\
             {{ range(3)|join(',') }} {{ klant_nummer }}\n",
        );
        assert_eq!(
            templates.variables().iter().collect::<Vec<_>>(),
            ["customer", "klant_nummer", "products"]
        );
    }

    #[test]
    fn first_use_finds_template_and_line() {
        let (templates, _) = Templates::compile(&load("thunderbird_alternative.eml"));
        assert_eq!(
            templates.first_use("first_name"),
            Some((TemplateSource::Subject, 9))
        );
        // Line 27: "… Meld u af via {{ unsubscribe_url }}" in the text part.
        assert_eq!(
            templates.first_use("unsubscribe_url"),
            Some((TemplateSource::Part(0), 27))
        );
        assert_eq!(templates.first_use("last_name"), None);

        // Not fooled by a string literal, an attribute or a comment.
        let templates =
            plain("{# city #}\n{{ 'city' }} {{ shop.city }}\nHallo\n{% if city %}x{% endif %}\n");
        assert_eq!(
            templates.first_use("city"),
            Some((TemplateSource::Part(0), 7))
        );
    }
}
