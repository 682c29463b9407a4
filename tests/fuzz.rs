//! Fuzzing on stable Rust: proptest mutates the real files of `fixtures/`
//! and `tests/data/` (flipped and inserted bytes, tokens that matter to CSV,
//! MIME, templates and TOML, deleted, repeated and spliced spans) and feeds
//! them to the CSV reader, the draft parser and the campaign loader — each
//! through a whole lint, so the rules and the report see the damage too —
//! and to the binary. Every input must end within a time bound, without a
//! panic, and the binary with exit code 0, 1 or 2.
//!
//! `bash .ci/run` runs a short round with a fixed seed (the same inputs on
//! every run, so a failure is someone's change, not luck). For longer runs:
//!
//! ```sh
//! MAILGATE_FUZZ_CASES=5000 MAILGATE_FUZZ_SEED=random cargo test --release --test fuzz -- --nocapture
//! ```
//!
//! A failing input is shrunk and written to `target/fuzz-failures/`, and
//! its path is in the failure message: make it a regression test.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

use mailgate::campaign::{Campaign, Overrides};
use mailgate::lint::{Outputs, lint};
use mailgate::recipients::RecipientReader;
use mailgate::recipients::suppression::Suppression;
use mailgate::report::{Emitter, HumanEmitter};

/// How long one input may take: a hang runs for ever, and a lint of these
/// files takes milliseconds to seconds in a debug build, but on a busy
/// 2-core machine an input that took 3 s alone was seen to take over 30 s.
const TIME_LIMIT: Duration = Duration::from_secs(90);

/// The largest mutated input (repeats are capped to stay below it).
const MAX_INPUT: usize = 4 << 20;

/// Inputs per target: `MAILGATE_FUZZ_CASES`, else a short round.
fn cases(short: u32) -> u32 {
    std::env::var("MAILGATE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(short)
}

fn config(cases: u32) -> Config {
    let rng_seed = match std::env::var("MAILGATE_FUZZ_SEED").as_deref() {
        Ok("random") => RngSeed::Random,
        Ok(seed) => RngSeed::Fixed(
            seed.parse()
                .expect("MAILGATE_FUZZ_SEED: a number or `random`"),
        ),
        Err(_) => RngSeed::Fixed(0x6d61_696c_6761_7465),
    };
    Config {
        cases,
        rng_seed,
        // Failures become regression tests by hand; nothing is written
        // into the source tree.
        failure_persistence: None,
        max_shrink_iters: 300,
        max_shrink_time: 120_000,
        ..Config::default()
    }
}

/// The seed files, read once.
struct Corpus {
    csv: Vec<Vec<u8>>,
    eml: Vec<Vec<u8>>,
    /// Each campaign file with the folder it belongs in.
    toml: Vec<(PathBuf, Vec<u8>)>,
}

static CORPUS: LazyLock<Corpus> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["fixtures", "tests/data"] {
        collect(&root.join(dir), &mut files);
    }
    files.sort();
    let mut corpus = Corpus {
        csv: Vec::new(),
        eml: Vec::new(),
        toml: Vec::new(),
    };
    for path in files {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        // Big files make slow inputs without finding more.
        if bytes.len() > 256 << 10 {
            continue;
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => corpus.csv.push(bytes),
            Some("eml") => corpus.eml.push(bytes),
            Some("toml") if path.file_name().is_some_and(|n| n == "campaign.toml") => {
                let dir = path.parent().unwrap_or(root).to_path_buf();
                corpus.toml.push((dir, bytes));
            }
            _ => {}
        }
    }
    assert!(
        !corpus.csv.is_empty() && !corpus.eml.is_empty() && !corpus.toml.is_empty(),
        "no seed files found"
    );
    corpus
});

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Bytes that mean something to one of the formats.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\"\"",
    b",",
    b";",
    b"\t",
    b"\n",
    b"\r\n",
    b"\r",
    b"\0",
    b"\xEF\xBB\xBF",
    b"\xFF\xFE",
    b"\xC3",
    b"\xE9",
    b"=",
    b"=\n",
    b"=0A",
    b"=?utf-8?b?",
    b"?=",
    b"{{",
    b"}}",
    b"{%",
    b"%}",
    b"{#",
    b"{{ first_name }}",
    b"{% if x %}",
    b"{% for i in range(100000) %}",
    b"{% endfor %}",
    b"{{ 'x' * 100000000 }}",
    b"@",
    b"<",
    b">",
    b"--",
    b"\n--b\nContent-Type: text/plain\n\n",
    b"Content-Type: multipart/mixed; boundary=b\n",
    b"Content-Transfer-Encoding: base64\n",
    b"Content-Transfer-Encoding: quoted-printable\n",
    b"<a href=\"https://x.example/unsubscribe\">afmelden</a>",
    b"<div style=\"display:none\">",
    b"[",
    b"]",
    b"[[",
    b"[campaign]\n",
    b"\"\"\"",
    b"'''",
    b"{",
    b"}",
    b"\\",
    b"\\u",
    b"email,consent_at,consent_source,customer,purchased,list_source\n",
    b"2026-02-30",
    b"9999-99-99T99:99:99+99:99",
    b"purchased:x",
    b"yes",
    b"\xE2\x80\xAE",
    b"\x1b]0;x\x07",
];

