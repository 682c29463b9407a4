//! Imports flow one way: no module of `src/` may reach itself again by
//! following the `crate::` paths it names (`use crate::…` lines and paths
//! written in full). A module is a file (`src/a/b.rs` or `src/a/b/mod.rs`
//! is `a::b`); a path names the deepest module it passes through. What
//! several steps share (levels, path display, suggestions, normalisation)
//! belongs in a leaf module, not in a sibling that imports back.
//!
//! The same holds between the top-level modules (`campaign`, `rules`,
//! `send`, …): the data flows campaign → recipients/draft → judge → rules →
//! diagnostics → report → send, so no top-level module may reach itself
//! again through the others, even when no single file closes the circle
//! (`campaign/mod.rs` naming `rules`, and `rules/campaign.rs` naming
//! `campaign`).
//!
//! Run alone with `cargo test --test imports`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src/` (`rules::draft`); the crate root
/// (`lib.rs`, `main.rs`) is the empty path.
fn module_of(file: &Path) -> String {
    let relative = file.strip_prefix(src_dir()).expect("a file under src/");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    match last.as_str() {
        "mod.rs" | "lib.rs" | "main.rs" => {}
        name => parts.push(name.trim_end_matches(".rs").to_owned()),
    }
    parts.join("::")
}

/// The paths that follow `crate::` in `text`, each as its segments; a
/// group (`crate::rules::{self, draft::check}`) gives one path per member.
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = text[from..].find("crate::") {
        let start = from + found;
        from = start + "crate::".len();
        // `$crate::` in a macro, or a longer name ending in `crate`.
        let before = start.checked_sub(1).map(|i| bytes[i]);
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$') {
            continue;
        }
        expand(&text[from..], Vec::new(), &mut paths);
    }
    paths
}

/// Reads the path at the start of `rest` (after `prefix`) into `out`,
/// expanding one level of `{…}` groups.
fn expand(rest: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut segments = prefix;
    let mut rest = rest;
    loop {
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for member in group[..end].split(',') {
                    let member = member.trim();
                    if member == "self" || member.is_empty() {
                        out.push(segments.clone());
                    } else {
                        expand(member, segments.clone(), out);
                    }
                }
                return;
            }
            break;
        }
        segments.push(ident.clone());
        rest = &rest[ident.len()..];
        match rest.strip_prefix("::") {
            Some(next) => rest = next,
            None => break,
        }
    }
    if !segments.is_empty() {
        out.push(segments);
    }
}

/// The import graph: module → the modules it names.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = module_of(file);
        let text = std::fs::read_to_string(file).expect("a readable source file");
        // Comments are not imports (doc links name modules freely).
        let code: String = text
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        for path in crate_paths(&code) {
            let target = (0..=path.len())
                .rev()
                .map(|n| path[..n].join("::"))
                .find(|m| modules.contains(m))
                .unwrap_or_default();
            if target != from && !target.is_empty() {
                edges.entry(from.clone()).or_default().insert(target);
            }
        }
        edges.entry(from).or_default();
    }
    edges
}

/// A circle in `graph`, as the modules along it, if there is one.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit<'g>(
        node: &'g str,
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<&'g str, Mark>,
        stack: &mut Vec<&'g str>,
    ) -> Option<Vec<String>> {
        marks.insert(node, Mark::Open);
        stack.push(node);
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next.as_str()).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let at = stack.iter().position(|m| *m == next).unwrap_or(0);
                    let mut circle: Vec<String> =
                        stack[at..].iter().map(|m| m.to_string()).collect();
                    circle.push(next.clone());
                    return Some(circle);
                }
                Mark::New => {
                    if let Some(circle) = visit(next, graph, marks, stack) {
                        return Some(circle);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(node, Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node.as_str()).copied().unwrap_or(Mark::New) == Mark::New {
            let mut stack = Vec::new();
            if let Some(circle) = visit(node, graph, &mut marks, &mut stack) {
                return Some(circle);
            }
        }
    }
    None
}

#[test]
fn no_module_imports_itself_through_others() {
    let graph = graph();
    if let Some(circle) = find_circle(&graph) {
        panic!(
            "modules import each other in a circle: {}\n\
             move what they share into a leaf module (see src/levels.rs, src/paths.rs, \
             src/suggest.rs, src/normalise.rs)",
            circle.join(" → ")
        );
    }
}

/// `graph` with every module replaced by its top-level module (`rules::draft`
/// → `rules`); the crate root and a module's own parts are left out.
fn top_level(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let top = |module: &str| module.split("::").next().unwrap_or("").to_owned();
    let mut tops: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in graph {
        let from = top(from);
        if from.is_empty() {
            continue;
        }
        let entry = tops.entry(from.clone()).or_default();
        entry.extend(targets.iter().map(|t| top(t)).filter(|t| *t != from));
    }
    tops
}

#[test]
fn no_top_level_module_imports_itself_through_others() {
    let graph = top_level(&graph());
    if let Some(circle) = find_circle(&graph) {
        panic!(
            "top-level modules import each other in a circle: {}\n\
             imports flow one way (campaign → recipients/draft → judge → rules → \
             diagnostics → report → send); move what they share into a leaf module \
             (see src/levels.rs, src/paths.rs, src/suggest.rs, src/normalise.rs)",
            circle.join(" → ")
        );
    }
}

#[test]
fn the_leaf_modules_import_nothing_of_the_crate() {
    let graph = graph();
    for leaf in ["levels", "paths", "suggest", "normalise", "bytes"] {
        let imports = graph
            .get(leaf)
            .unwrap_or_else(|| panic!("src/{leaf}.rs is missing"));
        assert!(imports.is_empty(), "{leaf} imports {imports:?}");
    }
}

#[test]
fn the_check_sees_a_circle_and_a_group() {
    let paths = crate_paths(
        "use crate::rules::{self, Levels, draft::check};\nx = crate::paths::display(p);",
    );
    assert_eq!(
        paths,
        vec![
            vec!["rules".to_owned()],
            vec!["rules".to_owned(), "Levels".to_owned()],
            vec!["rules".to_owned(), "draft".to_owned(), "check".to_owned()],
            vec!["paths".to_owned(), "display".to_owned()],
        ]
    );
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["c".to_owned()]));
    graph.insert("c".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(
        find_circle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    graph.insert("c".to_owned(), BTreeSet::new());
    assert_eq!(find_circle(&graph), None);
}

#[test]
fn the_check_sees_a_circle_that_no_file_closes() {
    // campaign (mod.rs) names rules; rules::campaign names campaign: the
    // files form no circle, the top-level modules do.
    let mut graph = BTreeMap::new();
    graph.insert("campaign".to_owned(), BTreeSet::from(["rules".to_owned()]));
    graph.insert("rules".to_owned(), BTreeSet::new());
    graph.insert(
        "rules::campaign".to_owned(),
        BTreeSet::from(["campaign".to_owned(), "diagnostic".to_owned()]),
    );
    graph.insert("diagnostic".to_owned(), BTreeSet::new());
    assert_eq!(find_circle(&graph), None);
    let tops = top_level(&graph);
    assert_eq!(
        find_circle(&tops),
        Some(vec!["campaign".into(), "rules".into(), "campaign".into()])
    );
    assert_eq!(
        tops["rules"],
        BTreeSet::from(["campaign".into(), "diagnostic".into()])
    );
}
