//! The journal's tests: written through [`Journal`], read back through
//! [`JournalState`], as `send` uses them.

use std::borrow::Cow;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::describe_changed;
use super::format::{Record, header_line};
use super::*;

fn fingerprints() -> Fingerprints {
    Fingerprints {
        campaign: "11".repeat(16),
        draft: "22".repeat(16),
        recipients: "33".repeat(16),
        suppression: "88".repeat(16),
    }
}

fn header() -> JournalHeader {
    JournalHeader::new("Voorjaarsactie 2027", fingerprints())
}

fn journal_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("campaign.journal.jsonl")
}

/// Opens as on a machine whose boot is not known: every attempt
/// without an outcome is unknown (the tests of the boot rule say which
/// boot they mean).
fn open(path: &Path) -> (Journal, JournalState) {
    Journal::open_on_boot(path, header(), None).expect("open journal")
}

/// The journal's lines, without the `session` record each open writes.
fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("read journal")
        .lines()
        .filter(|l| !l.starts_with(r#"{"t":"session""#))
        .map(str::to_owned)
        .collect()
}

fn append_raw(path: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new().append(true).open(path).expect("open");
    f.write_all(bytes).expect("append");
}

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
fn resume_reads_every_recipients_last_status() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    {
        let (journal, _) = open(&path);
        journal.record_attempt("Jan@Example.NL", "<1@x>").unwrap();
        journal.record_sent("Jan@Example.NL", "250 OK").unwrap();
        journal.record_attempt("piet@example.nl", "<2@x>").unwrap();
        journal
            .record_deferred("piet@example.nl", "451 later")
            .unwrap();
        journal.record_attempt("kees@example.nl", "<3@x>").unwrap();
        journal
            .record_failed("kees@example.nl", "550 no such user")
            .unwrap();
        journal.record_attempt("anna@example.nl", "<4@x>").unwrap();
        journal.close().unwrap();
    }
    let (_journal, state) = open(&path);
    assert!(!state.is_new());
    assert_eq!(state.records(), 7);
    assert_eq!(state.status("jan@example.nl"), Some(Status::Sent));
    assert_eq!(state.status("JAN@example.nl"), Some(Status::Sent));
    assert_eq!(state.status("piet@example.nl"), Some(Status::Deferred));
    assert_eq!(state.status("kees@example.nl"), Some(Status::Failed));
    assert_eq!(state.status("anna@example.nl"), Some(Status::Unknown));
    assert_eq!(state.status("nobody@example.nl"), None);
    assert_eq!(
        state.counts(),
        StatusCounts {
            sent: 1,
            failed: 1,
            deferred: 1,
            unknown: 1,
            unfinished: 0,
        }
    );
    let kees = state.history("kees@example.nl").unwrap();
    assert_eq!(kees.last_reply.as_deref(), Some("550 no such user"));
    assert_eq!(kees.message_id.as_deref(), Some("<3@x>"));
    assert_eq!(
        state.history("jan@example.nl").unwrap().address,
        "Jan@Example.NL"
    );
}

#[test]
fn an_attempt_without_an_outcome_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    {
        let (journal, _) = open(&path);
        // Deferred, retried, and then the process died mid-transaction.
        journal.record_attempt("piet@example.nl", "<p@x>").unwrap();
        journal
            .record_deferred("piet@example.nl", "451 later")
            .unwrap();
        journal.record_attempt("piet@example.nl", "<p@x>").unwrap();
        journal.commit().unwrap();
        // Killed here: everything is committed, so the file is what a
        // kill would leave (the kernel releases the lock).
    }
    let (journal, state) = open(&path);
    let piet = state.history("piet@example.nl").unwrap();
    assert_eq!(piet.status, Status::Unknown);
    assert_eq!(piet.attempts, 2);
    assert_eq!(piet.last_reply.as_deref(), Some("451 later"));

    // Resent with --resend-unknown: the outcome settles it.
    journal.record_attempt("piet@example.nl", "<p@x>").unwrap();
    journal.record_sent("piet@example.nl", "250 OK").unwrap();
    drop(journal);
    let (_journal, state) = open(&path);
    assert_eq!(state.status("piet@example.nl"), Some(Status::Sent));
    assert_eq!(state.history("piet@example.nl").unwrap().attempts, 3);
}

