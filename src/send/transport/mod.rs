//! SMTP sessions through lettre's connection API. mailgate drives the
//! transaction command by command (MAIL, RCPT, DATA) rather than through
//! `SmtpTransport::send`, because the stage of a refusal decides what it
//! means: a refused sender stops the whole run, a refused recipient fails
//! only that recipient, a 4xx is retried.
//!
//! When the server offers PIPELINING (RFC 2920), MAIL, RCPT and DATA go out
//! in one write and their replies are read in order afterwards: two round
//! trips a message instead of four, with the same reply for each stage.

use std::net::ToSocketAddrs;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::Error;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;

use crate::campaign::{Smtp, Tls};

/// How long one SMTP command may take before the session counts as dropped.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A problem that stops the whole run: the relay cannot be used at all.
#[derive(Debug, thiserror::Error)]
#[error("{host}:{port}: {what}")]
pub struct TransportError {
    pub host: String,
    pub port: u16,
    pub what: String,
}

/// A password typed in by the user; never shown (not even by `Debug`).
#[derive(Clone)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

/// The login whose password is missing: `[smtp]` has a `username` and a
/// `password_env` that is not set. `(username, variable)`.
pub fn missing_password(smtp: &Smtp) -> Option<(&str, &str)> {
    match (&smtp.username, &smtp.password_env) {
        (Some(user), Some(var)) if std::env::var_os(var).is_none() => Some((user, var)),
        _ => None,
    }
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The server accepted the message (its reply).
    Accepted(String),
    /// A 4xx reply or a dropped session: try again later (the reason).
    Deferred(String),
    /// A 5xx reply for this recipient or this content (the reply).
    Refused(String),
    /// The end of DATA was written but no reply came (the connection broke
    /// or timed out): the server may have accepted the message, and no one
    /// can tell from here. Not retried (the reason).
    Unknown(String),
}

/// Opens authenticated sessions to the relay of `[smtp]`.
#[derive(Clone)]
pub struct Connector {
    host: String,
    port: u16,
    tls: Tls,
    tls_parameters: Option<TlsParameters>,
    credentials: Option<Credentials>,
    /// For messages: the login name, where the password comes from, the CA.
    username: String,
    password_source: String,
    ca_file: Option<std::path::PathBuf>,
    hello: ClientId,
}

impl Connector {
    /// Checks the settings and reads the password from `password_env`
    /// (or takes `password`, when the user typed it in). `allow_plaintext`
    /// permits `tls = "none"` to a host that is not loopback (the user
    /// forced it).
    pub fn new(
        smtp: &Smtp,
        allow_plaintext: bool,
        password: Option<&Password>,
    ) -> Result<Self, TransportError> {
        let fail = |what: String| TransportError {
            host: smtp.host.clone(),
            port: smtp.port,
            what,
        };
        if smtp.is_clear_text_off_machine() && !allow_plaintext {
            return Err(fail(
                "tls = \"none\" to a host that is not loopback would send mail and the \
                 password in clear text; use starttls or tls"
                    .to_owned(),
            ));
        }
        let tls_parameters = match smtp.tls {
            Tls::None => None,
            Tls::Starttls | Tls::Tls => {
                let mut builder = TlsParameters::builder(smtp.host.clone());
                if let Some(ca_file) = &smtp.ca_file {
                    let pem = std::fs::read(ca_file).map_err(|e| {
                        fail(format!("cannot read ca_file {}: {e}", ca_file.display()))
                    })?;
                    let certificate = Certificate::from_pem(&pem).map_err(|e| {
                        fail(format!(
                            "ca_file {} is not a PEM certificate: {e}",
                            ca_file.display()
                        ))
                    })?;
                    builder = builder.add_root_certificate(certificate);
                }
                Some(
                    builder
                        .build_rustls()
                        .map_err(|e| fail(format!("cannot set up TLS: {e}")))?,
                )
            }
        };
        let credentials = match (&smtp.username, &smtp.password_env) {
            (Some(user), Some(_)) if password.is_some() => Some(Credentials::new(
                user.clone(),
                password.map(|p| p.0.clone()).unwrap_or_default(),
            )),
            (Some(user), Some(var)) => {
                let password = std::env::var(var).map_err(|_| {
                    fail(format!(
                        "the password environment variable {var} is not set; export it before \
                         running send (the password never goes into the campaign file)"
                    ))
                })?;
                Some(Credentials::new(user.clone(), password))
            }
            (Some(_), None) => {
                return Err(fail(
                    "[smtp] has a username but no password_env; name the environment \
                     variable that holds the password"
                        .to_owned(),
                ));
            }
            _ => None,
        };
        Ok(Connector {
            host: smtp.host.clone(),
            port: smtp.port,
            tls: smtp.tls,
            tls_parameters,
            credentials,
            username: smtp.username.clone().unwrap_or_default(),
            password_source: smtp
                .password_env
                .as_ref()
                .map(|var| format!("the environment variable {var} (`password_env`)"))
                .unwrap_or_default(),
            ca_file: smtp.ca_file.clone(),
            hello: ClientId::default(),
        })
    }

