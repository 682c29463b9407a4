//! A run of `send`: the sink is set up (a directory, or the relay with its
//! journal and a first session), the worker threads start, and the calling
//! thread produces their messages from the list.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use super::gate::Gate;
use super::journal::{self, Fingerprints, Journal, JournalHeader, JournalState};
use super::journal_choice::{check_journal_choice, default_journal};
use super::plan::{ThisRun, count_this_run, this_run};
use super::rate::RateLimiter;
use super::retry::RelayDown;
use super::summary::{Counters, NOT_BUILT_SHOWN, SendSummary};
use super::transport::{Connector, Session};
use super::worker::{BATCH, Outgoing, Relay, Sink};
use super::{SendError, SendOptions, dry_run};
use crate::campaign::Campaign;
use crate::draft::{Draft, Templates};
use crate::lint::LintError;
use crate::message::MessageFactory;
use crate::recipients::{Field, RecipientReader};

/// Sends (or, with `--dry-run`, writes) the campaign. `stop` is set by
/// Ctrl-C: in-flight messages finish, the rest is left for the next run.
pub fn run(
    campaign: &Campaign,
    gate: &Gate,
    options: &SendOptions,
    counters: &Counters,
    stop: &AtomicBool,
) -> Result<SendSummary, SendError> {
    let draft = Draft::load(&campaign.draft).map_err(LintError::from)?;
    let (templates, _) = Templates::compile(&draft);
    let factory = MessageFactory::new(campaign, &draft, &templates).map_err(SendError::Setup)?;

    let mut summary = SendSummary {
        recipients: gate.lint.recipients,
        sendable: gate.lint.sendable,
        blocked: gate.lint.blocked,
        ..SendSummary::default()
    };

    // Where messages go: a directory, or the relay with a journal.
    let (sink, state, mut first_session) = match &options.dry_run {
        Some(dir) => {
            dry_run::prepare(dir, campaign.path.as_deref()).map_err(SendError::Setup)?;
            (Sink::Directory(dir.clone()), None, None)
        }
        None => {
            let (sink, state, session) = open_relay(campaign, options)?;
            (sink, Some(state), Some(session))
        }
    };

    if let Some(state) = &state {
        summary.accepted_changes = state.accepted_now();
    }
    if options.progress {
        let total = count_this_run(campaign, gate, options, state.as_ref())?;
        counters.total.store(total, Ordering::SeqCst);
    }

    // Pick this run's recipients and render their messages.
    let workers = match &sink {
        Sink::Directory(_) => 1,
        Sink::Relay(relay) => relay.connections,
    };
    let (sender, receiver) = mpsc::sync_channel::<Outgoing>(workers * BATCH * 2);
    let receiver = Arc::new(Mutex::new(receiver));
    let failure: Mutex<Option<SendError>> = Mutex::new(None);
    let sequence = AtomicU64::new(0);

    std::thread::scope(|scope| -> Result<(), SendError> {
        for _ in 0..workers {
            let receiver = Arc::clone(&receiver);
            let sink = &sink;
            let failure = &failure;
            let sequence = &sequence;
            let session = first_session.take();
            scope.spawn(move || {
                if let Err(e) = sink.work(&receiver, counters, stop, sequence, session) {
                    stop.store(true, Ordering::SeqCst);
                    failure.lock().expect("not poisoned").get_or_insert(e);
                }
            });
        }
        // Only the workers hold the receiver: when the last of them stops
        // (Ctrl-C, a fatal relay error), the queue closes and a producer
        // blocked on a full queue wakes up with an error instead of waiting
        // forever for room that no one will make.
        drop(receiver);
        let journal = match &sink {
            Sink::Relay(relay) => Some(&relay.journal),
            Sink::Directory(_) => None,
        };
        let produced = produce(
            campaign,
            gate,
            options,
            &factory,
            (state.as_ref(), journal),
            &mut summary,
            counters,
            stop,
            &sender,
        );
        drop(sender);
        produced
    })?;

    if let Some(e) = failure.into_inner().expect("not poisoned") {
        if let Sink::Relay(relay) = sink {
            // Keep what was recorded before reporting the failure.
            let _ = relay.journal.close();
        }
        return Err(e);
    }
    summary.sent = counters.sent.load(Ordering::SeqCst);
    summary.failed += counters.failed.load(Ordering::SeqCst);
    summary.deferred += counters.deferred.load(Ordering::SeqCst);
    summary.unknown += counters.unknown.load(Ordering::SeqCst);
    if let Sink::Relay(relay) = sink {
        relay.journal.close()?;
    }
    Ok(summary)
}

