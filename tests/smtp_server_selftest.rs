//! Proves the test SMTP server (tests/smtp/) does what the send tests rely
//! on: STARTTLS with the generated CA, AUTH, each injected fault, and a
//! faithful record of what it received. Two clients: lettre with rustls
//! (what mailgate sends with, so the certificates are proven to suit it),
//! and Python's smtplib (tests/smtp/selftest.py) for what lettre cannot be
//! made to do — AUTH before STARTTLS, one attempt per address in bulk. The
//! server is driven through the same Rust helper the send tests use.

mod smtp;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use smtp::{FaultClass, SmtpOptions, SmtpServer};

/// Runs one scenario of selftest.py against `server`; returns its stdout.
fn client(server: &SmtpServer, scenario: &str, args: &[&str]) -> String {
    let python = std::env::var("MAILGATE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/selftest.py");
    let output = Command::new(python)
        .arg(script)
        .arg(scenario)
        .args(["--port", &server.port().to_string()])
        .args(["--ca", &server.ca_cert_path().display().to_string()])
        .args(args)
        .output()
        .expect("run tests/smtp/selftest.py");
    assert!(
        output.status.success(),
        "selftest.py {scenario} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[test]
fn starttls_auth_faults_and_envelopes() {
    let server = SmtpServer::start(
        SmtpOptions::new()
            .starttls()
            .auth("mailer", "s3cret")
            .fail_451_addrs(&["Temp@Example.nl"])
            .fail_550_addrs(&["perm@example.nl"])
            .drop_mid_data_addrs(&["drop@example.nl"]),
    );
    assert_eq!(
        server.fault_class("temp@example.nl"),
        Some(FaultClass::Fail451)
    );

    client(
        &server,
        "protocol",
        &[
            "--user",
            "mailer",
            "--password",
            "s3cret",
            "--ok",
            "ok@example.nl",
            "--temp",
            "temp@example.nl",
            "--perm",
            "perm@example.nl",
            "--drop",
            "drop@example.nl",
        ],
    );

    let received = server.received();
    let rcpts: Vec<&str> = received.iter().map(|m| m.rcpt_to[0].as_str()).collect();
    // 451 and drop only on the first attempt; the 550 address never.
    assert_eq!(
        rcpts,
        ["ok@example.nl", "temp@example.nl", "drop@example.nl"]
    );
    for message in &received {
        assert_eq!(message.mail_from, "nieuwsbrief@shop.example");
        assert_eq!(message.rcpt_to.len(), 1);
        assert!(message.tls, "stored as received over TLS");
        assert_eq!(message.auth_user.as_deref(), Some("mailer"));
        let text = message.text();
        assert!(
            text.contains(&format!("To: {}", message.rcpt_to[0])),
            "{text}"
        );
        assert!(text.contains("Subject: selftest"), "{text}");
        // Dot-stuffing is undone: the data is the message as the client meant it.
        assert!(text.contains("\r\n.leading dot survives\r\n"), "{text}");
    }
    // The retried drop came over a new connection.
    assert_ne!(received[1].session, received[2].session);

    let events: Vec<(String, String)> = server
        .events()
        .into_iter()
        .map(|e| (e.event, e.addr))
        .collect();
    assert_eq!(
        events,
        [
            ("451".into(), "temp@example.nl".into()),
            ("550".into(), "perm@example.nl".into()),
            ("550".into(), "perm@example.nl".into()),
            ("drop".into(), "drop@example.nl".into()),
        ]
    );
}

#[test]
fn fault_fractions_follow_the_predicted_classes() {
    let options = SmtpOptions::new()
        .starttls()
        .auth("mailer", "s3cret")
        .seed(42)
        .fail_550(0.1)
        .fail_451(0.15)
        .drop_mid_data(0.1);
    let addrs: Vec<String> = (0..120).map(|i| format!("user{i}@example.nl")).collect();
    let predicted: BTreeMap<&str, Option<FaultClass>> = addrs
        .iter()
        .map(|a| (a.as_str(), options.fault_class(a)))
        .collect();
    // The fractions are roughly honoured, and every class occurs.
    for (class, fraction) in [
        (FaultClass::Fail550, 0.1),
        (FaultClass::Fail451, 0.15),
        (FaultClass::DropMidData, 0.1),
    ] {
        let n = predicted.values().filter(|c| **c == Some(class)).count();
        let expected = fraction * addrs.len() as f64;
        assert!(
            n > 0 && (n as f64 - expected).abs() < expected,
            "{class:?}: {n} of {} addresses, expected about {expected}",
            addrs.len()
        );
    }

    let server = SmtpServer::start(options);
    let mut args = vec!["--user", "mailer", "--password", "s3cret"];
    args.extend(addrs.iter().map(String::as_str));
    let out: serde_json::Value =
        serde_json::from_str(&client(&server, "outcomes", &args)).expect("JSON from outcomes");

    for addr in &addrs {
        let (first, second) = match predicted[addr.as_str()] {
            None => ("accepted", "accepted"),
            Some(FaultClass::Fail550) => ("550", "550"),
            Some(FaultClass::Fail451) => ("451", "accepted"),
            Some(FaultClass::DropMidData) => ("dropped", "accepted"),
        };
        assert_eq!(out["first"][addr], first, "{addr}, first attempt");
        assert_eq!(out["second"][addr], second, "{addr}, second attempt");
    }

    // Every accepted attempt, and only those, was stored.
    let counts = server.rcpt_counts();
    for addr in &addrs {
        let want = match predicted[addr.as_str()] {
            None => 2,
            Some(FaultClass::Fail550) => 0,
            Some(FaultClass::Fail451 | FaultClass::DropMidData) => 1,
        };
        assert_eq!(counts.get(addr).copied().unwrap_or(0), want, "{addr}");
    }
}

#[test]
fn rejected_sender_gets_550() {
    let server = SmtpServer::start(SmtpOptions::new().reject_sender());
    client(&server, "reject-sender", &[]);
    assert!(server.received().is_empty());
    assert_eq!(server.events()[0].event, "reject-sender");
}

#[test]
fn implicit_tls_is_verified_with_the_test_ca() {
    let server = SmtpServer::start(SmtpOptions::new().implicit_tls());
    client(&server, "implicit-tls", &["--to", "jan@example.nl"]);
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert!(received[0].tls);
    assert_eq!(received[0].rcpt_to, ["jan@example.nl"]);
}

#[test]
fn campaign_smtp_table_names_port_and_ca() {
    let server = SmtpServer::start(SmtpOptions::new().starttls().auth("mailer", "pw"));
    let table = server.campaign_smtp_table("MAILGATE_SMTP_PASSWORD");
    assert!(table.contains(&format!("port = {}", server.port())));
    assert!(table.contains("tls = \"starttls\""));
    assert!(table.contains("ca.pem"));
    assert!(table.contains("password_env = \"MAILGATE_SMTP_PASSWORD\""));
    assert!(
        !table.contains("pw\""),
        "the password never goes in the table"
    );
}

// --- The same server through lettre, the SMTP client mailgate sends with ----

mod with_lettre {
    use std::time::Duration;

    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    use lettre::{Message, SmtpTransport, Transport};

    use super::smtp::{SmtpOptions, SmtpServer};

    /// A transport to the test server that trusts its CA and verifies the
    /// certificate for `tls_name` (rustls, as mailgate uses it).
    fn transport(server: &SmtpServer, tls_name: &str, trust_test_ca: bool) -> SmtpTransport {
        let mut tls = TlsParameters::builder(tls_name.to_owned());
        if trust_test_ca {
            let pem = std::fs::read(server.ca_cert_path()).expect("read the test CA");
            tls = tls.add_root_certificate(Certificate::from_pem(&pem).expect("a PEM CA"));
        }
        SmtpTransport::builder_dangerous(server.host())
            .port(server.port())
            .tls(Tls::Required(tls.build_rustls().expect("TLS parameters")))
            .credentials(Credentials::new("mailer".into(), "s3cret".into()))
            .timeout(Some(Duration::from_secs(10)))
            .build()
    }

    fn message(to: &str) -> Message {
        Message::builder()
            .from("Tuincentrum <nieuwsbrief@shop.example>".parse().unwrap())
            .to(to.parse().unwrap())
            .subject("lettre selftest")
            .body(format!("Hello {to}\n"))
            .unwrap()
    }

    fn server() -> SmtpServer {
        SmtpServer::start(
            SmtpOptions::new()
                .require_starttls()
                .auth("mailer", "s3cret")
                .fail_451_addrs(&["temp@example.nl"])
                .fail_550_addrs(&["perm@example.nl"])
                .drop_mid_data_addrs(&["drop@example.nl"]),
        )
    }

    #[test]
    fn starttls_auth_and_every_fault() {
        let server = server();
        for tls_name in ["localhost", "127.0.0.1"] {
            let mailer = transport(&server, tls_name, true);
            assert!(mailer.test_connection().expect("connect"), "{tls_name}");
        }
        let mailer = transport(&server, "localhost", true);

        let reply = mailer.send(&message("ok@example.nl")).expect("accepted");
        assert_eq!(u16::from(reply.code()), 250);

        let err = mailer.send(&message("temp@example.nl")).unwrap_err();
        assert!(err.is_transient(), "{err}");
        assert_eq!(err.status().map(u16::from), Some(451));
        mailer
            .send(&message("temp@example.nl"))
            .expect("451 address accepted on retry");

        for _ in 0..2 {
            let err = mailer.send(&message("perm@example.nl")).unwrap_err();
            assert!(err.is_permanent(), "{err}");
            assert_eq!(err.status().map(u16::from), Some(550));
        }

        let err = mailer.send(&message("drop@example.nl")).unwrap_err();
        assert!(
            !err.is_permanent() && !err.is_transient(),
            "a drop has no reply: {err}"
        );
        // The pool discards the dead connection; the retry gets a new one.
        mailer
            .send(&message("drop@example.nl"))
            .expect("drop address accepted on retry");

        let received = server.received();
        let rcpts: Vec<&str> = received.iter().map(|m| m.rcpt_to[0].as_str()).collect();
        assert_eq!(
            rcpts,
            ["ok@example.nl", "temp@example.nl", "drop@example.nl"]
        );
        for m in &received {
            assert!(m.tls);
            assert_eq!(m.auth_user.as_deref(), Some("mailer"));
            assert_eq!(m.mail_from, "nieuwsbrief@shop.example");
            assert!(
                m.text().contains("Subject: lettre selftest"),
                "{}",
                m.text()
            );
        }
        // The pool reused the first message's connection for the next
        // attempt (which got the 451); lettre closes a connection after any
        // error reply, so each retry came over a fresh one.
        let events = server.events();
        assert_eq!(
            (events[0].event.as_str(), events[0].session),
            ("451", received[0].session)
        );
        assert_ne!(received[1].session, received[0].session);
        assert_ne!(received[2].session, received[1].session);
    }

    #[test]
    fn the_certificate_is_verified() {
        let server = server();
        let err = transport(&server, "localhost", false)
            .send(&message("ok@example.nl"))
            .unwrap_err();
        assert!(
            err.is_tls() || err.to_string().contains("certificate"),
            "{err}"
        );
        let err = transport(&server, "mail.example.nl", true)
            .send(&message("ok@example.nl"))
            .unwrap_err();
        assert!(
            err.to_string().to_lowercase().contains("certificate"),
            "{err}"
        );
        assert!(server.received().is_empty());
    }

    #[test]
    fn a_wrong_password_is_refused() {
        let server = server();
        let mailer = SmtpTransport::builder_dangerous(server.host())
            .port(server.port())
            .tls(Tls::Required(
                TlsParameters::builder("localhost".into())
                    .add_root_certificate(
                        Certificate::from_pem(&std::fs::read(server.ca_cert_path()).unwrap())
                            .unwrap(),
                    )
                    .build_rustls()
                    .unwrap(),
            ))
            .credentials(Credentials::new("mailer".into(), "wrong".into()))
            .build();
        let err = mailer.send(&message("ok@example.nl")).unwrap_err();
        assert!(err.is_permanent(), "{err}");
        assert_eq!(err.status().map(u16::from), Some(535));
        assert!(server.received().is_empty());
    }
}