    /// An error about this relay (`host:port: what`).
    pub fn error(&self, what: impl Into<String>) -> TransportError {
        self.fail(what)
    }

    fn fail(&self, what: impl Into<String>) -> TransportError {
        TransportError {
            host: self.host.clone(),
            port: self.port,
            what: what.into(),
        }
    }

    /// Opens a session once, without retrying: any failure is the relay's
    /// error to report. A run's first session is opened so (SPEC §5: a
    /// relay that cannot be reached or refuses the login stops the run at
    /// once, with the cause), and so is `--test-to`'s only one.
    pub fn connect_once(&self) -> Result<Session, TransportError> {
        self.connect().map_err(|e| match e {
            Ok(reason) => self.fail(reason),
            Err(fatal) => fatal,
        })
    }

    /// Opens a session: connect, TLS as configured, AUTH. Network problems
    /// are `Err(Ok(reason))` (worth retrying); problems no retry can fix
    /// (TLS refused, bad password) are `Err(Err(TransportError))`. Every
    /// reason names the cause and, where there is one, the fix.
    pub fn connect(&self) -> Result<Session, Result<String, TransportError>> {
        let address = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| {
                Err(self.fail(format!(
                    "cannot resolve the host: {e}; check `host` under [smtp]"
                )))
            })?
            .next()
            .ok_or_else(|| Err(self.fail("the host has no address; check `host` under [smtp]")))?;
        let implicit = match self.tls {
            Tls::Tls => self.tls_parameters.as_ref(),
            _ => None,
        };
        let mut connection =
            SmtpConnection::connect(address, Some(COMMAND_TIMEOUT), &self.hello, implicit, None)
                .map_err(|e| match tls_failure(&e) {
                    Some(tls) => Err(self.fail(self.explain_tls(tls, "TLS failed"))),
                    None if e.is_tls() => Err(self.fail(format!("TLS failed: {e}"))),
                    None => Ok(format!(
                        "cannot connect: {}; check `host` and `port` under [smtp] and that the \
                         relay is running and reachable from this machine",
                        error_chain(&e)
                    )),
                })?;
        if self.tls == Tls::Starttls {
            let parameters = self.tls_parameters.as_ref().expect("built for starttls");
            if !connection.can_starttls() {
                return Err(Err(self.fail(
                    "the server does not offer STARTTLS; mailgate will not send in clear text \
                     (use tls = \"tls\" if the port speaks TLS from the start, usually 465)",
                )));
            }
            connection
                .starttls(parameters, &self.hello)
                .map_err(|e| match tls_failure(&e) {
                    Some(tls) => Err(self.fail(self.explain_tls(tls, "STARTTLS failed"))),
                    None => Err(self.fail(format!("STARTTLS failed: {}", error_chain(&e)))),
                })?;
        }
        // lettre keeps only the EHLO keywords it knows, and PIPELINING is not
        // one of them: ask once more (a repeated EHLO is allowed and changes
        // nothing, RFC 5321 §4.1.4) and read the keywords ourselves.
        let pipelining = match connection.command(Ehlo::new(self.hello.clone())) {
            Ok(reply) => offers_pipelining(&reply),
            Err(e) if is_reply(&e) => false,
            Err(e) => return Err(Ok(format!("EHLO failed: {e}"))),
        };
        if let Some(credentials) = &self.credentials {
            let mechanisms = [Mechanism::Plain, Mechanism::Login];
            let info = connection.server_info();
            if !mechanisms.iter().any(|m| info.supports_auth_mechanism(*m)) {
                let when = if connection.is_encrypted() || self.tls == Tls::None {
                    "drop `username` and `password_env` from [smtp] if it needs no login"
                } else {
                    "some relays offer AUTH only over TLS: use tls = \"starttls\" or \"tls\"; \
                     or drop `username` and `password_env` from [smtp] if it needs no login"
                };
                return Err(Err(self.fail(format!(
                    "the relay offers no login mechanism mailgate can use (AUTH PLAIN or \
                     LOGIN), but [smtp] has a username; {when}"
                ))));
            }
            connection.auth(&mechanisms, credentials).map_err(|e| {
                // Only the reply is shown: it never contains the password.
                let reason = match e.status() {
                    Some(code) => format!(
                        "authentication failed ({code}): the relay refused the login of `{}`; \
                         check `username` under [smtp] and the password in {}",
                        self.username, self.password_source
                    ),
                    None => format!("authentication failed: {}", error_chain(&e)),
                };
                if e.is_transient() {
                    Ok(reason)
                } else {
                    Err(self.fail(reason))
                }
            })?;
        }
        Ok(Session {
            connection,
            pipelining,
        })
    }

    /// What a TLS failure means for the user, and what to do about it.
    fn explain_tls(&self, e: &rustls::Error, what: &str) -> String {
        use rustls::CertificateError as C;
        let ca = match &self.ca_file {
            Some(path) => format!("the CA in ca_file {}", path.display()),
            None => "this machine's trusted CAs".to_owned(),
        };
        let fix = match e {
            rustls::Error::InvalidCertificate(C::UnknownIssuer) => format!(
                "the relay's certificate is not signed by {ca}; if the relay uses a private CA, \
                 set `ca_file` under [smtp] to that CA's certificate (PEM)"
            ),
            // webpki's CaUsedAsEndEntity, which rustls passes on as `Other`.
            rustls::Error::InvalidCertificate(C::Other(other))
                if format!("{other:?}").contains("CaUsedAsEndEntity") =>
            {
                "the relay presents a \
                 CA certificate (a self-signed one made with CA:TRUE) as its own certificate, \
                 which TLS verification refuses; give the relay a certificate issued by that \
                 CA and set `ca_file` to the CA, or make its self-signed certificate with \
                 basicConstraints CA:FALSE (openssl req -x509 … -addext \
                 basicConstraints=critical,CA:FALSE) and set `ca_file` to it"
                    .to_owned()
            }
            rustls::Error::InvalidCertificate(
                C::NotValidForName | C::NotValidForNameContext { .. },
            ) => format!(
                "the relay's certificate is not valid for `{}`; set `host` under [smtp] to a \
                 name the certificate names",
                self.host
            ),
            rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
                "the relay's certificate has expired; the relay's operator must renew it".to_owned()
            }
            rustls::Error::InvalidMessage(_) if self.tls == Tls::Tls => {
                "the port does not speak TLS from the start; use tls = \"starttls\" (usually \
                 port 587) or the relay's implicit-TLS port (usually 465)"
                    .to_owned()
            }
            _ => "check `tls`, `port` and `ca_file` under [smtp]".to_owned(),
        };
        format!("{what}: {e}; {fix}")
    }

    /// Runs one transaction on an open session. `Err` means the sender was
    /// refused: no message of this run can go through this relay.
    ///
    /// `data_end` runs right before the end of DATA is written, after the
    /// server said 354 (go ahead): the moment from which the server may
    /// accept the message. If it fails, the connection is dropped (the
    /// server discards the unfinished transaction) and its error returned.
    pub fn deliver<E: From<TransportError>>(
        &self,
        session: &mut Session,
        envelope: &Envelope,
        message: &[u8],
        data_end: impl FnOnce() -> Result<(), E>,
    ) -> Result<Delivery, E> {
        let connection = &mut session.connection;
        let mut options = Vec::new();
        // A non-ASCII local part (`jöhn@…`; domains go out as IDNA A-labels)
        // travels only with SMTPUTF8 (RFC 6531), and only to a relay that
        // offers it; otherwise this recipient fails, and the run goes on.
        let utf8 = envelope
            .to()
            .iter()
            .chain(envelope.from())
            .find(|a| !AsRef::<str>::as_ref(*a).is_ascii());
        if let Some(address) = utf8 {
            if !connection
                .server_info()
                .supports_feature(Extension::SmtpUtfEight)
            {
                return Ok(Delivery::Refused(format!(
                    "the address {address} is not ASCII, and the relay does not offer SMTPUTF8 \
                     (RFC 6531) to carry it; ask the relay's operator to enable SMTPUTF8, or \
                     use the person's ASCII address"
                )));
            }
            options.push(MailParameter::SmtpUtfEight);
        }
        if !message.is_ascii()
            && connection
                .server_info()
                .supports_feature(Extension::EightBitMime)
        {
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let mut commands = vec![Mail::new(envelope.from().cloned(), options).to_string()];
        commands.extend(
            envelope
                .to()
                .iter()
                .map(|to| Rcpt::new(to.clone(), vec![]).to_string()),
        );
        commands.push(Data.to_string());
        let replies = if session.pipelining {
            pipelined(connection, &commands)
        } else {
            in_turn(connection, &commands)
        };

        if let Some(failed) = replies.iter().position(Result::is_err) {
            // Whether the session is in step with the server, so that RSET
            // can start over. Pipelined, that needs every reply read and none
            // opening the DATA phase: a server that answers DATA with 354
            // after refusing the recipients waits for content, and dropping
            // the connection is what discards that transaction.
            let in_step = if session.pipelining {
                replies.len() == commands.len()
                    && replies
                        .iter()
                        .all(|r| r.as_ref().err().is_none_or(is_reply))
                    && replies.last().is_some_and(Result::is_err)
            } else {
                replies
                    .last()
                    .and_then(|r| r.as_ref().err())
                    .is_some_and(is_reply)
            };
            let Some(Err(e)) = replies.into_iter().nth(failed) else {
                unreachable!("position found an error there")
            };
            if failed == 0 && e.is_permanent() {
                if !in_step {
                    connection.abort();
                }
                let from = envelope.from().map(|a| a.to_string()).unwrap_or_default();
                return Err(self
                    .fail(format!("the server refuses the sender {from}: {e}"))
                    .into());
            }
            return Ok(unfinished(connection, &e, in_step));
        }
        let payload = data_payload(message);
        if let Err(e) = data_end() {
            connection.abort();
            return Err(e);
        }
        let sent = match payload {
            // One write for the content and its end marker (see data_payload).
            Some(payload) => connection.command(payload),
            None => connection.message(message),
        };
        match sent {
            Ok(reply) => Ok(Delivery::Accepted(reply_text(&reply))),
            Err(e) if is_reply(&e) => Ok(unfinished(connection, &e, true)),
            Err(e) => {
                // lettre writes and then reads in one call, so whether the
                // end of DATA left this machine before the break cannot be
                // told apart: count it as sent-maybe, never re-sent blindly.
                connection.abort();
                Ok(Delivery::Unknown(format!(
                    "no reply after the end of DATA (the server may have accepted the \
                     message): {}",
                    error_chain(&e)
                )))
            }
        }
    }
}