#[test]
fn sent_is_final_whatever_follows() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    {
        let (journal, _) = open(&path);
        journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
        journal.record_sent("jan@example.nl", "250 OK").unwrap();
        journal.record_attempt("JAN@example.nl", "<1@x>").unwrap();
        journal
            .record_deferred("jan@example.nl", "connection dropped")
            .unwrap();
    }
    let (_journal, state) = open(&path);
    let jan = state.history("jan@example.nl").unwrap();
    assert_eq!(jan.status, Status::Sent);
    assert_eq!((jan.attempts, jan.sent), (2, 1));
}

#[test]
fn an_outcome_without_an_attempt_still_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    drop(open(&path));
    append_raw(
        &path,
        b"{\"t\":\"sent\",\"rcpt\":\"jan@example.nl\",\"reply\":\"250 OK\"}\n",
    );
    let (_journal, state) = open(&path);
    assert_eq!(state.status("jan@example.nl"), Some(Status::Sent));
}

/// A run that died after recording: `jan` sent; `piet` attempted and
/// stopped before the end of DATA; `kees` attempted with the end of DATA
/// about to be written; `anna` ended DATA and lost the connection.
fn a_run_that_died(path: &Path, boot: Option<&str>) {
    let (journal, _) = Journal::open_on_boot(path, header(), boot).unwrap();
    for rcpt in [
        "jan@example.nl",
        "piet@example.nl",
        "kees@example.nl",
        "anna@example.nl",
    ] {
        journal.record_attempt(rcpt, "<x>").unwrap();
    }
    journal.commit().unwrap();
    journal.record_data_end("jan@example.nl").unwrap();
    journal.record_sent("jan@example.nl", "250 OK").unwrap();
    journal.record_data_end("kees@example.nl").unwrap();
    journal.record_data_end("anna@example.nl").unwrap();
    journal
        .record_unknown("anna@example.nl", "no reply")
        .unwrap();
    // Everything is written by now (outcomes and data-ends at once,
    // attempts at commit): what a killed process leaves behind.
    drop(journal);
}

#[test]
fn on_the_same_boot_only_an_ended_data_without_a_reply_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    a_run_that_died(&path, Some("boot-a"));
    let (_journal, state) = Journal::open_on_boot(&path, header(), Some("boot-a")).unwrap();
    assert_eq!(state.status("jan@example.nl"), Some(Status::Sent));
    assert_eq!(state.status("piet@example.nl"), Some(Status::Unfinished));
    assert_eq!(state.status("kees@example.nl"), Some(Status::Unknown));
    assert_eq!(state.status("anna@example.nl"), Some(Status::Unknown));
}

#[test]
fn after_a_reboot_every_attempt_without_an_outcome_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    a_run_that_died(&path, Some("boot-a"));
    for now in [Some("boot-b"), None] {
        let (journal, state) = Journal::open_on_boot(&path, header(), now).unwrap();
        assert_eq!(state.status("jan@example.nl"), Some(Status::Sent));
        assert_eq!(
            state.status("piet@example.nl"),
            Some(Status::Unknown),
            "{now:?}"
        );
        assert_eq!(state.status("kees@example.nl"), Some(Status::Unknown));
        drop(journal);
    }
    // A journal from a machine without a boot id: unknown even there.
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    a_run_that_died(&path, None);
    let (_journal, state) = Journal::open_on_boot(&path, header(), None).unwrap();
    assert_eq!(state.status("piet@example.nl"), Some(Status::Unknown));
}

