//! `mailgate send` (SPEC §5): the gate, SMTP transport, the journal, and
//! progress; the messages are rendered by [`crate::message`].
//!
//! The flow: [`gate`] runs the whole lint and decides whether sending may
//! start; [`run`] then reads the list once more, renders one message per
//! sendable recipient on the calling thread, and hands them to
//! `connections` worker threads, each holding one SMTP session. Workers take
//! small batches: record the batch's attempts, commit the journal once
//! (one fsync for the batch), then run the transactions and record the
//! outcomes, which ride along with the next commit.

mod dry_run;
pub mod journal;
mod rate;
pub mod transport;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use lettre::address::Envelope;
use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64;

use crate::address_book::AddressBook;
use crate::campaign::Campaign;
use crate::diagnostic::{Diagnostic, Scope, Severity};
use crate::draft::{Draft, Templates};
use crate::lint::{LintError, Outputs};
use crate::message::MessageFactory;
use crate::recipients::{Field, RecipientReader, address_key};
use crate::report::{Emitter, Summary};
use journal::{Fingerprints, Journal, JournalError, JournalHeader, Status};
use rate::RateLimiter;
use transport::{Connector, Delivery, Session, TransportError};

/// Attempts recorded and committed together before their transactions.
const BATCH: usize = 16;
/// Tries of one message within a run (4xx replies, dropped sessions).
const TRIES: u32 = 5;
/// The first retry's wait; it doubles each time.
const BACKOFF: Duration = Duration::from_millis(200);

/// `--shard K/N`: this machine's share of the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u32,
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a shard: write K/N with 1 ≤ K ≤ N, e.g. 2/4");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// True when the address (any case) belongs to this shard. The hash is
    /// xxh3 of the lower-case address: stable across machines and versions.
    pub fn holds(&self, address: &str) -> bool {
        xxh3_64(address_key(address).as_bytes()) % u64::from(self.count)
            == u64::from(self.index - 1)
    }
}

/// What the user asked `send` to do.
#[derive(Clone, Debug, Default)]
pub struct SendOptions {
    /// Write messages to this directory instead of sending.
    pub dry_run: Option<PathBuf>,
    pub skip_blocked: bool,
    /// Send at most this many messages in this run.
    pub limit: Option<u64>,
    pub resend_unknown: bool,
    pub shard: Option<Shard>,
    /// The journal file, instead of the default beside the campaign.
    pub journal: Option<PathBuf>,
    /// Permit `tls = "none"` to a host that is not loopback.
    pub allow_plaintext: bool,
    /// `--accept-changes`: go on with the journal although the draft, list,
    /// suppression lists or campaign settings changed.
    pub accept_changes: bool,
    /// `--yes`: the user confirmed (needed, among others, to start a fresh
    /// journal while the campaign's journal holds sent messages).
    pub confirmed: bool,
    /// The relay password, when the user typed it in (else `password_env`).
    pub password: Option<transport::Password>,
    /// Count this run's messages before sending ([`Counters::total`]), for
    /// a progress bar.
    pub progress: bool,
}

/// SPEC §5's JSON summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SendSummary {
    pub recipients: u64,
    pub sendable: u64,
    pub blocked: u64,
    /// Sent in this run (written, for a dry run).
    pub sent: u64,
    /// Sent by earlier runs of the same journal.
    pub already_sent: u64,
    /// Refused permanently (this run or earlier).
    pub failed: u64,
    /// Still to be retried: 4xx, dropped sessions, interrupted.
    pub deferred: u64,
    /// Attempts whose outcome no run recorded (not re-sent without
    /// `--resend-unknown`).
    pub unknown: u64,
    /// Left for a later run by `--limit` (not deferred: never tried).
    pub not_yet_sent: u64,
    /// Recipients of this run whose message could not be built from their
    /// row (a merge value with a line break for a header), each as
    /// `file:line: address: why`, the first [`NOT_BUILT_SHOWN`] of them.
    /// They count as `failed`; not part of SPEC's JSON.
    #[serde(skip)]
    pub not_built: Vec<String>,
    /// How many recipients of this run could not be built, all told.
    #[serde(skip)]
    pub not_built_total: u64,
    /// The inputs whose change this run went on with (`--accept-changes`),
    /// in words; not part of SPEC's JSON (the journal records them).
    #[serde(skip)]
    pub accepted_changes: Vec<&'static str>,
}