/// An open SMTP session.
pub struct Session {
    connection: SmtpConnection,
    /// The server offered PIPELINING.
    pipelining: bool,
}

impl Session {
    /// True once the connection failed: open a new session.
    pub fn has_broken(&self) -> bool {
        self.connection.has_broken()
    }

    /// Ends the session politely (errors ignored: the work is done).
    pub fn quit(mut self) {
        let _ = self.connection.quit();
    }
}

/// Sends the commands one at a time, each after the previous one's positive
/// reply: their replies, up to and including the first refusal or failure.
fn in_turn(connection: &mut SmtpConnection, commands: &[String]) -> Vec<Result<Response, Error>> {
    let mut replies = Vec::with_capacity(commands.len());
    for command in commands {
        let reply = connection.command(command.as_str());
        let failed = reply.is_err();
        replies.push(reply);
        if failed {
            break;
        }
    }
    replies
}

/// Sends the commands in one write (RFC 2920: DATA ends the group), then
/// reads a reply for each, in order; a refusal does not stop the reading (the
/// server answers every command), a broken connection does.
fn pipelined(connection: &mut SmtpConnection, commands: &[String]) -> Vec<Result<Response, Error>> {
    let mut replies = Vec::with_capacity(commands.len());
    // `command` writes its argument whole and reads the first reply.
    replies.push(connection.command(commands.concat()));
    while replies.len() < commands.len()
        && replies
            .last()
            .is_some_and(|r| r.as_ref().err().is_none_or(is_reply))
    {
        replies.push(connection.read_response());
    }
    replies
}

