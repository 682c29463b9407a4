//! Which empty fields a recipient would see (`empty-merge-field`).
//!
//! `empty-merge-field` must not fire for `{% if first_name %}Beste
//! {{ first_name }}{% else %}Beste klant{% endif %}`: the field is only
//! tested, never shown empty. Rather than analysing the template, mailgate
//! *renders* it once with a probe context in which every empty field is an
//! `EmptyField` object: falsy like an empty string, rendering as nothing,
//! but recording that it was rendered. Whatever was recorded is what the
//! recipient would see empty. The answer depends on which fields are empty,
//! so it is cached per pattern of empty fields (a bitmask): a list of a
//! million rows has only a handful of patterns.
//!
//! Limits: only the first 64 variables (alphabetically, built-ins excluded)
//! are tracked, one bit each; further variables are never reported empty.
//! The cached answer was computed with the non-empty values of the first
//! recipient who had that pattern; a template that branches on a value
//! (`{% if country == "NL" %}`) is judged by that recipient's branch.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use minijinja::value::{Object, Value};

use super::{BUILTIN_VARIABLES, Templates};

/// How many variables [`Templates::empty_fields_shown`] can track (one bit
/// each in the cache key).
pub const MAX_TRACKED_VARIABLES: usize = 64;

impl Templates {
    /// The variables that a recipient would see rendered as empty text:
    /// `value(name)` gives each variable's value for this recipient. A
    /// variable that is empty but only tested (`{% if first_name %}`) is not
    /// listed. Results are cached per pattern of empty variables, so this is
    /// cheap per row.
    ///
    /// `value` returning `None` means "not a field of this recipient" (an
    /// unknown variable, reported by `unknown-merge-field`): such a variable
    /// is never listed. A value of only whitespace counts as empty. The
    /// built-ins `email` and `unsubscribe_url` are never empty. See the
    /// module documentation for the 64-variable limit.
    pub fn empty_fields_shown<'v>(&self, value: &dyn Fn(&str) -> Option<&'v str>) -> Vec<&str> {
        self.empty_fields_shown_with(&|i| value(&self.tracked[i]), value)
    }

    /// The variables [`Templates::empty_fields_shown`] looks at for every
    /// recipient, in order.
    pub fn tracked_variables(&self) -> &[String] {
        &self.tracked
    }

    /// [`Templates::empty_fields_shown`] for a caller that can give the
    /// value of [`Templates::tracked_variables`]`[i]` as `tracked(i)`
    /// quicker than by name. `value` is still asked, by name, about any
    /// variable when a pattern of empty fields is seen for the first time.
    pub fn empty_fields_shown_with<'v>(
        &self,
        tracked: &dyn Fn(usize) -> Option<&'v str>,
        value: &dyn Fn(&str) -> Option<&'v str>,
    ) -> Vec<&str> {
        let mut empty = 0u64;
        let mut blank = 0u64;
        for i in 0..self.tracked.len() {
            if let Some(v) = tracked(i)
                && crate::recipients::trim(v).is_empty()
            {
                empty |= 1 << i;
                if !v.is_empty() {
                    blank |= 1 << i;
                }
            }
        }
        if empty == 0 {
            return Vec::new();
        }
        let key = (empty, blank);
        let cached = self
            .shown_cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&key)
            .cloned();
        let shown = match cached {
            Some(shown) => shown,
            None => {
                let shown = self.probe(empty, blank, value);
                self.shown_cache
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .insert(key, shown.clone());
                shown
            }
        };
        shown.iter().map(|&i| self.tracked[i].as_str()).collect()
    }

    /// Renders every template once with the empty fields replaced by
    /// [`EmptyField`] markers and returns the indices (into `tracked`) of the
    /// markers that were rendered.
    fn probe<'v>(
        &self,
        empty: u64,
        blank: u64,
        value: &dyn Fn(&str) -> Option<&'v str>,
    ) -> Vec<usize> {
        let rendered = Arc::new(AtomicU64::new(0));
        let mut context = BTreeMap::new();
        for name in &self.variables {
            let tracked = self.tracked.binary_search(name).ok();
            let v = match tracked {
                Some(i) if empty & (1 << i) != 0 => Value::from_object(EmptyField {
                    bit: 1 << i,
                    truthy: blank & (1 << i) != 0,
                    rendered: Arc::clone(&rendered),
                }),
                _ if BUILTIN_VARIABLES.contains(&name.as_str()) => {
                    let placeholder = if name == "email" {
                        "recipient@example.invalid"
                    } else {
                        "https://example.invalid/unsubscribe"
                    };
                    Value::from(
                        value(name)
                            .filter(|v| !v.trim().is_empty())
                            .unwrap_or(placeholder),
                    )
                }
                _ => match value(name) {
                    Some(v) => Value::from(v),
                    None => continue,
                },
            };
            context.insert(name.clone(), v);
        }
        let context = Value::from(context);

        // A template that cannot be rendered with markers (a method called
        // on a field, say) cannot tell us anything: count every empty field
        // it uses as shown, the safe side for a warning.
        let mut unknown = 0u64;
        for c in &self.compiled {
            let ok = self
                .env
                .get_template(&c.name)
                .and_then(|t| t.render(context.clone()))
                .is_ok();
            if !ok {
                for name in &c.variables {
                    if let Ok(i) = self.tracked.binary_search(name) {
                        unknown |= empty & (1 << i);
                    }
                }
            }
        }
        let bits = rendered.load(Ordering::Relaxed) | unknown;
        (0..self.tracked.len())
            .filter(|i| bits & (1 << i) != 0)
            .collect()
    }
}