/// How many unbuildable recipients [`SendSummary::not_built`] names.
pub const NOT_BUILT_SHOWN: usize = 20;

impl SendSummary {
    /// True when nothing of this run is left in doubt or to retry: none
    /// failed, deferred or unknown (recipients left by `--limit` are not
    /// yet sent, which is what the user asked for).
    pub fn complete(&self) -> bool {
        self.failed == 0 && self.deferred == 0 && self.unknown == 0
    }

    /// The one-line summary `send` prints, counts with thousands separators
    /// as in the lint summary. `written` for a dry run.
    pub fn human_line(&self, dry_run: bool) -> String {
        use crate::report::thousands;
        let what = if dry_run { "written" } else { "sent" };
        let mut line = format!(
            "{} recipients, {} sendable, {} blocked: {} {what}, {} already sent, {} failed, \
             {} deferred, {} unknown",
            thousands(self.recipients),
            thousands(self.sendable),
            thousands(self.blocked),
            thousands(self.sent),
            thousands(self.already_sent),
            thousands(self.failed),
            thousands(self.deferred),
            thousands(self.unknown),
        );
        if self.not_yet_sent > 0 {
            line.push_str(&format!(", {} not yet sent", thousands(self.not_yet_sent)));
        }
        line
    }
}

/// Why `send` did not send (or stopped).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Exit 2: an input could not be read.
    #[error(transparent)]
    Lint(#[from] LintError),
    /// Exit 1: lint errors stand.
    #[error("{0}")]
    Refused(String),
    /// Exit 2: settings that make sending impossible.
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Exit 1: the relay became unusable in the middle of the run.
    #[error("{0}")]
    Transport(#[from] TransportError),
    /// Exit 2: the relay could not be used at the start (cannot connect,
    /// TLS fails, login refused); nothing was sent or recorded as deferred.
    #[error("{0}")]
    Relay(TransportError),
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// The lint's verdict, as far as sending is concerned.
pub struct Gate {
    pub lint: Summary,
    /// Error-level diagnostics about the campaign, draft or list as a whole.
    pub blocking_errors: u64,
    /// Error-level diagnostics about single recipients.
    pub recipient_errors: u64,
    addresses: AddressBook,
}

/// Counts errors by scope and passes every diagnostic on.
struct ScopeCounter<'e> {
    inner: &'e mut dyn Emitter,
    blocking: u64,
    recipient: u64,
}

impl Emitter for ScopeCounter<'_> {
    fn diagnostic(&mut self, d: &Diagnostic) -> io::Result<()> {
        if d.severity == Severity::Error {
            if d.scope == Scope::Recipient {
                self.recipient += 1;
            } else {
                self.blocking += 1;
            }
        }
        self.inner.diagnostic(d)
    }

    fn finish(&mut self, summary: &Summary, out: &mut dyn io::Write) -> io::Result<()> {
        self.inner.finish(summary, out)
    }

    fn note(&mut self, text: &str) {
        self.inner.note(text);
    }
}

/// Runs the whole lint; `report` receives its diagnostics (to show them).
pub fn gate(campaign: &Campaign, report: &mut dyn Emitter) -> Result<Gate, LintError> {
    let mut counter = ScopeCounter {
        inner: report,
        blocking: 0,
        recipient: 0,
    };
    let (lint, addresses) =
        crate::lint::lint_with_addresses(campaign, &mut counter, &Outputs::default())?;
    Ok(Gate {
        lint,
        blocking_errors: counter.blocking,
        recipient_errors: counter.recipient,
        addresses,
    })
}