/// One change to a seed file. Positions and lengths are taken modulo the
/// input's length when applied.
#[derive(Clone, Debug)]
enum Mutation {
    Flip {
        at: usize,
        byte: u8,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Token {
        at: usize,
        token: usize,
    },
    Delete {
        at: usize,
        len: usize,
    },
    Repeat {
        at: usize,
        len: usize,
        times: usize,
    },
    Splice {
        at: usize,
        from: usize,
        from_at: usize,
        len: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        1 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        3 => (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, token)| Mutation::Token { at, token }),
        1 => (any::<usize>(), 1..512usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => (any::<usize>(), 1..64usize, 2..5000usize)
            .prop_map(|(at, len, times)| Mutation::Repeat { at, len, times }),
        1 => (any::<usize>(), any::<usize>(), any::<usize>(), 1..2048usize)
            .prop_map(|(at, from, from_at, len)| Mutation::Splice { at, from, from_at, len }),
    ]
}

/// A seed (by index) and the changes made to it.
fn input() -> impl Strategy<Value = (usize, Vec<Mutation>)> {
    (any::<usize>(), proptest::collection::vec(mutation(), 0..8))
}

fn apply(seed: &[u8], mutations: &[Mutation], others: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for m in mutations {
        let at = |at: usize, bytes: &Vec<u8>| at % (bytes.len() + 1);
        match m {
            Mutation::Flip { at: a, byte } => {
                if !bytes.is_empty() {
                    let i = a % bytes.len();
                    bytes[i] = *byte;
                }
            }
            Mutation::Insert { at: a, bytes: new } => {
                let i = at(*a, &bytes);
                bytes.splice(i..i, new.iter().copied());
            }
            Mutation::Token { at: a, token } => {
                let i = at(*a, &bytes);
                bytes.splice(i..i, TOKENS[*token].iter().copied());
            }
            Mutation::Delete { at: a, len } => {
                let i = at(*a, &bytes);
                let end = (i + len).min(bytes.len());
                bytes.drain(i..end);
            }
            Mutation::Repeat { at: a, len, times } => {
                let i = at(*a, &bytes);
                let end = (i + len).min(bytes.len());
                let span = bytes[i..end].to_vec();
                let room = MAX_INPUT.saturating_sub(bytes.len()) / span.len().max(1);
                let times = (*times).min(room);
                let repeated: Vec<u8> = span
                    .iter()
                    .copied()
                    .cycle()
                    .take(span.len() * times)
                    .collect();
                bytes.splice(end..end, repeated);
            }
            Mutation::Splice {
                at: a,
                from,
                from_at,
                len,
            } => {
                let other = &others[from % others.len()];
                let start = from_at % (other.len() + 1);
                let end = (start + len).min(other.len());
                let i = at(*a, &bytes);
                bytes.splice(i..i, other[start..end].iter().copied());
            }
        }
    }
    bytes.truncate(MAX_INPUT);
    bytes
}

/// Runs `f` on its own thread: a panic or a run past [`TIME_LIMIT`] is a
/// failure that names `what` and keeps the input at `saved`.
fn guarded<T: Send + 'static>(
    what: &str,
    saved: &Path,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, TestCaseError> {
    let (tx, rx) = mpsc::channel();
    // The stack of the binary's main thread, where a lint runs.
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
        })
        .unwrap();
    match rx.recv_timeout(TIME_LIMIT) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) => Err(TestCaseError::fail(format!(
            "{what} panicked on {}",
            saved.display()
        ))),
        Err(_) => Err(TestCaseError::fail(format!(
            "{what} took more than {TIME_LIMIT:?} on {}",
            saved.display()
        ))),
    }
}

