//! One `send` at a time per journal, and several sender threads sharing
//! one.

use super::*;

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
