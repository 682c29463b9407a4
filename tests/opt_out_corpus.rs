//! The labelled opt-out corpus (`benches/opt_out/`) and its manifest agree:
//! every part on disk is listed, every listed file exists, and every entry
//! says where it came from, under which licence, and what its label is and
//! why. The corpus is the ground truth the detector is measured against
//! (`benches/opt_out.sh`), so it must not rot silently.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    part: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    file: String,
    language: String,
    part: String,
    category: String,
    label: String,
    source: String,
    licence: String,
    note: String,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/opt_out")
}

fn manifest() -> Manifest {
    let path = corpus_dir().join("corpus.toml");
    let text = std::fs::read_to_string(&path).expect("benches/opt_out/corpus.toml is readable");
    toml::from_str(&text).unwrap_or_else(|e| panic!("corpus.toml does not parse: {e}"))
}

/// Every file under `dir`, relative to `base`, with `/` separators.
fn files_under(base: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("corpus folder is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files_under(base, &path, out);
        } else {
            let relative = path.strip_prefix(base).expect("under the base");
            let parts: Vec<_> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.insert(parts.join("/"));
        }
    }
}

#[test]
fn every_corpus_file_is_listed_and_every_listed_file_exists() {
    let manifest = manifest();
    let base = corpus_dir();
    let listed: BTreeSet<String> = manifest.part.iter().map(|e| e.file.clone()).collect();
    assert_eq!(
        listed.len(),
        manifest.part.len(),
        "two entries name the same file"
    );
    let mut on_disk = BTreeSet::new();
    files_under(&base, &base.join("corpus"), &mut on_disk);
    let unlisted: Vec<_> = on_disk.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&on_disk).collect();
    assert!(
        unlisted.is_empty(),
        "files in the corpus that corpus.toml does not list: {unlisted:?}"
    );
    assert!(
        missing.is_empty(),
        "files corpus.toml lists that are not there: {missing:?}"
    );
}

#[test]
fn every_entry_has_provenance_licence_label_and_note() {
    let manifest = manifest();
    let mut ids = BTreeSet::new();
    for e in &manifest.part {
        assert!(ids.insert(e.id.as_str()), "id {} is used twice", e.id);
        for (field, value) in [
            ("language", &e.language),
            ("category", &e.category),
            ("source", &e.source),
            ("licence", &e.licence),
            ("note", &e.note),
        ] {
            assert!(!value.trim().is_empty(), "{}: {field} is empty", e.id);
        }
        assert!(
            e.label == "yes" || e.label == "no",
            "{}: label {:?} is not yes or no",
            e.id,
            e.label
        );
        let extension = match e.part.as_str() {
            "text/plain" => "txt",
            "text/html" => "html",
            other => panic!("{}: part {other:?} is not text/plain or text/html", e.id),
        };
        assert_eq!(
            e.file,
            format!("corpus/{}/{}.{extension}", e.language, e.id),
            "{}: the file is corpus/<language>/<id>.<txt|html>",
            e.id
        );
        let text = std::fs::read(corpus_dir().join(&e.file)).expect("listed file is readable");
        assert!(
            std::str::from_utf8(&text).is_ok(),
            "{}: the part is not UTF-8",
            e.id
        );
        assert!(!text.is_empty(), "{}: the part is empty", e.id);
    }
}

#[test]
fn corpus_covers_the_languages_and_kinds_the_issue_asks_for() {
    let manifest = manifest();
    assert!(
        manifest.part.len() >= 200,
        "only {} parts (at least 200)",
        manifest.part.len()
    );
    let mut per_language: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &manifest.part {
        *per_language.entry(e.language.as_str()).or_default() += 1;
    }
    assert!(
        per_language.len() >= 12,
        "only {} languages (at least 12): {per_language:?}",
        per_language.len()
    );
    let kinds: BTreeSet<&str> = manifest.part.iter().map(|e| e.part.as_str()).collect();
    assert_eq!(kinds.len(), 2, "both text/plain and text/html parts");
    let labels: BTreeSet<&str> = manifest.part.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(labels.len(), 2, "both labels occur");
}
