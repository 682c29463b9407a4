//! Delivering one message: 4xx replies and dropped sessions are retried
//! with backoff on a fresh session, and a relay that cannot be reached is
//! waited for, up to SPEC §5's two minutes.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::SendError;
use super::journal::Journal;
use super::transport::{Connector, Delivery, Session};
use super::worker::Outgoing;

/// Tries of one message within a run (4xx replies, dropped sessions).
const TRIES: u32 = 5;
/// The first retry's wait; it doubles each time.
const BACKOFF: Duration = Duration::from_millis(200);

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
pub(super) struct RelayDown(Mutex<Option<std::time::Instant>>);

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
pub(super) fn deliver_with_retries(
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