/// The TLS error behind a failed connect or STARTTLS, if that is what it
/// was: lettre's rustls stream reports a failed handshake or verification as
/// an `io::Error` that wraps rustls's own error.
fn tls_failure(e: &Error) -> Option<&rustls::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(error) = source {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(inner) = error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(inner);
        }
        source = error.source();
    }
    None
}

/// An error with its causes, `a: b: c` (lettre's Display shows only the
/// outermost, e.g. "network error").
fn error_chain(e: &Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(error) = source {
        let more = error.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = error.source();
    }
    text
}

/// A reply from the server (4xx or 5xx), as opposed to a broken connection,
/// a timeout or a reply that is no SMTP.
fn is_reply(e: &Error) -> bool {
    e.is_permanent() || e.is_transient()
}

/// Whether the EHLO reply lists PIPELINING.
fn offers_pipelining(reply: &Response) -> bool {
    reply.message().skip(1).any(|line| {
        line.split_whitespace()
            .next()
            .is_some_and(|keyword| keyword.eq_ignore_ascii_case("PIPELINING"))
    })
}

/// Classifies a failed step and gets the session ready for the next
/// message: RSET when it is still `in_step` with the server, else dropped.
fn unfinished(connection: &mut SmtpConnection, e: &Error, in_step: bool) -> Delivery {
    let delivery = if e.is_permanent() {
        Delivery::Refused(e.to_string())
    } else {
        Delivery::Deferred(e.to_string())
    };
    if !in_step || connection.command(Rset).is_err() {
        connection.abort();
    }
    delivery
}

