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
//!
//! A template that does not render in the probe is not taken for one that
//! shows its fields: whether it renders may depend on a value (a loop as
//! long as `n`, `first_name|int`), so it is tried again for each recipient
//! of the pattern. If it cannot be rendered with a recipient's real values,
//! `send` would fail that recipient, and that is what is reported
//! ([`EmptyFieldsShown::failed`], `invalid-merge-value` in lint) — a gap
//! listed instead would be a warning for an error, and would send the user
//! looking at the wrong field. Rows the probe does not render (no field
//! empty) are not rendered by lint at all; a failure there is met by `send`,
//! which fails that recipient and goes on.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use minijinja::ErrorKind;
use minijinja::value::{Object, Value};

use super::{BUILTIN_VARIABLES, TemplateSource, Templates};

/// How many variables [`Templates::empty_fields_shown`] can track (one bit
/// each in the cache key).
pub const MAX_TRACKED_VARIABLES: usize = 64;

/// What [`Templates::empty_fields_shown_with`] found for one recipient.
#[derive(Debug, Default)]
pub struct EmptyFieldsShown<'t> {
    /// The empty variables the recipient would see as gaps, sorted.
    pub shown: Vec<&'t str>,
    /// The first template (the subject, then the parts) that cannot be
    /// rendered with this recipient's values at all, and minijinja's
    /// reason. `send` fails this recipient on it, so this is what to tell
    /// the user; no gap is listed then (no message is made to show one).
    pub failed: Option<(TemplateSource, String)>,
}

/// How many re-renders for single recipients may run out of fuel before
/// the probe stops re-rendering (each costs a few milliseconds; a list of a
/// million rows, each with its own value that sends a loop past the fuel,
/// would keep lint busy for hours). Past it, a template the markers cannot
/// render counts its empty fields as shown, unrendered; `send` still meets
/// each failure, for that recipient alone.
const MAX_FUEL_OUTS: usize = 100;

/// How many re-render outcomes are remembered before the memory is cleared.
const MAX_REMEMBERED_RERENDERS: usize = 4096;

/// A template (index into `compiled`), the pattern of empty fields (empty,
/// blank) and the values of the variables it reads: what decides a
/// re-render's outcome.
type RerenderKey = (usize, u64, u64, Vec<Option<String>>);

/// What the probe remembers from one recipient to the next.
#[derive(Default)]
pub(super) struct ProbeCache {
    /// (empty mask, blank-but-not-"" mask) → what the probe found.
    patterns: Mutex<HashMap<(u64, u64), Probed>>,
    /// Re-renders for single recipients ([`Templates::probe_for_recipient`])
    /// by what decides them: a list repeats its values.
    rerenders: Mutex<HashMap<RerenderKey, Result<u64, String>>>,
    /// How many of those ran out of fuel (see [`MAX_FUEL_OUTS`]).
    fuel_outs: AtomicUsize,
}