/// Sets up sending to the relay: the journal chosen, checked against the
/// inputs and opened (its state is what earlier runs did), and one session
/// opened on this thread. A relay that cannot be reached or refuses the
/// login stops the run here, before any message is queued, with the cause;
/// that session is the first worker's.
fn open_relay(
    campaign: &Campaign,
    options: &SendOptions,
) -> Result<(Sink, JournalState, Session), SendError> {
    let smtp = campaign.smtp.as_ref().ok_or_else(|| {
        SendError::Setup(
            "the campaign has no [smtp] table: add host, port and tls, or use \
             --dry-run DIR to write the messages instead"
                .to_owned(),
        )
    })?;
    let campaign_file = campaign
        .path
        .as_deref()
        .ok_or_else(|| SendError::Setup("send needs a campaign file".to_owned()))?;
    let connector = Connector::new(smtp, options.allow_plaintext, options.password.as_ref())
        .map_err(SendError::Relay)?;
    // The binary has checked this before the lint; a library caller may not.
    check_journal_choice(campaign, options)?;
    let journal_path = options
        .journal
        .clone()
        .unwrap_or_else(|| default_journal(campaign_file, options.shard));
    let fingerprints = Fingerprints::of_files(
        campaign_file,
        &campaign.draft,
        &campaign.recipients,
        &campaign.suppression,
    )?;
    let (journal, state) = Journal::open_with(
        &journal_path,
        JournalHeader::new(&campaign.name, fingerprints),
        journal::machine_boot_id().as_deref(),
        options.accept_changes,
    )?;
    let first_session = connector.connect_once().map_err(SendError::Relay)?;
    let sink = Sink::Relay(Relay {
        connector,
        journal,
        rate: smtp.rate.map(RateLimiter::new),
        connections: smtp.connections.max(1) as usize,
        down: RelayDown::default(),
    });
    Ok((sink, state, first_session))
}

/// Reads the list again and queues a message for every recipient this run
/// should send to. Returns after the last one is queued (or on `stop`).
#[allow(clippy::too_many_arguments)]
fn produce(
    campaign: &Campaign,
    gate: &Gate,
    options: &SendOptions,
    factory: &MessageFactory<'_>,
    (state, journal): (Option<&JournalState>, Option<&Journal>),
    summary: &mut SendSummary,
    counters: &Counters,
    stop: &AtomicBool,
    queue: &mpsc::SyncSender<Outgoing>,
) -> Result<(), SendError> {
    let mut reader =
        RecipientReader::open(&campaign.recipients, &campaign.columns).map_err(LintError::from)?;
    let mut queued = 0u64;
    while let Some(row) = reader.next_row().map_err(LintError::from)? {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let address = row.get(Field::Email);
        match this_run(gate, options, state, address, row.line()) {
            ThisRun::Skip => continue,
            ThisRun::AlreadySent => {
                summary.already_sent += 1;
                continue;
            }
            ThisRun::Failed => {
                summary.failed += 1;
                continue;
            }
            ThisRun::Unknown => {
                summary.unknown += 1;
                continue;
            }
            ThisRun::Send => {}
        }
        if options.limit.is_some_and(|limit| queued >= limit) {
            // Left for a later run: still to do, never tried.
            summary.not_yet_sent += 1;
            continue;
        }
        let message = match factory.build_row(&row) {
            Ok(message) => message,
            // This row's data, not the campaign, is at fault (the lint has
            // checked the templates and headers that every row shares):
            // this one recipient fails (for good, as a 5xx would), and the
            // rest go.
            Err(e) => {
                let why = format!("not sent: {e}");
                if let Some(journal) = journal {
                    journal.record_failed(address, &why)?;
                }
                counters.failed.fetch_add(1, Ordering::SeqCst);
                summary.not_built_total += 1;
                if summary.not_built.len() < NOT_BUILT_SHOWN {
                    summary.not_built.push(format!(
                        "{}:{}: {address}: {why}",
                        crate::paths::display(&campaign.recipients),
                        row.line()
                    ));
                }
                continue;
            }
        };
        queued += 1;
        counters.queued.fetch_add(1, Ordering::SeqCst);
        let outgoing = Outgoing {
            address: address.to_owned(),
            message_id: factory.message_id(address),
            envelope: message.envelope().clone(),
            bytes: message.formatted(),
        };
        if queue.send(outgoing).is_err() {
            // Every worker has stopped (an error, reported by the caller).
            break;
        }
    }
    Ok(())
}