impl Gate {
    /// Whether sending may start, and if not, why (SPEC §5: any campaign,
    /// draft or list error refuses; recipient errors refuse too unless
    /// `--skip-blocked`).
    pub fn check(&self, options: &SendOptions) -> Result<(), SendError> {
        if self.blocking_errors > 0 {
            return Err(SendError::Refused(format!(
                "not sending: {} error(s) in the campaign, draft or list must be fixed first \
                 (see the report above; `mailgate lint` shows the same)",
                self.blocking_errors
            )));
        }
        if self.recipient_errors > 0 && !options.skip_blocked {
            return Err(SendError::Refused(format!(
                "not sending: {} recipient(s) are blocked by {} error(s); fix them, or pass \
                 --skip-blocked to send only to the {} sendable",
                self.lint.blocked, self.recipient_errors, self.lint.sendable
            )));
        }
        Ok(())
    }
}

/// The journal a campaign's send uses by default: `<name>.journal.jsonl`
/// beside the campaign file, with the shard in the name.
pub fn default_journal(campaign_file: &Path, shard: Option<Shard>) -> PathBuf {
    let stem = campaign_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "campaign".to_owned());
    let name = match shard {
        Some(s) => format!("{stem}.shard-{}-of-{}.journal.jsonl", s.index, s.count),
        None => format!("{stem}.journal.jsonl"),
    };
    campaign_file.with_file_name(name)
}

/// Checks the journal the options choose before anything else happens (the
/// binary calls it before the lint): see
/// [`refuse_a_fresh_journal_over_sent_messages`].
pub fn check_journal_choice(campaign: &Campaign, options: &SendOptions) -> Result<(), SendError> {
    match (&options.journal, &campaign.path, &options.dry_run) {
        (Some(chosen), Some(campaign_file), None) => refuse_a_fresh_journal_over_sent_messages(
            chosen,
            &default_journal(campaign_file, options.shard),
            options.confirmed,
        ),
        _ => Ok(()),
    }
}

/// SPEC §5: a fresh journal (`--journal F`, F new) while the campaign's own
/// journal holds sent messages would mail all of them again; that takes
/// `--yes`, and the refusal says so.
fn refuse_a_fresh_journal_over_sent_messages(
    chosen: &Path,
    default: &Path,
    confirmed: bool,
) -> Result<(), SendError> {
    if chosen.exists() || !default.exists() || confirmed {
        return Ok(());
    }
    let sent = journal::count_sent(default)?;
    if sent == 0 {
        return Ok(());
    }
    Err(SendError::Setup(format!(
        "{} is a new journal, but the campaign's journal {} records {sent} recipient(s) \
         already sent: a new journal knows nothing of them, so everyone would be mailed \
         again. To resume without mailing anyone twice, leave out --journal; to mail \
         everyone again on purpose, add --yes",
        chosen.display(),
        default.display()
    )))
}

/// Live counters, shared with the progress display.
#[derive(Default, Debug)]
pub struct Counters {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    pub deferred: AtomicU64,
    /// Ended DATA without a reply this run.
    pub unknown: AtomicU64,
    /// Messages queued for this run so far.
    pub queued: AtomicU64,
    /// Messages this run will hand over, counted before the first one
    /// (with [`SendOptions::progress`]; 0 until then).
    pub total: AtomicU64,
}