/// The probe's answer for one pattern of empty fields (bit `i` of a mask is
/// `tracked[i]`).
#[derive(Clone, Debug)]
pub(super) struct Probed {
    /// The empty fields that the templates which rendered with the markers
    /// showed.
    shown: u64,
    /// The templates (indices into `compiled`) that did not render with the
    /// markers, each with the empty fields it reads. Whether such a template
    /// renders may depend on the recipient's values (`range(n|int)` with a
    /// huge `n`), so it is rendered again for each recipient of the pattern
    /// ([`Templates::probe_for_recipient`]) rather than judged once by the
    /// first.
    unrendered: Vec<(usize, u64)>,
}

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
    pub fn empty_fields_shown<'v>(
        &self,
        value: &dyn Fn(&str) -> Option<&'v str>,
    ) -> EmptyFieldsShown<'_> {
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
    /// variable when a pattern of empty fields is seen for the first time,
    /// and when a template has to be rendered with the real values.
    pub fn empty_fields_shown_with<'v>(
        &self,
        tracked: &dyn Fn(usize) -> Option<&'v str>,
        value: &dyn Fn(&str) -> Option<&'v str>,
    ) -> EmptyFieldsShown<'_> {
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
            return EmptyFieldsShown::default();
        }
        let key = (empty, blank);
        let cached = lock(&self.probe_cache.patterns).get(&key).cloned();
        let probed = match cached {
            Some(probed) => probed,
            None => {
                let probed = self.probe(empty, blank, value);
                lock(&self.probe_cache.patterns).insert(key, probed.clone());
                probed
            }
        };
        let mut bits = probed.shown;
        for &(index, reads) in &probed.unrendered {
            match self.probe_for_recipient(index, empty, blank, reads, value) {
                Ok(shown) => bits |= shown,
                Err(e) => {
                    return EmptyFieldsShown {
                        shown: Vec::new(),
                        failed: Some((self.compiled[index].source, e)),
                    };
                }
            }
        }
        EmptyFieldsShown {
            shown: (0..self.tracked.len())
                .filter(|i| bits & (1 << i) != 0)
                .map(|i| self.tracked[i].as_str())
                .collect(),
            failed: None,
        }
    }

    /// Renders every template once with the empty fields replaced by
    /// [`EmptyField`] markers: which markers were rendered, and which
    /// templates could not be rendered (with this, the first recipient's,
    /// values), to be tried again for each recipient.
    fn probe<'v>(&self, empty: u64, blank: u64, value: &dyn Fn(&str) -> Option<&'v str>) -> Probed {
        let rendered = Arc::new(AtomicU64::new(0));
        let context = self.probe_context(value, Some((empty, blank, &rendered)));
        let mut unrendered = Vec::new();
        for (index, c) in self.compiled.iter().enumerate() {
            let ok = self
                .env
                .get_template(&c.name)
                .and_then(|t| t.render(context.clone()))
                .is_ok();
            if !ok {
                let reads = c
                    .variables
                    .iter()
                    .filter_map(|name| self.tracked.binary_search(name).ok())
                    .fold(0u64, |reads, i| reads | (empty & (1 << i)));
                unrendered.push((index, reads));
            }
        }
        Probed {
            shown: rendered.load(Ordering::Relaxed),
            unrendered,
        }
    }

    /// The empty fields template `index` shows to this recipient, for a
    /// template that did not render with the markers for the first
    /// recipient of the pattern (it reads the empty fields `reads`).
    ///
    /// It is rendered as `send` would render it: when that fails, the
    /// recipient's message cannot be made at all — the error is what to
    /// report, not a gap. When it renders, the first recipient's values were
    /// at fault or the markers were: rendered with the markers and this
    /// recipient's values, it tells which empty fields it shows; if the
    /// markers still cannot be rendered (a method called on a field, say),
    /// every empty field it reads counts as shown, the safe side for a
    /// warning. Outcomes are remembered by the values that decide them.
    fn probe_for_recipient<'v>(
        &self,
        index: usize,
        empty: u64,
        blank: u64,
        reads: u64,
        value: &dyn Fn(&str) -> Option<&'v str>,
    ) -> Result<u64, String> {
        let cache = &self.probe_cache;
        let compiled = &self.compiled[index];
        let values = compiled
            .variables
            .iter()
            .map(|name| value(name).map(str::to_owned))
            .collect();
        let key = (index, empty, blank, values);
        if let Some(known) = lock(&cache.rerenders).get(&key) {
            return known.clone();
        }
        if cache.fuel_outs.load(Ordering::Relaxed) >= MAX_FUEL_OUTS {
            return Ok(reads);
        }
        let outcome = match self.render(compiled.source, &self.probe_context(value, None)) {
            Err(e) => {
                if e.kind() == ErrorKind::OutOfFuel {
                    cache.fuel_outs.fetch_add(1, Ordering::Relaxed);
                }
                Err(e.to_string())
            }
            Ok(_) => {
                let rendered = Arc::new(AtomicU64::new(0));
                let markers = self.probe_context(value, Some((empty, blank, &rendered)));
                match self.render(compiled.source, &markers) {
                    Ok(_) => Ok(rendered.load(Ordering::Relaxed)),
                    Err(_) => Ok(reads),
                }
            }
        };
        let mut remembered = lock(&cache.rerenders);
        if remembered.len() >= MAX_REMEMBERED_RERENDERS {
            remembered.clear();
        }
        remembered.insert(key, outcome.clone());
        outcome
    }

    /// The context of a probe render: every variable with the recipient's
    /// value, the empty ones (`empty`, with `blank` those of only spaces)
    /// as [`EmptyField`] markers reporting to `rendered` when `markers` is
    /// given. An empty built-in gets a placeholder, as `send` never renders
    /// one empty.
    fn probe_context<'v>(
        &self,
        value: &dyn Fn(&str) -> Option<&'v str>,
        markers: Option<(u64, u64, &Arc<AtomicU64>)>,
    ) -> Value {
        let mut context = BTreeMap::new();
        for name in &self.variables {
            let tracked = self.tracked.binary_search(name).ok();
            let v = match (tracked, markers) {
                (Some(i), Some((empty, blank, rendered))) if empty & (1 << i) != 0 => {
                    Value::from_object(EmptyField {
                        bit: 1 << i,
                        truthy: blank & (1 << i) != 0,
                        rendered: Arc::clone(rendered),
                    })
                }
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
        Value::from(context)
    }
}

/// The cache behind `mutex`: a panic elsewhere while it was held left
/// nothing half-written in it (each entry is inserted whole).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
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

    fn outcome<'t>(templates: &'t Templates, values: &[(&str, &str)]) -> EmptyFieldsShown<'t> {
        let values: HashMap<String, String> = values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        templates.empty_fields_shown(&|name| values.get(name).map(String::as_str))
    }

    #[track_caller]
    fn shown<'t>(templates: &'t Templates, values: &[(&str, &str)]) -> Vec<&'t str> {
        let outcome = outcome(templates, values);
        assert!(outcome.failed.is_none(), "{:?}", outcome.failed);
        outcome.shown
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

    /// A guarded greeting and a loop as long as a value says: too long a
    /// loop runs out of fuel, a render failure that depends on the value.
    const GUARDED_GREETING_AND_LOOP: &str = "{% if first_name %}Beste {{ first_name }}\
        {% else %}Beste klant{% endif %},\n\
        {% for i in range(n|int) %}{% for j in range(n|int) %}.{% endfor %}{% endfor %}\n";

    #[test]
    fn a_value_that_fails_the_render_was_reported_as_an_empty_field_shown() {
        let templates = plain(GUARDED_GREETING_AND_LOOP);
        // The loop cannot be rendered with n = 100000: send fails this
        // recipient, and that is what is reported — not the greeting's
        // field, which is only tested.
        let failing = outcome(&templates, &[("first_name", ""), ("n", "100000")]);
        assert!(failing.shown.is_empty(), "{:?}", failing.shown);
        let (source, error) = failing.failed.expect("a render failure");
        assert_eq!(source, TemplateSource::Part(0));
        assert!(error.contains(super::super::OUT_OF_FUEL), "{error}");
        assert_eq!(templates.template_name(source), "text/plain");
        // The next recipient with the same empty field renders: nothing to
        // report (the first one's failure was once cached for the whole
        // pattern, as this field shown).
        let fine = outcome(&templates, &[("first_name", ""), ("n", "2")]);
        assert!(fine.failed.is_none(), "{:?}", fine.failed);
        assert!(fine.shown.is_empty(), "{:?}", fine.shown);
        // And the one after fails again.
        let again = outcome(&templates, &[("first_name", ""), ("n", "100000")]);
        assert!(again.failed.is_some());
    }

    #[test]
    fn a_re_render_is_remembered_by_the_values_that_decide_it() {
        let templates = plain(GUARDED_GREETING_AND_LOOP);
        for _ in 0..3 {
            let failing = outcome(&templates, &[("first_name", ""), ("n", "100000")]);
            assert!(failing.failed.is_some());
        }
        let fine = outcome(&templates, &[("first_name", ""), ("n", "2")]);
        assert!(fine.failed.is_none() && fine.shown.is_empty(), "{fine:?}");
        // One fuel-out paid for three recipients with the same values.
        assert_eq!(templates.probe_cache.fuel_outs.load(Ordering::Relaxed), 1);
        assert_eq!(lock(&templates.probe_cache.rerenders).len(), 2);
    }

    #[test]
    fn a_method_call_that_fails_for_everyone_is_a_render_failure_not_a_gap() {
        // minijinja strings have no methods: send fails on this template
        // whatever the value, so the empty field is not the news.
        let templates = plain("{{ first_name.upper() }} {{ last_name }}\n");
        let result = outcome(&templates, &[("first_name", ""), ("last_name", "Jansen")]);
        assert!(result.shown.is_empty(), "{:?}", result.shown);
        let (_, error) = result.failed.expect("a render failure");
        assert!(
            error.to_string().contains("no method named upper"),
            "{error}"
        );
    }

    #[test]
    fn a_template_only_the_probe_cannot_render_counts_its_empty_fields() {
        // The marker is no string, so the probe takes the `else` branch and
        // fails there; with the real value the template renders and shows
        // the empty field. The probe cannot tell which fields the real
        // render shows: every empty field of that template counts, the
        // safe side for a warning.
        let templates = plain(
            "{% if first_name is string %}Beste {{ first_name }}\
             {% else %}{{ first_name.x() }}{% endif %}\n",
        );
        assert_eq!(shown(&templates, &[("first_name", "")]), ["first_name"]);
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
        let cache = templates.probe_cache.patterns.lock().expect("cache");
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
