//! The boot rule: an attempt without an outcome after a crash on the same
//! boot, and after a reboot.

use super::*;

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