/// Keeps a copy of a failing input where the failure message says.
fn save_failure(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    let hash = fnv(bytes);
    let path = dir.join(format!("{hash:016x}-{name}"));
    let _ = std::fs::write(&path, bytes);
    path
}

/// FNV-1a: only to name a file.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A whole lint of `campaign`, its human report rendered and dropped.
fn lint_all(campaign: &Campaign) {
    let mut emitter = HumanEmitter::new();
    if let Ok(summary) = lint(campaign, &mut emitter, &Outputs::default()) {
        let _ = emitter.finish(&summary, &mut std::io::sink());
    }
}

/// The files of the demo campaign, for the parts a target does not mutate.
fn demo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/demo")
        .join(name)
}

/// Runs `check` on `cases` inputs; reports how many ran.
fn fuzz(
    name: &str,
    cases: u32,
    check: impl Fn((usize, Vec<Mutation>)) -> Result<(), TestCaseError>,
) {
    let runs = AtomicU64::new(0);
    let started = Instant::now();
    let mut runner = TestRunner::new(config(cases));
    let result = runner.run(&input(), |input| {
        runs.fetch_add(1, Ordering::Relaxed);
        check(input)
    });
    // (More than `cases` when a failure was shrunk.)
    eprintln!(
        "fuzz {name}: {} inputs in {:.1?}",
        runs.load(Ordering::Relaxed),
        started.elapsed()
    );
    if let Err(e) = result {
        panic!("fuzz {name}: {e}");
    }
}

#[test]
fn fuzz_csv_reader() {
    fuzz("csv reader", cases(200), |(seed, mutations)| {
        let corpus = &CORPUS.csv;
        let bytes = apply(&corpus[seed % corpus.len()], &mutations, corpus);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recipients.csv");
        std::fs::write(&path, &bytes).unwrap();
        let saved = save_failure("recipients.csv", &bytes);
        let read = path.clone();
        guarded("reading the list", &saved, move || {
            if let Ok(mut reader) = RecipientReader::open(&read, &[]) {
                let mut n = 0u64;
                while let Ok(Some(row)) = reader.next_row() {
                    n += row.values().map(|v| v.len() as u64).sum::<u64>();
                }
                std::hint::black_box(n);
            }
            let _ = Suppression::default().load(&read);
        })?;
        // And a whole lint with it as the list.
        let overrides = Overrides {
            recipients: Some(path.clone()),
            draft: Some(demo("draft.eml")),
            products: vec!["garden-furniture".to_owned()],
        };
        guarded("linting the list", &saved, move || {
            if let Ok(campaign) = Campaign::load(None, &overrides) {
                lint_all(&campaign);
            }
        })?;
        let _ = std::fs::remove_file(saved);
        Ok(())
    });
}

