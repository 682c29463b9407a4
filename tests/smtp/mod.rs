//! A real SMTP server for the send tests: `tests/smtp/server.py` (aiosmtpd,
//! which we did not write) started on 127.0.0.1 for one test, with optional
//! STARTTLS, AUTH and injected faults, and a view of what it received.
//!
//! ```ignore
//! mod smtp;
//! use smtp::{SmtpOptions, SmtpServer};
//!
//! let server = SmtpServer::start(SmtpOptions::new().starttls().auth("u", "pw").fail_451(0.1));
//! // … point mailgate at server.port(), trusting server.ca_cert_path() …
//! assert_eq!(server.rcpt_counts()["jan@example.nl"], 1);
//! ```
//!
//! Needs `scripts/setup-test-deps.sh` to have run (aiosmtpd and the test
//! certificates); the server panics with that hint when they are missing.
//! The interpreter is `python3`, or `$MAILGATE_TEST_PYTHON`.

// Each test crate includes this module and uses only part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const SETUP_HINT: &str = "run scripts/setup-test-deps.sh first";

/// The faults an address can be given (see `tests/smtp/server.py`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultClass {
    /// RCPT answered 550, every time.
    Fail550,
    /// RCPT answered 451 on the first attempt, accepted afterwards.
    Fail451,
    /// The first DATA including the address loses its connection midway.
    DropMidData,
}

/// How to start the server. Build with the chained methods:
/// `SmtpOptions::new().starttls().auth("user", "pw").fail_550(0.05)`.
#[derive(Clone, Debug, Default)]
pub struct SmtpOptions {
    pub starttls: bool,
    pub require_starttls: bool,
    pub implicit_tls: bool,
    pub auth: Option<(String, String)>,
    pub auth_plaintext: bool,
    pub seed: u64,
    pub fail_550: f64,
    pub fail_451: f64,
    pub drop_mid_data: f64,
    pub fail_550_addrs: Vec<String>,
    pub fail_451_addrs: Vec<String>,
    pub drop_mid_data_addrs: Vec<String>,
    pub reject_sender: bool,
    pub data_delay: Option<Duration>,
    pub pipelining: bool,
    pub smtputf8: bool,
    pub verbose: bool,
    /// The server's certificate and key (PEM) instead of the test CA's.
    pub certificate: Option<(PathBuf, PathBuf)>,
    /// Offer no AUTH in the EHLO reply.
    pub no_auth: bool,
}

