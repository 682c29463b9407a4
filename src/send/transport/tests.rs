//! The transport's own tests: the DATA payload byte for byte as lettre
//! writes it, and the refusal of clear text to another machine. The SMTP
//! conversation itself is tested end to end in `tests/send.rs`, against a
//! real server.

use super::{Connector, data_payload};
use crate::campaign::{Smtp, Tls};

fn smtp(host: &str, tls: Tls) -> Smtp {
    Smtp {
        host: host.to_owned(),
        port: 2525,
        tls,
        username: None,
        password_env: None,
        ca_file: None,
        connections: 1,
        rate: None,
        tls_at: None,
        password_at: None,
    }
}

/// `send` refuses what `insecure-transport` reports (the same test,
/// `Smtp::is_clear_text_off_machine`), unless forced.
#[test]
fn clear_text_to_another_machine_is_refused_unless_forced() {
    let remote = smtp("smtp.example.nl", Tls::None);
    assert!(remote.is_clear_text_off_machine());
    let refused = Connector::new(&remote, false, None).err().expect("refused");
    assert!(refused.what.contains("clear text"), "{}", refused.what);
    assert!(Connector::new(&remote, true, None).is_ok());
    for host in ["127.0.0.1", "localhost", "[::1]"] {
        let local = smtp(host, Tls::None);
        assert!(!local.is_clear_text_off_machine(), "{host}");
        assert!(Connector::new(&local, false, None).is_ok(), "{host}");
    }
    assert!(!smtp("smtp.example.nl", Tls::Starttls).is_clear_text_off_machine());
}

#[test]
fn data_payload_stuffs_dots_like_lettre_and_ends_the_data() {
    let cases: &[(&str, &str)] = &[
        ("", "\r\n.\r\n"),
        ("Hoi\r\n", "Hoi\r\n\r\n.\r\n"),
        (".start", "..start\r\n.\r\n"),
        ("a\r\n.b\r\n..c", "a\r\n..b\r\n...c\r\n.\r\n"),
        ("a.b\r\nc.", "a.b\r\nc.\r\n.\r\n"),
        // Only CRLF starts a line, as in lettre's codec.
        ("a\n.b", "a\n.b\r\n.\r\n"),
        ("a\r.b", "a\r.b\r\n.\r\n"),
        ("a\r\r\n.b", "a\r\r\n..b\r\n.\r\n"),
        ("Zoë\r\n.é", "Zoë\r\n..é\r\n.\r\n"),
    ];
    for (message, wire) in cases {
        assert_eq!(
            data_payload(message.as_bytes()).as_deref(),
            Some(*wire),
            "{message:?}"
        );
    }
    assert_eq!(data_payload(b"caf\xe9"), None, "not UTF-8: lettre sends it");
}

/// lettre 0.11's `ClientCodec` plus the end marker, transcribed state for
/// state: what `SmtpConnection::message` puts on the wire.
fn lettre_wire(message: &[u8]) -> Vec<u8> {
    // lettre's MiddleOfLine, StartingNewLine and StartOfNewLine.
    #[derive(Clone, Copy)]
    enum Codec {
        Middle,
        AfterCr,
        LineStart,
    }
    let mut out = Vec::new();
    let mut status = Codec::LineStart;
    for &b in message {
        out.push(b);
        status = match (b, status) {
            (b'\r', _) => Codec::AfterCr,
            (b'\n', Codec::AfterCr) => Codec::LineStart,
            (_, Codec::AfterCr) => Codec::Middle,
            (b'.', Codec::LineStart) => {
                out.push(b'.');
                Codec::Middle
            }
            (_, Codec::LineStart) => Codec::Middle,
            (_, status) => status,
        };
    }
    out.extend_from_slice(b"\r\n.\r\n");
    out
}

#[test]
fn data_payload_is_byte_for_byte_what_lettre_writes() {
    // Every string of up to 7 of the bytes that matter.
    let alphabet = b"\r\n.a";
    let mut checked = 0;
    for len in 0..=7u32 {
        for mut n in 0..alphabet.len().pow(len) {
            let mut message = Vec::new();
            for _ in 0..len {
                message.push(alphabet[n % alphabet.len()]);
                n /= alphabet.len();
            }
            let wire = data_payload(&message).expect("ASCII");
            assert_eq!(wire.as_bytes(), lettre_wire(&message), "{message:?}");
            checked += 1;
        }
    }
    assert_eq!(checked, 21_845);
}