fn reply_text(reply: &Response) -> String {
    let code = reply.code();
    let text: Vec<&str> = reply.message().collect();
    format!("{code} {}", text.join(" "))
}

/// The message content as it goes over the wire after `DATA`: dot-stuffed
/// (RFC 5321 §4.5.2) and followed by the end-of-data line, byte for byte what
/// lettre's `SmtpConnection::message` writes, but as one string, so that it
/// leaves in one write.
///
/// Why: `message` writes the content and then `\r\n.\r\n` in a second small
/// write, and lettre's sockets keep Nagle's algorithm on (lettre 0.11.23 has
/// no TCP_NODELAY; upstream merged it after that release). The kernel holds
/// the small write until the server acknowledges the content, and the server
/// delays that ACK (40 ms on Linux) because it is waiting for the end marker
/// before it replies: every message stalled 40 ms, capping one connection at
/// about 25 messages/s (benches/send.sh measured 84/s with 4 connections).
/// Sent through `command`, which writes its argument whole and reads the
/// reply, the stall is gone.
///
/// `None` when the content is not UTF-8 (`command` takes text; lettre's
/// builder only ever produces UTF-8): then `message` sends it, slower.
fn data_payload(message: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(message).ok()?;
    // lettre's ClientCodec doubles a `.` at the very start and right after
    // CRLF, nowhere else (a bare LF or CR does not start a line for it).
    let mut out = String::with_capacity(text.len() + 16);
    if text.starts_with('.') {
        out.push('.');
    }
    let mut rest = text;
    while let Some(i) = rest.find("\r\n.") {
        out.push_str(&rest[..i + 3]);
        out.push('.');
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    out.push_str("\r\n.\r\n");
    Some(out)
}

#[cfg(test)]
mod tests;