/// One message ready for the wire.
struct Outgoing {
    address: String,
    message_id: String,
    envelope: Envelope,
    bytes: Vec<u8>,
}

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
    let mut first_session = None;
    let (sink, state) = match &options.dry_run {
        Some(dir) => {
            dry_run::prepare(dir, campaign.path.as_deref()).map_err(SendError::Setup)?;
            (Sink::Directory(dir.clone()), None)
        }
        None => {
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
            let connector =
                Connector::new(smtp, options.allow_plaintext, options.password.as_ref())
                    .map_err(SendError::Relay)?;
            let journal_path = options
                .journal
                .clone()
                .unwrap_or_else(|| default_journal(campaign_file, options.shard));
            if let Some(chosen) = &options.journal {
                refuse_a_fresh_journal_over_sent_messages(
                    chosen,
                    &default_journal(campaign_file, options.shard),
                    options.confirmed,
                )?;
            }
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
            // One session first, on this thread: a relay that cannot be
            // reached or refuses the login stops the run here, before any
            // message is queued, with the cause. That session is the first
            // worker's.
            let first = connector.connect().map_err(|e| {
                SendError::Relay(match e {
                    Ok(reason) => TransportError {
                        host: smtp.host.clone(),
                        port: smtp.port,
                        what: reason,
                    },
                    Err(fatal) => fatal,
                })
            })?;
            first_session = Some(first);
            let rate = smtp.rate.map(RateLimiter::new);
            (
                Sink::Relay {
                    connector,
                    journal,
                    rate,
                    connections: smtp.connections.max(1) as usize,
                    down: RelayDown::default(),
                },
                Some(state),
            )
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
        Sink::Relay { connections, .. } => *connections,
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
            Sink::Relay { journal, .. } => Some(journal),
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
        if let Sink::Relay { journal, .. } = sink {
            // Keep what was recorded before reporting the failure.
            let _ = journal.close();
        }
        return Err(e);
    }
    summary.sent = counters.sent.load(Ordering::SeqCst);
    summary.failed += counters.failed.load(Ordering::SeqCst);
    summary.deferred += counters.deferred.load(Ordering::SeqCst);
    summary.unknown += counters.unknown.load(Ordering::SeqCst);
    if let Sink::Relay { journal, .. } = sink {
        journal.close()?;
    }
    Ok(summary)
}

/// What `--test-to` sent.
#[derive(Clone, Debug)]
pub struct TestSent {
    /// The recipient whose message it was.
    pub recipient: String,
    /// Their line in the list.
    pub line: u64,
    /// The relay's reply.
    pub reply: String,
}

/// `--test-to ADDRESS [--row N]`: renders the message of one recipient —
/// the first sendable one, or the one on line `row` of the list — and sends
/// it to `to` only, its subject prefixed `[test]`. Nothing is journaled.
pub fn test_send(
    campaign: &Campaign,
    gate: &Gate,
    options: &SendOptions,
    to: &str,
    row: Option<u64>,
) -> Result<TestSent, SendError> {
    let to_address: lettre::Address = to
        .parse()
        .map_err(|e| SendError::Setup(format!("--test-to {to}: not an e-mail address ({e})")))?;
    let draft = Draft::load(&campaign.draft).map_err(LintError::from)?;
    let (templates, _) = Templates::compile(&draft);
    let factory = MessageFactory::new(campaign, &draft, &templates).map_err(SendError::Setup)?;
    let smtp = campaign.smtp.as_ref().ok_or_else(|| {
        SendError::Setup("the campaign has no [smtp] table: add host, port and tls".to_owned())
    })?;
    let mut reader =
        RecipientReader::open(&campaign.recipients, &campaign.columns).map_err(LintError::from)?;
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    let list = crate::lint::display(&campaign.recipients);
    let (recipient, line, message) = loop {
        let Some(record) = reader.next_row().map_err(LintError::from)? else {
            return Err(SendError::Setup(match row {
                Some(n) => format!("--row {n}: {list} has no recipient on line {n}"),
                None => format!("{list} has no sendable recipient to show"),
            }));
        };
        let address = record.get(Field::Email);
        let chosen = match row {
            Some(n) => record.line() == n,
            None => {
                let key = gate.addresses.key(address);
                gate.addresses.is_sendable(key)
                    && gate.addresses.first_line(key) == Some(record.line())
            }
        };
        if !chosen {
            continue;
        }
        values.clear();
        for variable in factory.variables() {
            values.insert(
                variable.clone(),
                record.var(variable).unwrap_or("").to_owned(),
            );
        }
        let message = factory.build(address, &values).map_err(|e| {
            SendError::Refused(format!(
                "{list}:{}: {address}: not sent: {e}",
                record.line()
            ))
        })?;
        break (address.to_owned(), record.line(), message);
    };
    let envelope = Envelope::new(message.envelope().from().cloned(), vec![to_address])
        .map_err(|e| SendError::Setup(format!("--test-to {to}: {e}")))?;
    let bytes = prefix_subject(&message.formatted(), "[test] ");
    let connector = Connector::new(smtp, options.allow_plaintext, options.password.as_ref())
        .map_err(SendError::Relay)?;
    let mut session = connector.connect().map_err(|e| {
        SendError::Relay(match e {
            Ok(reason) => connector.error(reason),
            Err(fatal) => fatal,
        })
    })?;
    let delivery = connector.deliver::<SendError>(&mut session, &envelope, &bytes, || Ok(()))?;
    session.quit();
    match delivery {
        Delivery::Accepted(reply) => Ok(TestSent {
            recipient,
            line,
            reply,
        }),
        Delivery::Refused(reply) | Delivery::Deferred(reply) | Delivery::Unknown(reply) => {
            Err(SendError::Transport(connector.error(format!(
                "the test message to {to} was not accepted: {reply}"
            ))))
        }
    }
}

