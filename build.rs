//! Assembles the rule registry from the rule files: every
//! `src/rules/<scope>/<rule>.rs` that declares a rule (`declare_rule!`) is a
//! module of its scope and an entry of `RuleId` and `RULES`, in the order of
//! the scopes and, within one, of each rule's `order`. So adding a rule is
//! adding its file (and its `.md`): no list to extend, no length to count.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The scopes in the order of SPEC §3: (folder, `Scope` variant).
const SCOPES: [(&str, &str); 4] = [
    ("recipient", "Recipient"),
    ("list", "List"),
    ("draft", "Draft"),
    ("campaign", "Campaign"),
];

/// The scopes whose rule files may carry a `pub fn check` of their scope's
/// `Check` signature: the generated `CHECKS` lists them, in order.
const SCOPES_WITH_CHECKS: [&str; 3] = ["list", "draft", "campaign"];

struct Rule {
    stem: String,
    /// The declared kebab-case name.
    name: String,
    order: u32,
    path: PathBuf,
    /// Whether the file has a `pub fn check`.
    check: bool,
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("rules");
    std::fs::create_dir_all(&out).expect("OUT_DIR is writable");
    println!("cargo::rerun-if-changed=src/rules");
    // The generated modules name their files by absolute path; src/rules
    // checks that it is compiled from the directory they were made for.
    println!(
        "cargo::rustc-env=MAILGATE_RULES_GENERATED_FOR={}",
        root.display()
    );

    let mut variants = String::new();
    let mut names = String::new();
    let mut all = String::new();
    let mut entries = String::new();
    let mut count = 0;
    for (folder, scope) in SCOPES {
        let rules = rules_in(&root.join("src/rules").join(folder));
        let mut modules = String::new();
        for rule in &rules {
            let _ = writeln!(
                modules,
                "#[path = {:?}]\npub mod {};",
                rule.path.display().to_string(),
                rule.stem
            );
            let variant = camel_case(&rule.stem);
            let _ = writeln!(variants, "    {variant},");
            let _ = writeln!(names, "    {:?},", rule.name);
            let _ = writeln!(all, "        RuleId::{variant},");
            let _ = writeln!(
                entries,
                "    RuleInfo::declared(RuleId::{variant}, Scope::{scope}, &{folder}::{}::RULE),",
                rule.stem
            );
            count += 1;
        }
        if SCOPES_WITH_CHECKS.contains(&folder) {
            let checks: Vec<String> = rules
                .iter()
                .filter(|r| r.check)
                .map(|r| format!("{}::check", r.stem))
                .collect();
            let _ = writeln!(
                modules,
                "/// The checks of this scope's rule files, in the registry's order.\n\
                 pub(crate) static CHECKS: &[Check] = &[{}];",
                checks.join(", ")
            );
        }
        write(&out.join(format!("{folder}.rs")), &modules);
    }
    // The names, for the leaf `levels` (what the campaign file and the
    // diagnostics need), apart from the declarations (what the rules need).
    let ids = format!(
        "/// Every rule mailgate knows, in the order of SPEC §3 and of `mailgate rules`:\n\
         /// scope by scope, and within a scope by each rule's `order`.\n\
         #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]\n\
         pub enum RuleId {{\n{variants}}}\n\n\
         impl RuleId {{\n\
         \x20   /// Every rule, in the registry's order.\n\
         \x20   pub const ALL: [RuleId; RULE_COUNT] = [\n{all}    ];\n}}\n\n\
         /// How many rules there are.\n\
         pub const RULE_COUNT: usize = {count};\n\n\
         /// Every rule's stable name, indexed by `RuleId as usize`.\n\
         pub const RULE_NAMES: [&str; RULE_COUNT] = [\n{names}];\n"
    );
    write(&out.join("ids.rs"), &ids);
    let registry = format!(
        "/// The registry, indexed by `RuleId as usize`.\n\
         pub static RULES: [RuleInfo; RULE_COUNT] = [\n{entries}];\n"
    );
    write(&out.join("registry.rs"), &registry);

    acceptance_cases(&root, &out);
}

/// One `#[test]` per folder of `fixtures/cases/` for tests/acceptance.rs
/// (so `cargo test --test acceptance some_case` runs one), and the list of
/// them all: a new case is a new folder, with no list to extend.
fn acceptance_cases(root: &Path, out: &Path) {
    println!("cargo::rerun-if-changed=fixtures/cases");
    let mut names: Vec<String> = std::fs::read_dir(root.join("fixtures/cases"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut tests = String::new();
    for name in &names {
        let test: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let _ = writeln!(
            tests,
            "#[test]\nfn {test}() {{\n    run_case({name:?});\n}}"
        );
    }
    let _ = writeln!(
        tests,
        "/// Every folder of `fixtures/cases/`.\nconst CASES: &[&str] = &{names:?};"
    );
    write(&out.join("acceptance_cases.rs"), &tests);
}

/// The rule files of one scope folder, in their order.
fn rules_in(folder: &Path) -> Vec<Rule> {
    let mut rules = Vec::new();
    let Ok(entries) = std::fs::read_dir(folder) else {
        return rules;
    };
    for entry in entries {
        let path = entry.expect("a readable rules folder").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a readable rule file");
        if !text.contains("declare_rule!") {
            continue;
        }
        let order = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("order:"))
            .and_then(|n| n.trim().trim_end_matches(',').parse().ok())
            .unwrap_or_else(|| panic!("{} declares no `order: N,`", path.display()));
        let name = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("name:"))
            .and_then(|n| n.trim().trim_end_matches(',').strip_prefix('"'))
            .and_then(|n| n.strip_suffix('"'))
            .unwrap_or_else(|| panic!("{} declares no `name: \"…\",`", path.display()))
            .to_owned();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a UTF-8 file name")
            .to_owned();
        let check = text.contains("\npub fn check(");
        rules.push(Rule {
            stem,
            name,
            order,
            path,
            check,
        });
    }
    rules.sort_by(|a, b| (a.order, &a.stem).cmp(&(b.order, &b.stem)));
    rules
}

/// `no_reply_sender` → `NoReplySender`.
fn camel_case(stem: &str) -> String {
    stem.split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Writes `text` unless the file holds it already (so nothing rebuilds
/// for an unchanged registry).
fn write(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).expect("OUT_DIR is writable");
    }
}