#[test]
fn an_attempt_is_judged_by_the_boot_of_the_run_that_made_it() {
    // Run 1 on boot a died; run 2 on boot b attempted piet again and
    // died too. On boot b, run 1's kees stays unknown (ended DATA), and
    // run 2's piet never ended DATA: sent again.
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    a_run_that_died(&path, Some("boot-a"));
    {
        let (journal, state) = Journal::open_on_boot(&path, header(), Some("boot-b")).unwrap();
        assert_eq!(state.status("piet@example.nl"), Some(Status::Unknown));
        journal.record_attempt("piet@example.nl", "<y>").unwrap();
        journal.commit().unwrap();
    }
    let (_journal, state) = Journal::open_on_boot(&path, header(), Some("boot-b")).unwrap();
    assert_eq!(state.status("piet@example.nl"), Some(Status::Unfinished));
    assert_eq!(state.status("kees@example.nl"), Some(Status::Unknown));
    let counts = state.counts();
    assert_eq!((counts.unknown, counts.unfinished), (2, 1));
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
fn a_torn_last_line_is_ignored_and_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    {
        let (journal, _) = open(&path);
        journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
        journal.record_sent("jan@example.nl", "250 OK").unwrap();
    }
    let whole = std::fs::metadata(&path).unwrap().len();
    let torn = b"{\"t\":\"attempt\",\"rcpt\":\"piet@exa";
    append_raw(&path, torn);

    let (journal, state) = open(&path);
    assert_eq!(state.torn_bytes(), torn.len() as u64);
    assert_eq!(state.status("jan@example.nl"), Some(Status::Sent));
    assert_eq!(state.status("piet@example.nl"), None);
    let after = std::fs::read(&path).unwrap();
    assert!(
        after[whole as usize..].starts_with(br#"{"t":"session""#),
        "torn bytes cut off, this run's session record after them"
    );

    // What is appended next starts on a line of its own.
    journal.record_attempt("piet@example.nl", "<2@x>").unwrap();
    journal.close().unwrap();
    let (_journal, state) = open(&path);
    assert_eq!(state.torn_bytes(), 0);
    assert_eq!(state.status("piet@example.nl"), Some(Status::Unknown));
    for line in lines(&path) {
        serde_json::from_str::<serde_json::Value>(&line).expect("every line is JSON");
    }
}

#[test]
fn a_garbage_last_line_with_a_newline_is_torn_too() {
    // After a power cut a file can end in zeros where data was due.
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    {
        let (journal, _) = open(&path);
        journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
    }
    append_raw(&path, b"\0\0\0\0\0\0\0\0\n");
    let (_journal, state) = open(&path);
    assert_eq!(state.torn_bytes(), 9);
    assert_eq!(state.status("jan@example.nl"), Some(Status::Unknown));
    assert_eq!(lines(&path).len(), 2);
}

#[test]
fn a_whole_last_record_missing_only_its_newline_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    {
        let (journal, _) = open(&path);
        journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
    }
    append_raw(
        &path,
        b"{\"t\":\"sent\",\"rcpt\":\"jan@example.nl\",\"reply\":\"250 OK\",\"at\":1}",
    );
    {
        let (journal, state) = open(&path);
        assert_eq!(state.torn_bytes(), 0);
        assert_eq!(state.status("jan@example.nl"), Some(Status::Sent));
        journal.record_attempt("piet@example.nl", "<2@x>").unwrap();
    }
    let (_journal, state) = open(&path);
    assert_eq!(state.records(), 3);
    assert_eq!(lines(&path).len(), 4);
}

#[test]
fn invalid_json_before_the_last_line_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    {
        let (journal, _) = open(&path);
        journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
    }
    append_raw(&path, b"{\"t\":\"sent\",\"rcpt\"\n");
    append_raw(
        &path,
        b"{\"t\":\"attempt\",\"rcpt\":\"piet@example.nl\",\"id\":\"<2@x>\"}\n",
    );
    let before = std::fs::read(&path).unwrap();
    let err = Journal::open(&path, header())
        .err()
        .expect("corrupt journal refused");
    assert!(
        matches!(err, JournalError::Corrupt { line: 4, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("campaign.journal.jsonl:4"), "{message}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a refused journal is left alone"
    );
}

#[test]
fn an_unknown_record_type_in_the_middle_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    drop(open(&path));
    append_raw(&path, b"{\"t\":\"maybe\",\"rcpt\":\"jan@example.nl\"}\n");
    append_raw(
        &path,
        b"{\"t\":\"attempt\",\"rcpt\":\"jan@example.nl\",\"id\":\"<1@x>\"}\n",
    );
    let err = Journal::open(&path, header()).err().unwrap();
    assert!(
        matches!(err, JournalError::Corrupt { line: 3, .. }),
        "{err:?}"
    );
}

