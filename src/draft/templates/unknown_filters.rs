//! Filters and tests a template applies that the environment does not have
//! (`{{ first_name | titel }}`): found in every branch before anything is
//! rendered, each with a did-you-mean.

use std::collections::HashSet;

use minijinja::value::Value;
use minijinja::{Environment, ErrorKind};

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