/// The message with `prefix` put before its Subject (in the header, the
/// first line that starts `Subject:`); unchanged without one.
fn prefix_subject(message: &[u8], prefix: &str) -> Vec<u8> {
    let head_end = memchr::memmem::find(message, b"\r\n\r\n").unwrap_or(message.len());
    let at = if message.starts_with(b"Subject: ") {
        Some(0)
    } else {
        memchr::memmem::find(&message[..head_end], b"\r\nSubject: ").map(|i| i + 2)
    };
    let Some(at) = at else {
        return message.to_vec();
    };
    let insert = at + "Subject: ".len();
    let mut out = Vec::with_capacity(message.len() + prefix.len());
    out.extend_from_slice(&message[..insert]);
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(&message[insert..]);
    out
}

/// What this run does with one row of the list.
enum ThisRun {
    /// Not sendable, not the address's first row, or another shard's.
    Skip,
    AlreadySent,
    Failed,
    /// Unknown, and no `--resend-unknown`.
    Unknown,
    Send,
}

fn this_run(
    gate: &Gate,
    options: &SendOptions,
    state: Option<&journal::JournalState>,
    address: &str,
    line: u64,
) -> ThisRun {
    let key = gate.addresses.key(address);
    // Sendable, and the first row that holds the address: sent once.
    if !gate.addresses.is_sendable(key) || gate.addresses.first_line(key) != Some(line) {
        return ThisRun::Skip;
    }
    if options.shard.is_some_and(|s| !s.holds(address)) {
        return ThisRun::Skip;
    }
    match state.and_then(|s| s.status(address)) {
        Some(Status::Sent) => ThisRun::AlreadySent,
        Some(Status::Failed) => ThisRun::Failed,
        Some(Status::Unknown) if !options.resend_unknown => ThisRun::Unknown,
        _ => ThisRun::Send,
    }
}

/// How many messages this run will hand over (for the progress bar, which
/// knows its total from the start): one quick read of the list.
fn count_this_run(
    campaign: &Campaign,
    gate: &Gate,
    options: &SendOptions,
    state: Option<&journal::JournalState>,
) -> Result<u64, SendError> {
    let mut reader =
        RecipientReader::open(&campaign.recipients, &campaign.columns).map_err(LintError::from)?;
    let mut count = 0u64;
    while let Some(row) = reader.next_row().map_err(LintError::from)? {
        if let ThisRun::Send = this_run(gate, options, state, row.get(Field::Email), row.line()) {
            count += 1;
        }
    }
    Ok(options.limit.map_or(count, |limit| count.min(limit)))
}