#[test]
fn a_changed_input_is_refused_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    {
        let (journal, _) = open(&path);
        journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
    }
    let mut changed = fingerprints();
    changed.draft = "44".repeat(16);
    let err = Journal::open(&path, JournalHeader::new("Voorjaarsactie 2027", changed))
        .err()
        .expect("changed draft refused");
    match &err {
        JournalError::InputsChanged { changed, .. } => assert_eq!(changed, &[Input::Draft]),
        other => panic!("{other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.starts_with("the draft changed since the journal"),
        "{message}"
    );
    assert!(message.contains("--accept-changes"), "{message}");
    assert!(
        !message.contains("--journal"),
        "never advises a fresh journal: {message}"
    );
    assert!(message.contains("restore the file"), "{message}");

    let mut changed = fingerprints();
    changed.campaign = "55".repeat(16);
    changed.recipients = "66".repeat(16);
    let message = Journal::open(&path, JournalHeader::new("x", changed))
        .err()
        .unwrap()
        .to_string();
    assert!(
        message
            .starts_with("the campaign settings (outside [smtp]) and the recipient list changed"),
        "{message}"
    );
    assert!(message.contains("restore the files"), "{message}");

    // Refusing leaves the journal exactly as it was, torn tail and all.
    append_raw(&path, b"{\"t\":\"sent\",\"rc");
    let before = std::fs::read(&path).unwrap();
    let mut changed = fingerprints();
    changed.draft = "44".repeat(16);
    assert!(Journal::open(&path, JournalHeader::new("x", changed)).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // And it still resumes with the right inputs.
    let (_journal, state) = open(&path);
    assert_eq!(state.status("jan@example.nl"), Some(Status::Unknown));
}

#[test]
fn accepted_changes_go_on_with_the_same_journal_and_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    {
        let (journal, _) = open(&path);
        journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
        journal.record_sent("jan@example.nl", "250 OK").unwrap();
    }
    let mut changed = fingerprints();
    changed.draft = "44".repeat(16);
    match Journal::open(&path, JournalHeader::new("x", changed.clone())) {
        Err(JournalError::InputsChanged { sent: 1, .. }) => {}
        other => panic!("{:?}", other.err()),
    }
    {
        let (_journal, state) =
            Journal::open_with(&path, JournalHeader::new("x", changed.clone()), None, true)
                .unwrap();
        assert_eq!(state.status("jan@example.nl"), Some(Status::Sent));
        assert_eq!(state.changes(), 1);
    }
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains(r#"{"t":"change","changed":["draft"]"#)
    );
    // The journal now belongs to the new draft: no flag needed, and
    // the old one would be a change again.
    let (journal, state) =
        Journal::open_on_boot(&path, JournalHeader::new("x", changed), None).unwrap();
    assert_eq!(state.status("jan@example.nl"), Some(Status::Sent));
    drop(journal);
    assert!(Journal::open_on_boot(&path, header(), None).is_err());
}

