//! Measures the opt-out detector against the labelled corpus in
//! `benches/opt_out/` (run it through `benches/opt_out.sh`).
//!
//! ```sh
//! cargo run --release --example opt_out_bench -- [--manifest PATH] [--newsletter-out PATH] [--only TEXT]
//! ```
//!
//! `--only TEXT` measures only the parts whose id, language or category
//! contains TEXT (`--only de`, `--only mailman3`, `--only list-post`).
//!
//! Prints precision and recall of "has a usable opt-out" per language and
//! overall, then every miss (labelled yes, detector says no) and false alarm
//! (labelled no, detector says yes) with the part's id and note, then the
//! detector's time on a ~200 KB HTML newsletter assembled from the corpus's
//! own HTML parts (written to `--newsletter-out` when given, so that the
//! script can time `mailgate lint` on it too).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use mailgate::draft::PartKind;
use serde::Deserialize;

/// `println!` that ignores a closed stdout (`… | head`) instead of
/// panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// The detector under test: the one place where the benchmark calls the
/// library's opt-out API. Adapt this function when that API changes.
fn detect(kind: PartKind, text: &str) -> bool {
    match kind {
        PartKind::Html => mailgate::draft::opt_out::html_has_opt_out(text),
        PartKind::Plain => mailgate::draft::opt_out::text_has_opt_out(text),
    }
}

/// `benches/opt_out/corpus.toml`.
#[derive(Deserialize)]
struct Manifest {
    part: Vec<Entry>,
}

/// One labelled body part.
#[derive(Deserialize)]
struct Entry {
    id: String,
    /// Relative to the manifest's folder.
    file: String,
    language: String,
    /// `text/plain` or `text/html`.
    part: String,
    category: String,
    /// `yes` or `no`: does the part offer a usable opt-out (SPEC §3)?
    label: String,
    note: String,
}

/// Counts of one language (or of all).
#[derive(Default)]
struct Tally {
    parts: usize,
    true_pos: usize,
    false_pos: usize,
    false_neg: usize,
}

impl Tally {
    fn add(&mut self, expected: bool, found: bool) {
        self.parts += 1;
        match (expected, found) {
            (true, true) => self.true_pos += 1,
            (false, true) => self.false_pos += 1,
            (true, false) => self.false_neg += 1,
            (false, false) => {}
        }
    }

    fn precision(&self) -> f64 {
        ratio(self.true_pos, self.true_pos + self.false_pos)
    }

    fn recall(&self) -> f64 {
        ratio(self.true_pos, self.true_pos + self.false_neg)
    }
}

/// 1.0 for 0/0: no opt-out claimed means no false one.
fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        1.0
    } else {
        num as f64 / den as f64
    }
}

