//! Reading a journal back: each recipient's status from its records.

use super::*;

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
