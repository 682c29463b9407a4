#!/usr/bin/env python3
"""The client side of tests/smtp_server_selftest.rs, with Python's smtplib.

The Rust test starts tests/smtp/server.py through tests/smtp/mod.rs, runs one
scenario of this script against it, and then checks what the server recorded.
Each scenario asserts the protocol behaviour it sees and exits non-zero (with
a traceback) when something is off; `outcomes` prints JSON for the Rust side.

    selftest.py protocol --port P --ca CA --user U --password PW \
        --ok A --temp B --perm C --drop D
    selftest.py outcomes --port P --ca CA --user U --password PW ADDR...
    selftest.py reject-sender --port P
    selftest.py implicit-tls --port P --ca CA --to A
"""

import argparse
import json
import smtplib
import ssl
import sys

SENDER = "nieuwsbrief@shop.example"


def message(to, subject="selftest"):
    return (f"From: {SENDER}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{to}.selftest@mailgate.test>\r\n\r\n"
            f"Hello {to}\r\n.leading dot survives\r\n").encode()


def connect(port, ca, user, password, host="localhost"):
    s = smtplib.SMTP(host, port, timeout=10)
    s.starttls(context=ssl.create_default_context(cafile=ca))
    s.login(user, password)
    return s


def attempt(s, to):
    """One transaction; the outcome as the sender would classify it."""
    try:
        s.sendmail(SENDER, [to], message(to))
        return "accepted"
    except smtplib.SMTPRecipientsRefused as e:
        return str(e.recipients[to][0])
    except (smtplib.SMTPServerDisconnected, ConnectionError):
        return "dropped"


def protocol(a):
    # 1. Before STARTTLS: no AUTH offered (credentials never go in clear),
    #    and MAIL is refused until authenticated.
    s = smtplib.SMTP("localhost", a.port, timeout=10)
    s.ehlo()
    assert s.has_extn("starttls"), s.esmtp_features
    assert not s.has_extn("auth"), "AUTH offered before TLS"
    code, _ = s.mail(SENDER)
    assert code == 530, f"MAIL before AUTH answered {code}"
    s.quit()

    # 2. The certificate is not trusted without the test CA...
    s = smtplib.SMTP("localhost", a.port, timeout=10)
    try:
        s.starttls(context=ssl.create_default_context())
        raise AssertionError("STARTTLS verified without the test CA")
    except ssl.SSLCertVerificationError:
        pass
    finally:
        s.close()

    # 3. ...and is with it, for both names it is issued to.
    for host in ("localhost", "127.0.0.1"):
        s = smtplib.SMTP(host, a.port, timeout=10)
        s.starttls(context=ssl.create_default_context(cafile=a.ca))
        s.ehlo()
        assert s.has_extn("auth"), "AUTH not offered after STARTTLS"
        assert set(s.esmtp_features["auth"].split()) >= {"PLAIN", "LOGIN"}
        s.quit()

    # 4. A wrong password is refused with 535; the right one is accepted.
    s = smtplib.SMTP("localhost", a.port, timeout=10)
    s.starttls(context=ssl.create_default_context(cafile=a.ca))
    try:
        s.login(a.user, a.password + "-wrong")
        raise AssertionError("wrong password accepted")
    except smtplib.SMTPAuthenticationError as e:
        assert e.smtp_code == 535, e
    s.close()
    s = connect(a.port, a.ca, a.user, a.password)

    # 5. Faults, on one authenticated connection.
    assert attempt(s, a.ok) == "accepted"
    assert attempt(s, a.temp) == "451"
    assert attempt(s, a.temp) == "accepted", "451 address refused on retry"
    assert attempt(s, a.perm) == "550"
    assert attempt(s, a.perm) == "550", "550 address accepted on retry"
    assert attempt(s, a.drop) == "dropped"
    s = connect(a.port, a.ca, a.user, a.password)  # a fresh connection, as a sender would
    assert attempt(s, a.drop) == "accepted", "drop address refused on retry"
    s.quit()
    print("protocol: ok")


def outcomes(a):
    """First and second attempt per address, reconnecting after a drop."""
    result = {"first": {}, "second": {}}
    s = connect(a.port, a.ca, a.user, a.password)
    for round_name in ("first", "second"):
        for to in a.addrs:
            outcome = attempt(s, to)
            result[round_name][to] = outcome
            if outcome == "dropped":
                s = connect(a.port, a.ca, a.user, a.password)
    s.quit()
    print(json.dumps(result))


def reject_sender(a):
    s = smtplib.SMTP("127.0.0.1", a.port, timeout=10)
    s.ehlo()
    code, reply = s.mail(SENDER)
    assert code == 550, (code, reply)
    try:
        s.sendmail(SENDER, ["jan@example.nl"], message("jan@example.nl"))
        raise AssertionError("message accepted from a rejected sender")
    except smtplib.SMTPSenderRefused as e:
        assert e.smtp_code == 550, e
    s.quit()
    print("reject-sender: ok")


def implicit_tls(a):
    s = smtplib.SMTP_SSL("localhost", a.port, timeout=10,
                         context=ssl.create_default_context(cafile=a.ca))
    s.sendmail(SENDER, [a.to], message(a.to))
    s.quit()
    print("implicit-tls: ok")


def main(argv):
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="scenario", required=True)
    for name in ("protocol", "outcomes", "reject-sender", "implicit-tls"):
        q = sub.add_parser(name)
        q.add_argument("--port", type=int, required=True)
        q.add_argument("--ca")
        q.add_argument("--user")
        q.add_argument("--password")
        if name == "protocol":
            for role in ("ok", "temp", "perm", "drop"):
                q.add_argument(f"--{role}", required=True)
        if name == "outcomes":
            q.add_argument("addrs", nargs="+")
        if name == "implicit-tls":
            q.add_argument("--to", required=True)
    a = p.parse_args(argv)
    {"protocol": protocol, "outcomes": outcomes,
     "reject-sender": reject_sender, "implicit-tls": implicit_tls}[a.scenario](a)


if __name__ == "__main__":
    main(sys.argv[1:])
