//! The lines a journal holds, and when they reach the file.

use super::*;

#[test]
fn a_new_journal_starts_with_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let (journal, state) = open(&path);
    assert!(state.is_new());
    assert_eq!(state.records(), 0);
    assert_eq!(state.counts(), StatusCounts::default());
    drop(journal);

    let lines = lines(&path);
    assert_eq!(lines.len(), 1);
    let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(v["journal"], 2);
    assert_eq!(v["campaign"], "Voorjaarsactie 2027");
    assert_eq!(v["fingerprints"]["draft"], "22".repeat(16));
    let started = v["started"].as_str().unwrap();
    assert!(started.parse::<jiff::Timestamp>().is_ok(), "{started}");
    // The temporary file it was made in is gone.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn records_are_json_lines_in_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let (journal, _) = open(&path);
    journal
        .record_attempt("jan@example.nl", "<1@shop.example>")
        .unwrap();
    journal
        .record_sent("jan@example.nl", "250 2.0.0 OK")
        .unwrap();
    journal
        .record_deferred("piet@example.nl", "connection dropped")
        .unwrap();
    journal
        .record_failed("kees@example.nl", "550 5.1.1 no\r\nsuch user")
        .unwrap();
    journal.close().unwrap();

    let lines = lines(&path);
    assert_eq!(lines.len(), 5);
    let records: Vec<serde_json::Value> = lines[1..]
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records[0]["t"], "attempt");
    assert_eq!(records[0]["rcpt"], "jan@example.nl");
    assert_eq!(records[0]["id"], "<1@shop.example>");
    assert!(records[0]["at"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(records[1]["t"], "sent");
    assert_eq!(records[1]["reply"], "250 2.0.0 OK");
    assert_eq!(records[2]["t"], "deferred");
    assert_eq!(records[3]["t"], "failed");
    // A reply with CR/LF stays on its line.
    assert_eq!(records[3]["reply"], "550 5.1.1 no\r\nsuch user");
}

#[test]
fn outcomes_and_data_ends_are_in_the_file_when_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let (journal, _) = open(&path);
    journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
    journal.commit().unwrap();
    journal.record_data_end("jan@example.nl").unwrap();
    assert!(lines(&path).last().unwrap().contains(r#""t":"data-end""#));
    journal.record_sent("jan@example.nl", "250 OK").unwrap();
    assert!(lines(&path).last().unwrap().contains(r#""t":"sent""#));
    journal
        .record_deferred("piet@example.nl", "451 later")
        .unwrap();
    assert!(lines(&path).last().unwrap().contains(r#""t":"deferred""#));
}

#[test]
fn records_reach_the_file_only_at_commit() {
    // The invariant's mechanics: after record_attempt alone the attempt
    // may still be in memory; after commit it is in the file.
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let (journal, _) = open(&path);
    journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
    assert_eq!(lines(&path).len(), 1, "buffered until commit");
    journal.commit().unwrap();
    assert_eq!(lines(&path).len(), 2);
    journal.commit().unwrap(); // nothing new: no-op
    journal.record_sent("jan@example.nl", "250 OK").unwrap();
    drop(journal); // Drop commits what is left
    assert_eq!(lines(&path).len(), 3);
}

#[test]
fn the_started_time_of_the_first_run_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let mut first = header();
    first.started = "2027-03-01T09:00:00Z".into();
    drop(Journal::open(&path, first).unwrap());
    let (_journal, state) = open(&path);
    assert_eq!(state.header().started, "2027-03-01T09:00:00Z");
}

/// The lines as the module docs show them, byte for byte: what journals on
/// disk hold, so a change to how records are declared cannot change them.
#[test]
fn each_record_kind_is_stored_in_its_documented_line() {
    let outcome = |reply: &'static str| super::format::Outcome {
        rcpt: Cow::Borrowed("jan@example.nl"),
        reply: Cow::Borrowed(reply),
        at: 1803978000,
    };
    let cases = [
        (
            Record::Attempt {
                rcpt: Cow::Borrowed("jan@example.nl"),
                id: Cow::Borrowed("<1@shop.example>"),
                at: 1803978000,
            },
            r#"{"t":"attempt","rcpt":"jan@example.nl","id":"<1@shop.example>","at":1803978000}"#,
        ),
        (
            Record::DataEnd {
                rcpt: Cow::Borrowed("jan@example.nl"),
                at: 1803978000,
            },
            r#"{"t":"data-end","rcpt":"jan@example.nl","at":1803978000}"#,
        ),
        (
            Record::Sent(outcome("250 2.0.0 OK queued")),
            r#"{"t":"sent","rcpt":"jan@example.nl","reply":"250 2.0.0 OK queued","at":1803978000}"#,
        ),
        (
            Record::Deferred(outcome("451 4.3.0 try again later")),
            r#"{"t":"deferred","rcpt":"jan@example.nl","reply":"451 4.3.0 try again later","at":1803978000}"#,
        ),
        (
            Record::Failed(outcome("550 5.1.1 no such user")),
            r#"{"t":"failed","rcpt":"jan@example.nl","reply":"550 5.1.1 no such user","at":1803978000}"#,
        ),
        (
            Record::Unknown(outcome("no reply")),
            r#"{"t":"unknown","rcpt":"jan@example.nl","reply":"no reply","at":1803978000}"#,
        ),
        (
            Record::Session {
                boot: Some(Cow::Borrowed("5f0c")),
                pid: 4242,
                at: 1803978000,
            },
            r#"{"t":"session","boot":"5f0c","pid":4242,"at":1803978000}"#,
        ),
    ];
    for (record, line) in cases {
        assert_eq!(serde_json::to_string(&record).unwrap(), line);
        // And read back to the same line.
        let read: Record<'_> = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&read).unwrap(), line);
    }
    // Journals written before `at` was recorded are read too.
    let old: Record<'_> =
        serde_json::from_str(r#"{"t":"sent","rcpt":"a@x.nl","reply":"250"}"#).unwrap();
    assert!(matches!(
        old,
        Record::Sent(super::format::Outcome { at: 0, .. })
    ));
}