#[test]
fn campaign_settings_outside_smtp_and_levels_decide_the_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("campaign.toml");
    let base = "[campaign]\nname = \"x\"\nproduct = \"bbq\"\n\
                [rules]\nallow = [\"stale-consent\"]\nsoft_opt_in_months = 24\n\
                [smtp]\nhost = \"a.example\"\nrate = \"10/s\"\n";
    let fingerprint = |text: &str| {
        std::fs::write(&path, text).unwrap();
        fingerprint_campaign_settings(&path).unwrap()
    };
    let before = fingerprint(base);
    for same in [
        base.replace("rate = \"10/s\"", "rate = \"50/s\"\nconnections = 8"),
        base.replace("a.example", "b.example"),
        base.replace("allow = [\"stale-consent\"]", "deny = [\"stale-consent\"]"),
        format!("# a comment\n{base}"),
    ] {
        assert_eq!(fingerprint(&same), before, "{same}");
    }
    for different in [
        base.replace("bbq", "parasols"),
        base.replace("soft_opt_in_months = 24", "soft_opt_in_months = 12"),
        base.replace("name = \"x\"", "name = \"y\""),
    ] {
        assert_ne!(fingerprint(&different), before, "{different}");
    }
}

#[test]
fn a_second_open_while_in_use_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let (journal, _) = open(&path);
    let err = Journal::open(&path, header())
        .err()
        .expect("second open refused");
    assert!(matches!(err, JournalError::Locked { .. }), "{err:?}");
    assert!(err.to_string().contains("in use"));
    drop(journal);
    open(&path);
}

#[test]
fn a_file_that_is_no_journal_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    for content in [&b"[campaign]\nname = \"x\"\n"[..], b"just one line"] {
        let path = dir.path().join("campaign.toml");
        std::fs::write(&path, content).unwrap();
        let err = Journal::open(&path, header()).err().expect("refused");
        assert!(matches!(err, JournalError::NotAJournal { .. }), "{err:?}");
        assert_eq!(std::fs::read(&path).unwrap(), content);
    }
}

#[test]
fn a_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let line = String::from_utf8(header_line(&header())).unwrap();
    let newer = format!("\"journal\":{}", FORMAT_VERSION + 1);
    std::fs::write(
        &path,
        line.replace(&format!("\"journal\":{FORMAT_VERSION}"), &newer),
    )
    .unwrap();
    let err = Journal::open(&path, header()).err().unwrap();
    assert!(
        matches!(err, JournalError::UnsupportedVersion { found, .. } if found == FORMAT_VERSION + 1),
        "{err:?}"
    );
}

#[test]
fn a_version_1_journal_is_resumed_with_its_open_attempts_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let line = String::from_utf8(header_line(&header())).unwrap();
    let v1 = line.replace(&format!("\"journal\":{FORMAT_VERSION}"), "\"journal\":1");
    assert_ne!(v1, line);
    // Written by the mailgate of format 1: an attempt, no session record.
    let mut attempt = serde_json::to_string(&Record::Attempt {
        rcpt: Cow::Borrowed("jan@example.nl"),
        id: Cow::Borrowed("<j@x>"),
        at: 1,
    })
    .unwrap();
    attempt.push('\n');
    std::fs::write(&path, format!("{v1}{attempt}")).unwrap();
    let (_journal, state) = Journal::open_on_boot(&path, header(), Some("boot-a")).unwrap();
    assert_eq!(state.status("jan@example.nl"), Some(Status::Unknown));
}

#[test]
fn an_empty_file_or_a_torn_header_starts_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    for content in [&b""[..], b"{\"journal\":1,\"campaign\":\"Voorj"] {
        std::fs::write(&path, content).unwrap();
        let (journal, state) = open(&path);
        assert!(state.is_new());
        journal.record_attempt("jan@example.nl", "<1@x>").unwrap();
        drop(journal);
        let (_journal, state) = open(&path);
        assert_eq!(state.status("jan@example.nl"), Some(Status::Unknown));
        assert_eq!(state.header().campaign, "Voorjaarsactie 2027");
    }
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

