//! The draft's subject and body parts as minijinja templates, compiled once.
//!
//! Each template gets a name whose extension picks minijinja's auto-escaping:
//! `part-N.html` for HTML parts (values are HTML-escaped), `part-N.txt` and
//! `subject.txt` for the rest. Undefined variables render as empty text and
//! may be chained (`{{ a.b }}`); mailgate finds unknown variables itself, from
//! [`Templates::variables`], before anything is rendered.
//!
//! # Which empty fields does a recipient see?
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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Object, Value};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};

use super::parse::LineMap;
use super::{Draft, PartKind};

/// The variables mailgate provides to every template, whatever the CSV holds.
pub const BUILTIN_VARIABLES: [&str; 2] = ["email", "unsubscribe_url"];

/// How many variables [`Templates::empty_fields_shown`] can track (one bit
/// each in the cache key).
pub const MAX_TRACKED_VARIABLES: usize = 64;

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

/// minijinja's built-in filters and tests: the names a misspelt one is
/// compared with for a did-you-mean (each is checked to exist in the
/// environment first, so a name minijinja drops is never suggested).
const KNOWN_FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "chain",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "format",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "tojson",
    "trim",
    "unique",
    "upper",
    "urlencode",
    "zip",
];
const KNOWN_TESTS: &[&str] = &[
    "boolean",
    "defined",
    "divisibleby",
    "endingwith",
    "eq",
    "equalto",
    "escaped",
    "even",
    "false",
    "filter",
    "float",
    "ge",
    "greaterthan",
    "gt",
    "in",
    "int",
    "integer",
    "iterable",
    "le",
    "lessthan",
    "lt",
    "mapping",
    "ne",
    "none",
    "number",
    "odd",
    "safe",
    "sameas",
    "sequence",
    "startingwith",
    "string",
    "test",
    "true",
    "undefined",
];

/// Whether `env` has a filter (`test == false`) or test named `name`,
/// asked the way rendering asks: an expression applying it is evaluated,
/// and only minijinja's "unknown filter/test" answer means no.
fn env_has(env: &Environment<'_>, name: &str, test: bool) -> bool {
    let kind = if test {
        ErrorKind::UnknownTest
    } else {
        ErrorKind::UnknownFilter
    };
    let source = if test {
        format!("x is {name}")
    } else {
        format!("x | {name}")
    };
    match env.compile_expression_owned(source) {
        Ok(expression) => expression
            .eval(Value::UNDEFINED)
            .map_or_else(|e| e.kind() != kind, |_| true),
        // Not a name the syntax allows: the template could not hold it.
        Err(_) => true,
    }
}

/// Every filter and test the template `name` in `env` applies that `env`
/// does not have (`{{ first_name | titel }}`, `{% if x is numbr %}`), as
/// (template line, message with a did-you-mean). Rendering would fail on
/// each of them — but only for a recipient whose values reach it — so the
/// lint finds them all before anything is sent, in every branch.
///
/// minijinja has no stable API that lists a template's filters, so the
/// compiled instructions are read (its `unstable_machinery`): they are what
/// rendering runs, name for name.
pub fn unknown_filters_and_tests(env: &Environment<'_>, name: &str) -> Vec<(u64, String)> {
    use minijinja::machinery::{Instruction, Instructions, get_compiled_template};
    let Ok(template) = env.get_template(name) else {
        return Vec::new();
    };
    let compiled = get_compiled_template(&template);
    let mut found: Vec<(u64, String)> = Vec::new();
    let mut seen = HashSet::new();
    let mut scan = |instructions: &Instructions<'_>| {
        for index in 0.. {
            let Some(instruction) = instructions.get(index) else {
                break;
            };
            let (called, test) = match instruction {
                Instruction::ApplyFilter(called, ..) => (*called, false),
                Instruction::PerformTest(called, ..) => (*called, true),
                _ => continue,
            };
            let called: String = called.chars().filter(|c| !c.is_whitespace()).collect();
            if !seen.insert((called.clone(), test)) || env_has(env, &called, test) {
                continue;
            }
            let (what, known) = if test {
                ("test", KNOWN_TESTS)
            } else {
                ("filter", KNOWN_FILTERS)
            };
            let candidates: Vec<&str> = known
                .iter()
                .copied()
                .filter(|k| env_has(env, k, test))
                .collect();
            let hint = crate::suggest::suggest(&called, &candidates)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            let line = instructions.get_line(index).unwrap_or(1) as u64;
            found.push((line, format!("unknown {what} `{called}`{hint}")));
        }
    };
    scan(&compiled.instructions);
    for block in compiled.blocks.values() {
        scan(block);
    }
    found
}

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
    /// (empty mask, blank-but-not-"" mask) → indices into `tracked`.
    shown_cache: Mutex<HashMap<(u64, u64), Vec<usize>>>,
    /// Where each variable is first used (see [`Templates::first_use`]).
    first_uses: OnceLock<HashMap<String, (TemplateSource, u64)>>,
}

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
            shown_cache: Mutex::new(HashMap::new()),
            first_uses: OnceLock::new(),
        };
        (templates, problems)
    }

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