/// An empty field in a probe render: as falsy as the empty string it stands
/// for (or truthy, for a value of only spaces, like the real one), renders as
/// nothing, and records that it was rendered.
#[derive(Debug)]
struct EmptyField {
    bit: u64,
    truthy: bool,
    rendered: Arc<AtomicU64>,
}

impl Object for EmptyField {
    fn is_true(self: &Arc<Self>) -> bool {
        self.truthy
    }

    fn render(self: &Arc<Self>, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.rendered.fetch_or(self.bit, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::test_support::plain;
    use super::*;

    fn shown<'t>(templates: &'t Templates, values: &[(&str, &str)]) -> Vec<&'t str> {
        let values: HashMap<String, String> = values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        templates.empty_fields_shown(&|name| values.get(name).map(String::as_str))
    }

    #[test]
    fn empty_field_shown_unguarded() {
        let templates = plain("Beste {{ first_name }},\n");
        assert_eq!(shown(&templates, &[("first_name", "")]), ["first_name"]);
        assert!(shown(&templates, &[("first_name", "Jan")]).is_empty());
    }

    #[test]
    fn empty_field_only_tested_is_not_shown() {
        let templates = plain(
            "{% if first_name %}Beste {{ first_name }}{% else %}Beste klant{% endif %},\n\
             {{ city or 'Nederland' }}\n",
        );
        assert!(shown(&templates, &[("first_name", ""), ("city", "")]).is_empty());
    }

    #[test]
    fn filters_and_concatenation_still_show_the_field() {
        let templates =
            plain("{{ first_name|title }} {{ 'van ' ~ last_name }} {{ city|default('x') }}\n");
        assert_eq!(
            shown(
                &templates,
                &[("first_name", ""), ("last_name", ""), ("city", "")]
            ),
            ["city", "first_name", "last_name"]
        );
    }

    #[test]
    fn field_of_spaces_passes_the_test_and_is_shown() {
        let templates = plain("{% if first_name %}Beste {{ first_name }}{% endif %}\n");
        assert_eq!(shown(&templates, &[("first_name", "  ")]), ["first_name"]);
        assert!(shown(&templates, &[("first_name", "")]).is_empty());
    }

    #[test]
    fn builtins_and_unknown_variables_are_never_listed() {
        let templates = plain("{{ email }} {{ unsubscribe_url }} {{ mystery }}\n");
        assert!(shown(&templates, &[("email", ""), ("unsubscribe_url", "")]).is_empty());
    }

    #[test]
    fn a_template_the_probe_cannot_render_counts_its_empty_fields() {
        // A method call fails on the probe's marker: be safe, report it.
        let templates = plain("{{ first_name.upper() }} {{ last_name }}\n");
        assert_eq!(
            shown(&templates, &[("first_name", ""), ("last_name", "Jansen")]),
            ["first_name"]
        );
    }

    #[test]
    fn results_are_cached_per_pattern_of_empty_fields() {
        let templates =
            plain("{% if a %}{{ a }}{% endif %} {{ b }} {% if c %}x{% else %}{{ c }}{% endif %}\n");
        assert_eq!(
            shown(&templates, &[("a", ""), ("b", "1"), ("c", "")]),
            ["c"]
        );
        assert_eq!(
            shown(&templates, &[("a", ""), ("b", "2"), ("c", "")]),
            ["c"]
        );
        assert_eq!(
            shown(&templates, &[("a", "1"), ("b", ""), ("c", "1")]),
            ["b"]
        );
        let cache = templates.shown_cache.lock().expect("cache");
        assert_eq!(cache.len(), 2, "two patterns of empty fields");
    }

    #[test]
    fn only_the_first_64_variables_are_tracked() {
        let names: Vec<String> = (0..70).map(|i| format!("v{i:02}")).collect();
        let body: String = names.iter().map(|n| format!("{{{{ {n} }}}}\n")).collect();
        let templates = plain(&body);
        let empty: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "")).collect();
        let listed = shown(&templates, &empty);
        assert_eq!(listed.len(), MAX_TRACKED_VARIABLES);
        assert_eq!(listed.first(), Some(&"v00"));
        assert_eq!(listed.last(), Some(&"v63"));
    }
}