#[test]
fn many_records_from_several_threads_all_resume() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 500;
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let addr = |t: usize, i: usize| format!("user{t}-{i}@example.nl");
    {
        let (journal, _) = open(&path);
        std::thread::scope(|scope| {
            for t in 0..THREADS {
                let journal = &journal;
                scope.spawn(move || {
                    for i in 0..PER_THREAD {
                        let rcpt = addr(t, i);
                        journal
                            .record_attempt(&rcpt, &format!("<{t}.{i}@x>"))
                            .unwrap();
                        journal.commit().unwrap();
                        match i % 10 {
                            0 => journal.record_failed(&rcpt, "550 no").unwrap(),
                            1 => journal.record_deferred(&rcpt, "451 later").unwrap(),
                            2 => {} // crashed before the outcome
                            _ => journal.record_sent(&rcpt, "250 OK").unwrap(),
                        }
                    }
                });
            }
        });
        journal.close().unwrap();
    }
    let (_journal, state) = open(&path);
    let n = THREADS * PER_THREAD;
    assert_eq!(
        state.counts().sent
            + state.counts().failed
            + state.counts().deferred
            + state.counts().unknown,
        n
    );
    assert_eq!(
        state.counts(),
        StatusCounts {
            sent: n * 7 / 10,
            failed: n / 10,
            deferred: n / 10,
            unknown: n / 10,
            unfinished: 0,
        }
    );
    for t in 0..THREADS {
        for i in 0..PER_THREAD {
            let want = match i % 10 {
                0 => Status::Failed,
                1 => Status::Deferred,
                2 => Status::Unknown,
                _ => Status::Sent,
            };
            assert_eq!(state.status(&addr(t, i)), Some(want), "{}", addr(t, i));
        }
    }
    // Every attempt precedes its outcome in the file.
    let mut attempted = std::collections::HashSet::new();
    for line in &lines(&path)[1..] {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let rcpt = v["rcpt"].as_str().unwrap().to_owned();
        if v["t"] == "attempt" {
            attempted.insert(rcpt);
        } else {
            assert!(
                attempted.contains(&rcpt),
                "outcome before attempt for {rcpt}"
            );
        }
    }
}

#[test]
fn a_large_journal_resumes() {
    const N: usize = 50_000;
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    {
        let (journal, _) = open(&path);
        for i in 0..N {
            let rcpt = format!("user{i}@example.nl");
            journal.record_attempt(&rcpt, &format!("<{i}@x>")).unwrap();
            if i % 1_000 == 0 {
                journal.commit().unwrap();
            }
            if i % 3 != 0 {
                journal.record_sent(&rcpt, "250 2.0.0 OK").unwrap();
            }
        }
        journal.close().unwrap();
    }
    let (_journal, state) = open(&path);
    assert_eq!(state.records() as usize, N + N * 2 / 3);
    let counts = state.counts();
    assert_eq!((counts.sent, counts.unknown), (N * 2 / 3, N - N * 2 / 3));
    assert_eq!(state.status("user49999@example.nl"), Some(Status::Sent));
    assert_eq!(state.status("user49998@example.nl"), Some(Status::Unknown));
}

#[test]
fn one_sync_covers_everything_appended_before_it() {
    // Group commit: a commit with nothing new since the last sync is free,
    // and one sync covers every record appended before it.
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let (journal, _) = open(&path);
    for i in 0..100 {
        journal
            .record_attempt(&format!("u{i}@example.nl"), "<x>")
            .unwrap();
    }
    journal.commit().unwrap();
    assert_eq!(*journal.synced.lock().unwrap(), 100);
    journal.commit().unwrap();
    assert_eq!(lines(&path).len(), 101);
}

#[test]
fn fingerprint_file_is_xxh3_128_hex() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("recipients.csv");
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &bytes).unwrap();
    let want = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes));
    assert_eq!(fingerprint_file(&path).unwrap(), want);
    assert_eq!(want.len(), 32);
}

#[test]
fn changed_lists_only_what_differs() {
    let a = fingerprints();
    assert!(a.changed(&a).is_empty());
    let mut b = a.clone();
    b.recipients = "77".repeat(16);
    assert_eq!(a.changed(&b), [Input::Recipients]);
    assert_eq!(
        describe_changed(&[Input::Campaign, Input::Draft, Input::Recipients]),
        "the campaign settings (outside [smtp]), the draft and the recipient list"
    );
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
