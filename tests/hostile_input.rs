//! Input made to exhaust mailgate: every run ends soon, with a clear
//! message, exit 1 or 2, and bounded memory.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const DRAFT: &str = "From: Shop <news@shop.example>\r\nTo: news@shop.example\r\n\
Subject: Hallo {{ first_name }}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Beste {{ first_name }}, afmelden: {{ unsubscribe_url }}\r\n";

const LIST: &str = "email,first_name,customer,purchased\na@example.nl,Anna,yes,bbq\n";

/// Runs mailgate in `dir` with an address-space cap of 1 GiB (an
/// allocation beyond it aborts the run) and a time limit of 120 s.
fn mailgate(dir: &Path, args: &[&str]) -> (Output, Duration) {
    let binary = env!("CARGO_BIN_EXE_mailgate");
    let started = Instant::now();
    let mut child = Command::new("sh")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(["-c", "ulimit -v 1048576 && exec \"$0\" \"$@\"", binary])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("mailgate {args:?} still ran after 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn case(draft: &str, list: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("d.eml"), draft).unwrap();
    std::fs::write(dir.path().join("r.csv"), list).unwrap();
    std::fs::write(
        dir.path().join("campaign.toml"),
        "[campaign]\nname = \"Bom\"\ndraft = \"d.eml\"\nrecipients = \"r.csv\"\n\
         product = \"bbq\"\nsender = \"Shop\"\n\
         unsubscribe_url = \"https://shop.example/u?e={{ email | urlencode }}\"\n",
    )
    .unwrap();
    dir
}

#[test]
fn a_template_bomb_hung_lint_and_filled_the_memory_in_send() {
    let bomb = DRAFT.replace(
        "afmelden:",
        "{% for i in range(100000) %}{% for j in range(100000) %}{{ first_name }}\
         {% endfor %}{% endfor %} afmelden:",
    );
    let dir = case(&bomb, LIST.as_bytes());
    let (output, _) = mailgate(dir.path(), &["lint", "campaign.toml", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let bombs: Vec<&serde_json::Value> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "template-error")
        .collect();
    assert_eq!(bombs.len(), 1, "{report}");
    assert_eq!(bombs[0]["line"], 6);
    assert!(
        bombs[0]["message"]
            .as_str()
            .unwrap()
            .contains("2,000,000 steps"),
        "{report}"
    );
    // send refuses as lint does, and writes nothing.
    let (output, _) = mailgate(dir.path(), &["send", "campaign.toml", "--dry-run", "out"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("template-error"),
        "{}",
        stderr(&output)
    );
    let written = std::fs::read_dir(dir.path().join("out"))
        .map(|d| {
            d.filter(|e| e.as_ref().unwrap().path().extension().is_some())
                .count()
        })
        .unwrap_or(0);
    assert_eq!(written, 0);
}

#[cfg(unix)]
#[test]
fn draft_dev_zero_grew_without_bound() {
    let dir = case(DRAFT, LIST.as_bytes());
    let (output, elapsed) = mailgate(
        dir.path(),
        &[
            "lint",
            "--recipients",
            "r.csv",
            "--draft",
            "/dev/zero",
            "--product",
            "bbq",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("/dev/zero: the draft is larger than 100 MB"),
        "{}",
        stderr(&output)
    );
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    // The campaign file and the lists stop as soon.
    let (output, _) = mailgate(dir.path(), &["lint", "/dev/zero"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the campaign file is larger than 10 MB"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_list_line_that_never_ends_was_held_in_memory_whole() {
    // 64 MB without a line break after the header: a value, or a header
    // cell, of the whole file.
    for header in [true, false] {
        let mut list = Vec::with_capacity(64 << 20);
        if header {
            list.extend_from_slice(b"email,first_name\na@example.nl,");
        } else {
            list.extend_from_slice(b"email,");
        }
        list.resize(64 << 20, b'x');
        let dir = case(DRAFT, &list);
        let (output, _) = mailgate(dir.path(), &["lint", "campaign.toml"]);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        let line = if header { "r.csv:2:" } else { "r.csv:1:" };
        assert!(
            stderr(&output).contains(&format!(
                "{line} the row starting on this line is longer than 1 MB"
            )),
            "{}",
            stderr(&output)
        );
        assert!(
            output.stderr.len() < 1000,
            "a long message: {}",
            stderr(&output)
        );
    }
}

#[test]
fn a_header_of_a_million_columns_took_a_minute() {
    let mut list = String::from("email");
    for _ in 0..1_000_000 {
        list.push(',');
    }
    list.push_str("\na@example.nl\n");
    let dir = case(DRAFT, list.as_bytes());
    let (output, _) = mailgate(dir.path(), &["lint", "campaign.toml"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the header names 1000001 columns, more than a spreadsheet holds"),
        "{}",
        stderr(&output)
    );
}
