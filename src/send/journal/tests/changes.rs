//! Changed inputs (refused, or accepted with `--accept-changes`) and the
//! fingerprints that tell.

use super::*;

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