#[test]
fn fuzz_draft_parser() {
    fuzz("draft parser", cases(300), |(seed, mutations)| {
        let corpus = &CORPUS.eml;
        let bytes = apply(&corpus[seed % corpus.len()], &mutations, corpus);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("draft.eml");
        std::fs::write(&path, &bytes).unwrap();
        let saved = save_failure("draft.eml", &bytes);
        let overrides = Overrides {
            recipients: Some(demo("recipients.csv")),
            draft: Some(path),
            products: vec!["garden-furniture".to_owned()],
        };
        guarded("linting the draft", &saved, move || {
            if let Ok(campaign) = Campaign::load(None, &overrides) {
                lint_all(&campaign);
            }
        })?;
        let _ = std::fs::remove_file(saved);
        Ok(())
    });
}

#[test]
fn fuzz_campaign_loader() {
    fuzz("campaign loader", cases(300), |(seed, mutations)| {
        let corpus = &CORPUS.toml;
        let (home, original) = &corpus[seed % corpus.len()];
        let others: Vec<Vec<u8>> = corpus.iter().map(|(_, b)| b.clone()).collect();
        let bytes = apply(original, &mutations, &others);
        // Beside copies of the files it names, as it was.
        let dir = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(home).unwrap().flatten() {
            if entry.path().is_file() {
                let _ = std::fs::copy(entry.path(), dir.path().join(entry.file_name()));
            }
        }
        let path = dir.path().join("campaign.toml");
        std::fs::write(&path, &bytes).unwrap();
        let saved = save_failure("campaign.toml", &bytes);
        guarded("loading the campaign", &saved, move || {
            if let Ok(campaign) = Campaign::load(Some(&path), &Overrides::default()) {
                lint_all(&campaign);
            }
        })?;
        let _ = std::fs::remove_file(saved);
        Ok(())
    });
}

/// The binary, on all three files mutated at once: exit 0, 1 or 2, no panic,
/// in time.
#[test]
fn fuzz_binary_exit_codes() {
    fuzz("binary", cases(300) / 6 + 1, |(seed, mutations)| {
        let corpus = &*CORPUS;
        let (home, toml) = &corpus.toml[seed % corpus.toml.len()];
        let dir = tempfile::tempdir().unwrap();
        // The case's own files, each mutated by a share of the mutations.
        let thirds: Vec<&[Mutation]> = mutations
            .chunks(mutations.len().div_ceil(3).max(1))
            .collect();
        let part = |i: usize| thirds.get(i).copied().unwrap_or(&[]);
        let read = |name: &str, fallback: &[u8]| {
            std::fs::read(home.join(name)).unwrap_or_else(|_| fallback.to_vec())
        };
        let list = apply(
            &read("recipients.csv", &corpus.csv[0]),
            part(0),
            &corpus.csv,
        );
        let draft = apply(&read("draft.eml", &corpus.eml[0]), part(1), &corpus.eml);
        let campaign = apply(toml, part(2), std::slice::from_ref(toml));
        for (name, bytes) in [
            ("recipients.csv", &list),
            ("draft.eml", &draft),
            ("campaign.toml", &campaign),
        ] {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        for name in ["unsubscribed.csv", "suppression.csv"] {
            let _ = std::fs::copy(home.join(name), dir.path().join(name));
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_mailgate"))
            .current_dir(dir.path())
            .args(["lint", "campaign.toml", "--format", "json"])
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > TIME_LIMIT {
                let _ = child.kill();
                let saved = save_failure("binary-campaign.toml", &campaign);
                return Err(TestCaseError::fail(format!(
                    "mailgate lint took more than {TIME_LIMIT:?} ({})",
                    saved.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let stderr = child.wait_with_output().unwrap().stderr;
        let stderr = String::from_utf8_lossy(&stderr);
        let code = status.code();
        if !matches!(code, Some(0..=2)) || stderr.contains("panicked") {
            for (name, bytes) in [
                ("recipients.csv", &list),
                ("draft.eml", &draft),
                ("campaign.toml", &campaign),
            ] {
                save_failure(&format!("binary-{name}"), bytes);
            }
            return Err(TestCaseError::fail(format!(
                "mailgate lint exited {code:?}: {stderr} (inputs in target/fuzz-failures/)"
            )));
        }
        Ok(())
    });
}