impl SmtpOptions {
    pub fn new() -> Self {
        Self::default()
    }
    /// Offer STARTTLS with the test certificate (`ca_cert_path()` trusts it).
    pub fn starttls(mut self) -> Self {
        self.starttls = true;
        self
    }
    /// Refuse everything but EHLO/STARTTLS/QUIT before TLS.
    pub fn require_starttls(mut self) -> Self {
        self.starttls = true;
        self.require_starttls = true;
        self
    }
    /// TLS from the first byte (the `tls = "tls"`, port 465 style).
    pub fn implicit_tls(mut self) -> Self {
        self.implicit_tls = true;
        self
    }
    /// Require AUTH (PLAIN/LOGIN) with these credentials, offered only after
    /// TLS unless [`SmtpOptions::auth_plaintext`].
    pub fn auth(mut self, user: &str, password: &str) -> Self {
        self.auth = Some((user.to_owned(), password.to_owned()));
        self
    }
    pub fn auth_plaintext(mut self) -> Self {
        self.auth_plaintext = true;
        self
    }
    /// Seed for choosing the fault addresses by fraction.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    pub fn fail_550(mut self, fraction: f64) -> Self {
        self.fail_550 = fraction;
        self
    }
    pub fn fail_451(mut self, fraction: f64) -> Self {
        self.fail_451 = fraction;
        self
    }
    pub fn drop_mid_data(mut self, fraction: f64) -> Self {
        self.drop_mid_data = fraction;
        self
    }
    pub fn fail_550_addrs(mut self, addrs: &[&str]) -> Self {
        self.fail_550_addrs = addrs.iter().map(|a| a.to_string()).collect();
        self
    }
    pub fn fail_451_addrs(mut self, addrs: &[&str]) -> Self {
        self.fail_451_addrs = addrs.iter().map(|a| a.to_string()).collect();
        self
    }
    pub fn drop_mid_data_addrs(mut self, addrs: &[&str]) -> Self {
        self.drop_mid_data_addrs = addrs.iter().map(|a| a.to_string()).collect();
        self
    }
    /// Answer every MAIL FROM with 550.
    pub fn reject_sender(mut self) -> Self {
        self.reject_sender = true;
        self
    }
    /// Wait this long after storing a message before replying: the window
    /// in which a client that dies has a message accepted without seeing
    /// the reply (a crash test widens it).
    pub fn data_delay(mut self, delay: Duration) -> Self {
        self.data_delay = Some(delay);
        self
    }
    /// Offer PIPELINING (RFC 2920) in the EHLO reply.
    pub fn pipelining(mut self) -> Self {
        self.pipelining = true;
        self
    }
    /// Offer SMTPUTF8 (RFC 6531): UTF-8 addresses are accepted.
    pub fn smtputf8(mut self) -> Self {
        self.smtputf8 = true;
        self
    }
    /// Offer no AUTH at all (a relay that needs no login).
    pub fn no_auth(mut self) -> Self {
        self.no_auth = true;
        self
    }
    /// Present this certificate (with its key), e.g. a self-signed one,
    /// instead of the one the test CA signed.
    pub fn certificate(mut self, cert: &Path, key: &Path) -> Self {
        self.certificate = Some((cert.to_path_buf(), key.to_path_buf()));
        self
    }
    /// Log every SMTP command to the server log.
    pub fn verbose(mut self) -> Self {
        self.verbose = true;
        self
    }

    /// The fault class the server gives `addr` under these options; the same
    /// computation as `FaultPlan.classify` in `server.py`.
    pub fn fault_class(&self, addr: &str) -> Option<FaultClass> {
        let key = addr.trim().to_lowercase();
        let listed = |list: &[String]| list.iter().any(|a| a.trim().to_lowercase() == key);
        if listed(&self.fail_550_addrs) {
            return Some(FaultClass::Fail550);
        }
        if listed(&self.fail_451_addrs) {
            return Some(FaultClass::Fail451);
        }
        if listed(&self.drop_mid_data_addrs) {
            return Some(FaultClass::DropMidData);
        }
        let u = fault_point(self.seed, &key);
        // Summed in the same order as server.py, so the bounds are the same floats.
        let mut bound = 0.0;
        for (fraction, class) in [
            (self.fail_550, FaultClass::Fail550),
            (self.fail_451, FaultClass::Fail451),
            (self.drop_mid_data, FaultClass::DropMidData),
        ] {
            bound += fraction;
            if u < bound {
                return Some(class);
            }
        }
        None
    }

    fn args(&self, certs: &Path) -> Vec<String> {
        let mut args = Vec::new();
        let (cert, key) = match &self.certificate {
            Some((cert, key)) => (cert.display().to_string(), key.display().to_string()),
            None => (
                certs.join("server.pem").display().to_string(),
                certs.join("server.key").display().to_string(),
            ),
        };
        if self.starttls {
            args.extend(["--starttls".into(), cert.clone(), key.clone()]);
        }
        if self.require_starttls {
            args.push("--require-starttls".into());
        }
        if self.implicit_tls {
            args.extend(["--implicit-tls".into(), cert, key]);
        }
        if let Some((user, password)) = &self.auth {
            args.extend(["--auth".into(), format!("{user}:{password}")]);
        }
        if self.auth_plaintext {
            args.push("--auth-plaintext".into());
        }
        args.extend(["--seed".into(), self.seed.to_string()]);
        for (flag, fraction, addrs) in [
            ("fail-550", self.fail_550, &self.fail_550_addrs),
            ("fail-451", self.fail_451, &self.fail_451_addrs),
            (
                "drop-mid-data",
                self.drop_mid_data,
                &self.drop_mid_data_addrs,
            ),
        ] {
            // `{}` on f64 prints the shortest text that parses back to the
            // same value, so Python's float() sees exactly this fraction.
            args.extend([format!("--{flag}"), format!("{fraction}")]);
            if !addrs.is_empty() {
                args.extend([format!("--{flag}-addrs"), addrs.join(",")]);
            }
        }
        if self.reject_sender {
            args.push("--reject-sender".into());
        }
        if let Some(delay) = self.data_delay {
            args.extend(["--data-delay".into(), delay.as_secs_f64().to_string()]);
        }
        if self.pipelining {
            args.push("--pipelining".into());
        }
        if self.smtputf8 {
            args.push("--smtputf8".into());
        }
        if self.verbose {
            args.push("--verbose".into());
        }
        if self.no_auth {
            args.push("--no-auth".into());
        }
        args
    }
}