/// Reads the list again and queues a message for every recipient this run
/// should send to. Returns after the last one is queued (or on `stop`).
#[allow(clippy::too_many_arguments)]
fn produce(
    campaign: &Campaign,
    gate: &Gate,
    options: &SendOptions,
    factory: &MessageFactory<'_>,
    (state, journal): (Option<&journal::JournalState>, Option<&Journal>),
    summary: &mut SendSummary,
    counters: &Counters,
    stop: &AtomicBool,
    queue: &mpsc::SyncSender<Outgoing>,
) -> Result<(), SendError> {
    let mut reader =
        RecipientReader::open(&campaign.recipients, &campaign.columns).map_err(LintError::from)?;
    let mut values: BTreeMap<String, String> = BTreeMap::new();
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
        values.clear();
        for variable in factory.variables() {
            values.insert(variable.clone(), row.var(variable).unwrap_or("").to_owned());
        }
        let message = match factory.build(address, &values) {
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

/// Where a worker puts messages. (One exists per run; its size is no concern.)
#[allow(clippy::large_enum_variant)]
enum Sink {
    Directory(PathBuf),
    Relay {
        connector: Connector,
        journal: Journal,
        rate: Option<RateLimiter>,
        connections: usize,
        down: RelayDown,
    },
}

impl Sink {
    /// One worker's loop: take a batch, journal it, deliver it.
    fn work(
        &self,
        queue: &Mutex<mpsc::Receiver<Outgoing>>,
        counters: &Counters,
        stop: &AtomicBool,
        sequence: &AtomicU64,
        mut session: Option<Session>,
    ) -> Result<(), SendError> {
        loop {
            let batch = take_batch(queue);
            if batch.is_empty() {
                break;
            }
            match self {
                Sink::Directory(dir) => {
                    for outgoing in batch {
                        let n = sequence.fetch_add(1, Ordering::SeqCst) + 1;
                        let path = dir.join(format!("{n:06}.eml"));
                        std::fs::write(&path, &outgoing.bytes).map_err(|e| {
                            SendError::Setup(format!("cannot write {}: {e}", path.display()))
                        })?;
                        counters.sent.fetch_add(1, Ordering::SeqCst);
                    }
                }
                Sink::Relay {
                    connector,
                    journal,
                    rate,
                    down,
                    ..
                } => {
                    for outgoing in &batch {
                        journal.record_attempt(&outgoing.address, &outgoing.message_id)?;
                    }
                    // The durability invariant: attempts are on disk before
                    // any of these messages reaches the server.
                    journal.commit()?;
                    let mut rest = batch.into_iter();
                    for outgoing in rest.by_ref() {
                        if stop.load(Ordering::SeqCst) {
                            journal
                                .record_deferred(&outgoing.address, "interrupted before sending")?;
                            counters.deferred.fetch_add(1, Ordering::SeqCst);
                            continue;
                        }
                        if let Some(rate) = rate {
                            rate.wait();
                        }
                        let outcome = deliver_with_retries(
                            connector,
                            &mut session,
                            &outgoing,
                            stop,
                            journal,
                            down,
                        );
                        match outcome {
                            Ok(Delivery::Unknown(reason)) => {
                                journal.record_unknown(&outgoing.address, &reason)?;
                                counters.unknown.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(e @ SendError::Journal(_)) => return Err(e),
                            Ok(Delivery::Accepted(reply)) => {
                                journal.record_sent(&outgoing.address, &reply)?;
                                counters.sent.fetch_add(1, Ordering::SeqCst);
                            }
                            Ok(Delivery::Refused(reply)) => {
                                journal.record_failed(&outgoing.address, &reply)?;
                                counters.failed.fetch_add(1, Ordering::SeqCst);
                            }
                            Ok(Delivery::Deferred(reply)) => {
                                journal.record_deferred(&outgoing.address, &reply)?;
                                counters.deferred.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(e) => {
                                // The relay refuses us altogether: nothing of
                                // this batch was delivered; retry next run.
                                journal.record_deferred(&outgoing.address, &e.to_string())?;
                                counters.deferred.fetch_add(1, Ordering::SeqCst);
                                for outgoing in rest {
                                    journal.record_deferred(
                                        &outgoing.address,
                                        "not sent: run stopped",
                                    )?;
                                    counters.deferred.fetch_add(1, Ordering::SeqCst);
                                }
                                journal.commit()?;
                                return Err(e);
                            }
                        }
                    }
                }
            }
            if stop.load(Ordering::SeqCst) {
                break;
            }
        }
        if let Sink::Relay { journal, .. } = self {
            journal.commit()?;
        }
        if let Some(session) = session {
            session.quit();
        }
        Ok(())
    }
}

/// Up to [`BATCH`] messages: waits for the first, takes what else is ready.
fn take_batch(queue: &Mutex<mpsc::Receiver<Outgoing>>) -> Vec<Outgoing> {
    let receiver = queue.lock().expect("not poisoned");
    let mut batch = Vec::with_capacity(BATCH);
    if let Ok(first) = receiver.recv() {
        batch.push(first);
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
    }
    batch
}

/// How long the relay may stay unreachable in mid-run (no session can be
/// opened by any connection) before `send` gives up with the cause; the
/// SPEC's two minutes. `MAILGATE_RELAY_DOWN_SECS` shortens it (the tests
/// use a few seconds).
fn relay_down_limit() -> Duration {
    std::env::var("MAILGATE_RELAY_DOWN_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(120))
}

/// The longest wait between two tries to reach a relay that is down.
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// Since when no connection could open a session (None while one can):
/// shared by the workers, so the limit counts from the first failure.
#[derive(Default)]
struct RelayDown(Mutex<Option<std::time::Instant>>);

impl RelayDown {
    /// Notes a failed connect; the time since the relay went down.
    fn failed(&self) -> Duration {
        let mut since = self.0.lock().expect("not poisoned");
        since.get_or_insert_with(std::time::Instant::now).elapsed()
    }

    fn reached(&self) {
        *self.0.lock().expect("not poisoned") = None;
    }
}

/// Opens a session, waiting with backoff while the relay cannot be reached
/// (no try of the message is used up by that); `Ok(None)` when `stop` was
/// set meanwhile, `Err` when the relay stayed down past the limit.
fn reconnect(
    connector: &Connector,
    down: &RelayDown,
    stop: &AtomicBool,
) -> Result<Option<Session>, SendError> {
    let mut wait = BACKOFF;
    loop {
        match connector.connect() {
            Ok(session) => {
                down.reached();
                return Ok(Some(session));
            }
            Err(Err(fatal)) => return Err(fatal.into()),
            Err(Ok(reason)) => {
                let elapsed = down.failed();
                let limit = relay_down_limit();
                if elapsed >= limit {
                    return Err(SendError::Transport(connector.error(format!(
                        "the relay was lost in mid-run and no session could be opened again \
                         for {} s: {reason}",
                        limit.as_secs()
                    ))));
                }
                if stop.load(Ordering::SeqCst) {
                    return Ok(None);
                }
                std::thread::sleep(wait.min(limit.saturating_sub(elapsed)));
                wait = (wait * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// Delivers one message, retrying 4xx replies and dropped sessions with
/// exponential backoff on a fresh session.
fn deliver_with_retries(
    connector: &Connector,
    session: &mut Option<Session>,
    outgoing: &Outgoing,
    stop: &AtomicBool,
    journal: &Journal,
    down: &RelayDown,
) -> Result<Delivery, SendError> {
    let mut wait = BACKOFF;
    let mut last = Delivery::Deferred("not tried".to_owned());
    for attempt in 0..TRIES {
        if attempt > 0 {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            std::thread::sleep(wait);
            wait *= 2;
        }
        if session.as_ref().is_none_or(|s| s.has_broken()) {
            *session = reconnect(connector, down, stop)?;
            if session.is_none() {
                last =
                    Delivery::Deferred("interrupted while the relay could not be reached".into());
                break;
            }
        }
        let open = session.as_mut().expect("connected above");
        let data_end = || {
            journal
                .record_data_end(&outgoing.address)
                .map_err(SendError::from)
        };
        match connector.deliver(open, &outgoing.envelope, &outgoing.bytes, data_end)? {
            Delivery::Deferred(reason) => last = Delivery::Deferred(reason),
            done => return Ok(done),
        }
    }
    Ok(last)
}