struct Options {
    manifest: PathBuf,
    newsletter_out: Option<PathBuf>,
    only: Option<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        manifest: Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/opt_out/corpus.toml"),
        newsletter_out: None,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--manifest" => options.manifest = value.into(),
            "--newsletter-out" => options.newsletter_out = Some(value.into()),
            "--only" => options.only = Some(value),
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("opt_out_bench: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let options = parse_args()?;
    let manifest_text = std::fs::read_to_string(&options.manifest)
        .map_err(|e| format!("{}: {e}", options.manifest.display()))?;
    let manifest: Manifest = toml::from_str(&manifest_text)
        .map_err(|e| format!("{}: {e}", options.manifest.display()))?;
    let dir = options.manifest.parent().unwrap_or(Path::new("."));

    let mut by_language: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_category: BTreeMap<String, Tally> = BTreeMap::new();
    let mut overall = Tally::default();
    let mut misses = Vec::new();
    let mut false_alarms = Vec::new();
    let mut html_parts = Vec::new();
    let mut detecting = std::time::Duration::ZERO;
    for entry in &manifest.part {
        if let Some(only) = &options.only
            && ![&entry.id, &entry.language, &entry.category]
                .iter()
                .any(|field| field.contains(only.as_str()))
        {
            continue;
        }
        let path = dir.join(&entry.file);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let kind = match entry.part.as_str() {
            "text/plain" => PartKind::Plain,
            "text/html" => PartKind::Html,
            other => {
                return Err(format!(
                    "{}: part type {other:?} is not text/plain or text/html",
                    entry.id
                ));
            }
        };
        let expected = match entry.label.as_str() {
            "yes" => true,
            "no" => false,
            other => return Err(format!("{}: label {other:?} is not yes or no", entry.id)),
        };
        let start = Instant::now();
        let found = detect(kind, &text);
        detecting += start.elapsed();
        overall.add(expected, found);
        by_language
            .entry(entry.language.clone())
            .or_default()
            .add(expected, found);
        by_category
            .entry(entry.category.clone())
            .or_default()
            .add(expected, found);
        if expected && !found {
            misses.push(entry);
        } else if !expected && found {
            false_alarms.push(entry);
        }
        if kind == PartKind::Html {
            html_parts.push(text);
        }
    }

    say!(
        "opt-out detector on {} ({} parts)",
        options.manifest.display(),
        overall.parts
    );
    say!();
    print_table("language", &by_language, &overall);
    say!();
    print_table("category", &by_category, &overall);
    say!();
    say!("misses (labelled yes, detector says no): {}", misses.len());
    for entry in &misses {
        say!("  {}  [{}] {}", entry.id, entry.file, entry.note);
    }
    say!();
    say!(
        "false alarms (labelled no, detector says yes): {}",
        false_alarms.len()
    );
    for entry in &false_alarms {
        say!("  {}  [{}] {}", entry.id, entry.file, entry.note);
    }
    say!();
    say!(
        "detector time over the {} parts: {:.1} ms in all",
        overall.parts,
        detecting.as_secs_f64() * 1000.0
    );
    time_newsletter(&html_parts, options.newsletter_out.as_deref())
}

fn print_table(what: &str, rows: &BTreeMap<String, Tally>, overall: &Tally) {
    say!("| {what:<12} | parts | yes | found | missed | false alarms | precision | recall |");
    say!("|--------------|------:|----:|------:|-------:|-------------:|----------:|-------:|");
    for (name, t) in rows
        .iter()
        .chain(std::iter::once((&"ALL".to_owned(), overall)))
    {
        say!(
            "| {name:<12} | {:>5} | {:>3} | {:>5} | {:>6} | {:>12} | {:>9.3} | {:>6.3} |",
            t.parts,
            t.true_pos + t.false_neg,
            t.true_pos,
            t.false_neg,
            t.false_pos,
            t.precision(),
            t.recall()
        );
    }
}

/// Assembles a newsletter of at least 200 KB from the `<body>` contents of
/// the corpus's HTML parts (real text, real markup, each with its own
/// footer), repeated in order, and times the detector on it: the median of
/// 21 runs.
fn time_newsletter(html_parts: &[String], out: Option<&Path>) -> Result<(), String> {
    const TARGET: usize = 200 * 1024;
    let bodies: Vec<&str> = html_parts
        .iter()
        .map(|html| body_of(html))
        .filter(|body| !body.contains("{{") && !body.contains("{%"))
        .collect();
    if bodies.is_empty() {
        say!("no HTML part without template syntax to assemble a newsletter from: timing skipped");
        return Ok(());
    }
    let mut newsletter = String::from(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Newsletter</title></head><body>\n",
    );
    'fill: loop {
        for body in &bodies {
            newsletter.push_str("<div class=\"article\">\n");
            newsletter.push_str(body);
            newsletter.push_str("\n</div>\n");
            if newsletter.len() >= TARGET {
                break 'fill;
            }
        }
    }
    newsletter.push_str("</body></html>\n");
    if let Some(path) = out {
        std::fs::write(path, &newsletter).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let mut times = Vec::new();
    let mut found = false;
    for round in 0..21 {
        // Each round's text differs by a comment: the library keeps the
        // last HTML part it parsed, and a repeat would time that memo.
        let text = format!("{newsletter}<!-- round {round} -->\n");
        let start = Instant::now();
        found = detect(PartKind::Html, &text);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    say!(
        "detector on a {} KB HTML newsletter ({} corpus bodies): median {:.1} ms, fastest {:.1} ms, slowest {:.1} ms (opt-out found: {found})",
        newsletter.len() / 1024,
        bodies.len(),
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    Ok(())
}

/// What is between `<body …>` and `</body>` (the whole text when there is
/// no body element).
fn body_of(html: &str) -> &str {
    let lower = html.to_ascii_lowercase();
    let start = lower
        .find("<body")
        .and_then(|at| lower[at..].find('>').map(|end| at + end + 1))
        .unwrap_or(0);
    let end = lower
        .rfind("</body>")
        .filter(|&end| end >= start)
        .unwrap_or(html.len());
    &html[start..end]
}