/// FNV-1a 64 of `"<seed>:<address>"` with the splitmix64 finaliser, as a
/// number in [0, 1) (server.py's `fault_point`).
pub fn fault_point(seed: u64, address: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("{seed}:{}", address.to_lowercase()).bytes() {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// One message the server accepted, with its envelope.
#[derive(Clone, Debug)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as received (after dot-unstuffing).
    pub data: Vec<u8>,
    /// Which connection carried it (1, 2, …), to check connection reuse.
    pub session: u64,
    /// Whether the connection was TLS (STARTTLS or implicit).
    pub tls: bool,
    /// The authenticated user, if any.
    pub auth_user: Option<String>,
    /// Unix time, seconds, when it was stored.
    pub received_at: f64,
    /// Whether RCPT and DATA had already arrived when MAIL was read: the
    /// client pipelined the envelope.
    pub pipelined: bool,
}

impl Received {
    /// The message as text (lossy), for `contains` checks.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// A fault the server injected (from `events.jsonl`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultEvent {
    /// `"451"`, `"550"`, `"drop"` or `"reject-sender"`.
    pub event: String,
    pub addr: String,
    pub session: u64,
}

/// A running test SMTP server; killed when dropped.
pub struct SmtpServer {
    child: Child,
    // Held open: the server stops when it closes, i.e. when the test
    // process dies without running Drop (a crashed or killed test).
    _stdin: ChildStdin,
    port: u16,
    options: SmtpOptions,
    certs: PathBuf,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts the server on 127.0.0.1 and a free port, and waits until it
    /// accepts connections. Panics with what to do when it cannot start.
    pub fn start(options: SmtpOptions) -> SmtpServer {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let certs = test_certs_dir();
        if (options.starttls || options.implicit_tls) && !certs.join("server.pem").exists() {
            panic!(
                "test certificates missing in {}: {SETUP_HINT}",
                certs.display()
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("mailgate-smtp-")
            .tempdir()
            .expect("create a temp dir for the test SMTP server");
        let log = File::create(dir.path().join("server.log")).expect("create server.log");
        let python = std::env::var("MAILGATE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = Command::new(&python)
            .arg(root.join("tests/smtp/server.py"))
            .args(["--port", "0", "--exit-on-stdin-eof", "--maildir"])
            .arg(dir.path().join("mail"))
            .args(options.args(&certs))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {python} for the test SMTP server ({e}): {SETUP_HINT}")
            });
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");

        // Read READY on a thread so a server that hangs cannot hang the test.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let port = line
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse::<u16>().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            let log = fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            if log.contains("aiosmtpd is not installed") {
                panic!("the test SMTP server needs aiosmtpd: {SETUP_HINT}");
            }
            panic!("the test SMTP server did not start (first line {line:?}); its log:\n{log}");
        };
        SmtpServer {
            child,
            _stdin: stdin,
            port,
            options,
            certs,
            dir,
        }
    }

    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The CA certificate (PEM) that signed the server's certificate, which
    /// is valid for `localhost` and `127.0.0.1`.
    pub fn ca_cert_path(&self) -> PathBuf {
        self.certs.join("ca.pem")
    }

    pub fn options(&self) -> &SmtpOptions {
        &self.options
    }

    /// The fault class of an address on this server.
    pub fn fault_class(&self, addr: &str) -> Option<FaultClass> {
        self.options.fault_class(addr)
    }

    /// Where the messages are stored (`NNNNNN.eml` + `NNNNNN.json`).
    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    /// Every message accepted so far, in the order received. A message is
    /// stored before its 250 reply, so this is complete for every message a
    /// client saw accepted.
    pub fn received(&self) -> Vec<Received> {
        let mut metas: Vec<PathBuf> = match fs::read_dir(self.maildir()) {
            Ok(entries) => entries
                .map(|e| e.expect("read maildir entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect(),
            Err(_) => return Vec::new(),
        };
        metas.sort();
        metas
            .iter()
            .map(|meta_path| {
                let meta: serde_json::Value =
                    serde_json::from_slice(&fs::read(meta_path).expect("read message envelope"))
                        .expect("message envelope is JSON");
                let data = fs::read(meta_path.with_extension("eml")).expect("read message");
                let str_of = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
                Received {
                    mail_from: str_of(&meta["mail_from"]),
                    rcpt_to: meta["rcpt_to"]
                        .as_array()
                        .map(|a| a.iter().map(str_of).collect())
                        .unwrap_or_default(),
                    data,
                    session: meta["session"].as_u64().unwrap_or_default(),
                    tls: meta["tls"].as_bool().unwrap_or_default(),
                    auth_user: meta["auth_user"].as_str().map(str::to_owned),
                    received_at: meta["received_at"].as_f64().unwrap_or_default(),
                    pipelined: meta["pipelined"].as_bool().unwrap_or_default(),
                }
            })
            .collect()
    }

    /// How many accepted messages each (lower-cased) recipient got.
    pub fn rcpt_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for message in self.received() {
            for rcpt in message.rcpt_to {
                *counts.entry(rcpt.to_lowercase()).or_default() += 1;
            }
        }
        counts
    }

    /// Kills the server (every connection is reset, nothing listens on the
    /// port any more) and keeps what it received: a relay lost in mid-run.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The faults injected so far, in order.
    pub fn events(&self) -> Vec<FaultEvent> {
        let Ok(text) = fs::read_to_string(self.maildir().join("events.jsonl")) else {
            return Vec::new();
        };
        text.lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).expect("event is JSON");
                FaultEvent {
                    event: v["event"].as_str().unwrap_or_default().to_owned(),
                    addr: v["addr"].as_str().unwrap_or_default().to_owned(),
                    session: v["session"].as_u64().unwrap_or_default(),
                }
            })
            .collect()
    }

    /// The server's log (stderr) so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// An `[smtp]` table for a campaign file that sends to this server. The
    /// password itself is never in it: set `password_env` in the command's
    /// environment.
    pub fn campaign_smtp_table(&self, password_env: &str) -> String {
        let tls = if self.options.implicit_tls {
            "tls"
        } else if self.options.starttls {
            "starttls"
        } else {
            "none"
        };
        let mut table = format!(
            "[smtp]\nhost = \"{}\"\nport = {}\ntls = \"{tls}\"\n",
            self.host(),
            self.port
        );
        if tls != "none" {
            // TOML basic strings: escape backslashes and quotes in the path.
            let ca = self.ca_cert_path().display().to_string();
            let ca = ca.replace('\\', "\\\\").replace('"', "\\\"");
            table.push_str(&format!("ca_file = \"{ca}\"\n"));
        }
        if let Some((user, _)) = &self.options.auth {
            table.push_str(&format!(
                "username = \"{user}\"\npassword_env = \"{password_env}\"\n"
            ));
        }
        table
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- test SMTP server log (last {} lines) ---", tail.len());
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// Where `scripts/setup-test-deps.sh` put the certificates.
pub fn test_certs_dir() -> PathBuf {
    match std::env::var_os("TEST_CERTS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-certs"),
    }
}
