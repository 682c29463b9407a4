//! Inputs that once took super-linear time: doubled, a lint must take about
//! twice as long, not four or eight times. Each measurement is the best of
//! a few runs, interleaved (a busy neighbour slows both sizes alike), and
//! the bound is generous (3×) so that a noisy 2-core machine passes while a
//! quadratic cost (4×) or a cubic one (8×) fails.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mailgate::campaign::{Campaign, Overrides};
use mailgate::lint::{Outputs, lint};
use mailgate::report::{Emitter, HumanEmitter};

const ROUNDS: usize = 3;
const BOUND: f64 = 3.0;

const DRAFT_HEAD: &str = "From: Shop <news@shop.example>\nTo: news@shop.example\n\
Subject: Hallo\nContent-Type: text/plain; charset=utf-8\n\n";

/// A lint of the list and draft that `make(n)` gives, in a fresh folder.
fn lint_once(make: &dyn Fn(usize) -> (String, String), n: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let (list, draft) = make(n);
    std::fs::write(dir.path().join("r.csv"), list).unwrap();
    std::fs::write(dir.path().join("d.eml"), draft).unwrap();
    let started = Instant::now();
    run(dir.path());
    started.elapsed()
}

fn run(dir: &Path) {
    let overrides = Overrides {
        recipients: Some(dir.join("r.csv")),
        draft: Some(dir.join("d.eml")),
        products: vec!["bbq".to_owned()],
    };
    let campaign = Campaign::load(None, &overrides).unwrap();
    let mut emitter = HumanEmitter::new();
    let summary = lint(&campaign, &mut emitter, &Outputs::default()).unwrap();
    emitter.finish(&summary, &mut std::io::sink()).unwrap();
}

/// Asserts that the lint of size `2n` takes less than [`BOUND`] times the
/// lint of size `n`.
fn assert_about_linear(what: &str, n: usize, make: impl Fn(usize) -> (String, String)) {
    // One measurement at a time: the test harness runs tests in parallel,
    // and on two cores another test's lint would land in some rounds only.
    static ALONE: Mutex<()> = Mutex::new(());
    let _alone = ALONE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let (mut small, mut large) = (Duration::MAX, Duration::MAX);
    for _ in 0..ROUNDS {
        small = small.min(lint_once(&make, n));
        large = large.min(lint_once(&make, 2 * n));
    }
    let ratio = large.as_secs_f64() / small.as_secs_f64();
    eprintln!(
        "{what}: {n} in {small:.2?}, {} in {large:.2?}: {ratio:.2}×",
        2 * n
    );
    assert!(
        ratio < BOUND,
        "{what}: doubling the input took {ratio:.2}× as long ({small:?} → {large:?})"
    );
}

fn plain_draft() -> String {
    format!("{DRAFT_HEAD}Beste klant, afmelden: {{{{ unsubscribe_url }}}}\n")
}

#[test]
fn four_thousand_duplicate_header_names_took_forty_seconds() {
    assert_about_linear("duplicate header names", 1200, |n| {
        let mut list = String::from("email");
        for _ in 0..n {
            list.push_str(",consemail");
        }
        list.push_str("\na@example.nl");
        list.push_str(&",".repeat(n));
        list.push('\n');
        (list, plain_draft())
    });
}

#[test]
fn twenty_thousand_unknown_merge_fields_took_fifteen_seconds() {
    assert_about_linear("unknown merge fields", 2000, |n| {
        let fields: String = (0..n).map(|i| format!("{{{{ f{i} }}}} ")).collect();
        let draft = format!("{DRAFT_HEAD}Beste {fields}\nafmelden: {{{{ unsubscribe_url }}}}\n");
        ("email\na@example.nl\n".to_owned(), draft)
    });
}

#[test]
fn ten_thousand_mime_parts_took_nine_seconds() {
    assert_about_linear("MIME parts", 2000, |n| {
        let mut draft = String::from(
            "From: Shop <news@shop.example>\nTo: news@shop.example\nSubject: Hallo\n\
             MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n",
        );
        for i in 0..n {
            draft.push_str(&format!(
                "--b\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n\
                 deel {i}, afmelden: {{{{ unsubscribe_url }}}}=\n en meer\n"
            ));
        }
        draft.push_str("--b--\n");
        ("email\na@example.nl\n".to_owned(), draft)
    });
}

#[test]
fn a_long_header_cell_took_forty_times_its_size() {
    // Up to the 1 MB a row may have.
    assert_about_linear("a long header cell", 40_000, |n| {
        let list = format!("email,{}\na@example.nl,x\n", "Klantnummer ".repeat(n / 12));
        (list, plain_draft())
    });
}

fn html_draft(body: &str) -> String {
    format!(
        "From: Shop <news@shop.example>\nTo: news@shop.example\nSubject: Hallo\n\
         Content-Type: text/html; charset=utf-8\n\n<html><body>{body}</body></html>\n"
    )
}

fn one_recipient() -> String {
    "email,consent_at,consent_source\na@example.nl,2026-01-01,form\n".to_owned()
}

#[test]
fn twenty_thousand_nested_html_elements_took_six_seconds() {
    assert_about_linear("nested HTML elements", 10_000, |n| {
        let body = format!(
            "{}<a href=\"{{{{ unsubscribe_url }}}}\">Afmelden</a>{}",
            "<div>".repeat(n),
            "</div>".repeat(n)
        );
        (one_recipient(), html_draft(&body))
    });
}

#[test]
fn twenty_thousand_opt_out_links_took_ten_seconds() {
    assert_about_linear("opt-out links", 2000, |n| {
        let link = "<p>Geen mail meer? <a href=\"{{ unsubscribe_url }}\">Afmelden</a></p>";
        (one_recipient(), html_draft(&link.repeat(n)))
    });
}