/// The error of a template that runs out of [`RENDER_FUEL`] whatever the
/// recipient's values: rendered once with none (every field undefined, so
/// empty), before any row is read. Such a template could not be rendered
/// for anyone; lint reports it as `template-error`, as send would fail on
/// it. Other render errors are not this check's business.
fn bomb(env: &Environment<'_>, name: &str) -> Option<Error> {
    let render = env.get_template(name).and_then(|t| t.render(()));
    render.err().filter(|e| e.kind() == ErrorKind::OutOfFuel)
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
fn too_deep(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let mut pos = 0;
    while let Some(found) = memchr::memchr(b'{', &bytes[pos..]) {
        let open = pos + found;
        let close: &[u8] = match bytes.get(open + 1) {
            Some(b'{') => b"}}",
            Some(b'%') => b"%}",
            _ => {
                pos = open + 1;
                continue;
            }
        };
        let body_start = open + 2;
        let body_end = memchr::memmem::find(&bytes[body_start..], close)
            .map_or(bytes.len(), |i| body_start + i);
        let mut operators = 0;
        let mut quote = None;
        let mut i = body_start;
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
                return Some(text[..open].matches('\n').count() as u64 + 1);
            }
            i += 1;
        }
        pos = (body_end + 2).min(bytes.len());
    }
    None
}

/// Calls `visit(name, line)` for every identifier named in a `{{ }}` or
/// `{% %}` tag of `text`, outside string literals and not as an attribute
/// (`x.name`), in order, with its 1-based line within `text`. One pass over
/// the text, however many names it holds.
fn visit_identifiers<'t>(text: &'t str, mut visit: impl FnMut(&'t str, u64)) {
    let bytes = text.as_bytes();
    let mut line = 1u64;
    // Newlines are counted up to here.
    let mut counted = 0;
    let mut line_at = |offset: usize| {
        line += bytes[counted..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        counted = offset;
        line
    };
    let mut pos = 0;
    while let Some(found) = memchr::memchr(b'{', &bytes[pos..]) {
        let open = pos + found;
        let close = match bytes.get(open + 1) {
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            Some(b'#') => "#}",
            _ => {
                pos = open + 1;
                continue;
            }
        };
        let body_start = open + 2;
        let body_end = text[body_start..]
            .find(close)
            .map_or(text.len(), |i| body_start + i);
        if close != "#}" {
            for_each_identifier(&text[body_start..body_end], |at, name| {
                visit(name, line_at(body_start + at));
            });
        }
        pos = (body_end + 2).min(text.len());
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use minijinja::context;

    use super::super::test_support::{draft, load};
    use super::*;

    /// A text-only draft whose body (starting on line 4) is `body`.
    fn plain(body: &str) -> Templates {
        let (templates, problems) = Templates::compile(&draft(&format!(
            "From: a@example.nl\nSubject: Hoi\n\n{body}"
        )));
        assert!(problems.is_empty(), "{problems:?}");
        templates
    }

    fn shown<'t>(templates: &'t Templates, values: &[(&str, &str)]) -> Vec<&'t str> {
        let values: HashMap<String, String> = values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        templates.empty_fields_shown(&|name| values.get(name).map(String::as_str))
    }

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
