//! Torn last lines, damage before them, files that are no journal, and
//! other format versions.

use super::*;

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
