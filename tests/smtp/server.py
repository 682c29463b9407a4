#!/usr/bin/env python3
"""A real SMTP server for mailgate's send tests: aiosmtpd with fault injection.

We did not write the SMTP implementation (aiosmtpd, installed by
scripts/setup-test-deps.sh); this file only configures it and adds the
faults a careful sender must survive.

    python3 tests/smtp/server.py --port 0 --maildir DIR \
        [--starttls CERT KEY [--require-starttls]] [--implicit-tls CERT KEY] \
        [--auth USER:PASSWORD [--auth-plaintext]] \
        [--seed N] [--fail-451 F] [--fail-550 F] [--drop-mid-data F] \
        [--fail-451-addrs A,B] [--fail-550-addrs A,B] [--drop-mid-data-addrs A,B] \
        [--reject-sender] [--data-delay SECONDS] [--pipelining] [--no-auth] [--exit-on-stdin-eof]

The first line on stdout is `READY <port>`; everything else goes to stderr.
SIGTERM and SIGINT stop the server.

Maildir: every accepted message is stored as DIR/NNNNNN.eml (the bytes as
received) with DIR/NNNNNN.json beside it: {"mail_from", "rcpt_to", "session",
"tls", "auth_user", "received_at", "pipelined"}; `pipelined` says whether more
commands were already waiting when MAIL was read (the client pipelined). The .json is renamed into place last, so a
reader that lists *.json sees only complete messages. A message is stored
as soon as the end of its DATA is read, before the 250 reply is sent (and
--data-delay waits between the two): once a client has its 250, the file
exists, and a client that dies while waiting for it still had its message
stored.
DIR/events.jsonl logs every fault injected ({"event": "451"|"550"|"drop"|
"reject-sender", "addr": ..., "session": ...}).

Faults. Each address (lower-cased) falls in at most one fault class:
  fail-550       RCPT is answered 550, every time;
  fail-451       RCPT is answered 451 on the first attempt for that address
                 (across all connections), accepted after that;
  drop-mid-data  the first DATA transaction that includes the address has its
                 connection aborted after the first line of message data, with
                 no reply and nothing stored; later ones are accepted.
An explicit --*-addrs list wins. Otherwise u = fault_point(seed, address) in
[0, 1) picks the class: u < f550 is fail-550, then the next f451 is
fail-451, then the next fdrop is drop-mid-data. fault_point is FNV-1a 64 of
"<seed>:<address>" (UTF-8) finished with the splitmix64 mixer, top 53 bits
over 2**53; tests/smtp/mod.rs computes the same, so tests can predict the
classes. `server.py --classify ADDR...` prints them as JSON.
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import sys
import threading
import time

MASK64 = (1 << 64) - 1
CLASSES = ("fail-550", "fail-451", "drop-mid-data")


def fault_point(seed: int, address: str) -> float:
    """A stable pseudo-random number in [0, 1) for an address."""
    h = 0xCBF29CE484222325
    for byte in f"{seed}:{address.lower()}".encode("utf-8"):
        h ^= byte
        h = (h * 0x100000001B3) & MASK64
    # splitmix64 finaliser: FNV alone mixes the last bytes poorly into the
    # high bits, and addresses often differ only there (user1@, user2@).
    h ^= h >> 30
    h = (h * 0xBF58476D1CE4E5B9) & MASK64
    h ^= h >> 27
    h = (h * 0x94D049BB133111EB) & MASK64
    h ^= h >> 31
    return (h >> 11) / float(1 << 53)


class FaultPlan:
    def __init__(self, seed, fractions, explicit):
        self.seed = seed
        # Cumulative bounds, summed in the same order as tests/smtp/mod.rs.
        self.bounds = []
        total = 0.0
        for name in CLASSES:
            total = total + fractions[name]
            self.bounds.append((total, name))
        if total > 1.0:
            raise SystemExit("fault fractions add up to more than 1")
        self.explicit = {}
        for name in CLASSES:
            for addr in explicit[name]:
                key = addr.strip().lower()
                if key in self.explicit and self.explicit[key] != name:
                    raise SystemExit(f"{addr} is in two fault lists")
                self.explicit[key] = name

    def classify(self, address):
        key = address.strip().lower()
        if key in self.explicit:
            return self.explicit[key]
        u = fault_point(self.seed, key)
        for bound, name in self.bounds:
            if u < bound:
                return name
        return None


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--maildir")
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--auth", metavar="USER:PASSWORD")
    p.add_argument("--auth-plaintext", action="store_true",
                   help="offer AUTH without TLS too (default: only after TLS)")
    p.add_argument("--seed", type=int, default=0)
    for name in CLASSES:
        p.add_argument(f"--{name}", type=float, default=0.0, metavar="FRACTION")
        p.add_argument(f"--{name}-addrs", default="", metavar="A,B,...")
    p.add_argument("--reject-sender", action="store_true",
                   help="answer every MAIL FROM with 550")
    p.add_argument("--data-delay", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long after storing a message before replying: the "
                        "window in which a client that dies has a message accepted "
                        "without seeing the reply")
    p.add_argument("--no-auth", action="store_true",
                   help="offer no AUTH in the EHLO reply (a relay that needs no login)")
    p.add_argument("--pipelining", action="store_true",
                   help="offer PIPELINING (RFC 2920) in the EHLO reply; aiosmtpd reads "
                        "commands in order from its buffer either way")
    p.add_argument("--smtputf8", action="store_true",
                   help="offer SMTPUTF8 (RFC 6531) in the EHLO reply and accept UTF-8 addresses")
    p.add_argument("--exit-on-stdin-eof", action="store_true",
                   help="stop when stdin closes (the test process died)")
    p.add_argument("--classify", nargs="+", metavar="ADDR",
                   help="print each address's fault class as JSON and exit")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    plan = FaultPlan(
        args.seed,
        {name: getattr(args, name.replace("-", "_")) for name in CLASSES},
        {name: [a for a in getattr(args, name.replace("-", "_") + "_addrs").split(",") if a.strip()]
         for name in CLASSES},
    )
    if args.classify:
        print(json.dumps({a: plan.classify(a) for a in args.classify}))
        return 0

    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        from aiosmtpd.smtp import SMTP, AuthResult
    except ImportError:
        print("aiosmtpd is not installed: run scripts/setup-test-deps.sh", file=sys.stderr)
        return 3

    # aiosmtpd logs every command line at INFO ("mail.log"): too much for a
    # test sending thousands of messages, so only with --verbose.
    logging.getLogger("mail.log").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    log = logging.getLogger("mailgate-test-smtp")
    maildir = args.maildir
    if maildir:
        os.makedirs(maildir, exist_ok=True)
    counters = {"message": 0, "session": 0}
    seen_451 = set()
    dropped = set()

    def record_event(event, addr, session_id):
        log.info("fault %s for %s (session %s)", event, addr, session_id)
        if maildir:
            with open(os.path.join(maildir, "events.jsonl"), "a") as f:
                f.write(json.dumps({"event": event, "addr": addr, "session": session_id}) + "\n")

    def store(envelope, session):
        counters["message"] += 1
        n = counters["message"]
        if not maildir:
            return n
        base = os.path.join(maildir, f"{n:06d}")
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_to": list(envelope.rcpt_tos),
            "session": session.mailgate_id,
            "tls": session.mailgate_tls,
            "auth_user": session.mailgate_user,
            "received_at": time.time(),
            "pipelined": session.mailgate_pipelined,
        }
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.replace(base + ".eml.tmp", base + ".eml")
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f)
        os.replace(base + ".json.tmp", base + ".json")
        return n

    class Handler:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            session.host_name = hostname
            if args.pipelining:
                responses.insert(-1, "250-PIPELINING")  # before the last line, "250 HELP"
            if args.no_auth:
                responses = [r for r in responses if not r[4:].upper().startswith("AUTH")]
            return responses

        async def handle_MAIL(self, server, session, envelope, address, mail_options):
            if args.reject_sender:
                record_event("reject-sender", address, session.mailgate_id)
                return "550 5.7.1 Sender address rejected (mailgate test fault)"
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
            return "250 2.1.0 OK"

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            key = address.lower()
            fault = plan.classify(key)
            if fault == "fail-550":
                record_event("550", address, session.mailgate_id)
                return "550 5.1.1 Mailbox unavailable (mailgate test fault)"
            if fault == "fail-451" and key not in seen_451:
                seen_451.add(key)
                record_event("451", address, session.mailgate_id)
                return "451 4.3.0 Temporary failure, try again later (mailgate test fault)"
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
            return "250 2.1.5 OK"

        async def handle_DATA(self, server, session, envelope):
            # Stored as soon as the end of DATA is read, before anything is
            # awaited (aiosmtpd cancels a session's handler when its client
            # goes away), the way an MTA queues a message and then replies.
            n = store(envelope, session)
            log.info("stored message %06d from %s to %s", n, envelope.mail_from,
                     ",".join(envelope.rcpt_tos))
            if args.data_delay:
                await asyncio.sleep(args.data_delay)
            return f"250 2.0.0 OK queued as {n:06d}"

    class FaultySMTP(SMTP):
        """aiosmtpd's SMTP session with a connection drop in the middle of DATA."""

        def connection_made(self, transport):
            # Called again after STARTTLS with the TLS transport and a fresh
            # session (RFC 3207 4.2): keep the connection's number, reset the rest.
            if not hasattr(self, "mailgate_id"):
                counters["session"] += 1
                self.mailgate_id = counters["session"]
            super().connection_made(transport)
            self.session.mailgate_id = self.mailgate_id
            self.session.mailgate_user = None
            self.session.mailgate_tls = transport.get_extra_info("ssl_object") is not None
            self.session.mailgate_pipelined = False

        async def smtp_MAIL(self, arg):
            # Commands behind MAIL already in the buffer: the client sent them
            # without waiting for MAIL's reply.
            self.session.mailgate_pipelined = len(self._reader._buffer) > 0
            return await super().smtp_MAIL(arg)

        async def smtp_DATA(self, arg):
            envelope = self.envelope
            victims = [a for a in (envelope.rcpt_tos if envelope else [])
                       if plan.classify(a) == "drop-mid-data" and a.lower() not in dropped]
            if not victims or arg:
                return await super().smtp_DATA(arg)
            if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
                return
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            try:
                await asyncio.wait_for(self._reader.readuntil(b"\r\n"), timeout=10)
            except Exception:  # the client went away first: still a drop
                pass
            for a in victims:
                dropped.add(a.lower())
                record_event("drop", a, self.mailgate_id)
            # abort(): no reply, nothing stored, buffered data discarded, as
            # when a relay crashes or a NAT forgets the connection.
            self.transport.abort()

    def authenticator(server, session, envelope, mechanism, auth_data):
        want_user, _, want_password = args.auth.partition(":")
        user = auth_data.login.decode("utf-8", "replace")
        ok = user == want_user and auth_data.password.decode("utf-8", "replace") == want_password
        log.info("AUTH %s as %s: %s", mechanism, user, "ok" if ok else "refused")
        if ok:
            session.mailgate_user = user
        return AuthResult(success=ok, handled=False)

    def tls_context(cert, key):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        return ctx

    smtp_kwargs = {"hostname": "localhost", "ident": "mailgate test SMTP (aiosmtpd)"}
    if args.smtputf8:
        smtp_kwargs["enable_SMTPUTF8"] = True
    if args.starttls:
        smtp_kwargs["tls_context"] = tls_context(*args.starttls)
        smtp_kwargs["require_starttls"] = args.require_starttls
    if args.auth:
        smtp_kwargs["authenticator"] = authenticator
        smtp_kwargs["auth_required"] = True
        smtp_kwargs["auth_require_tls"] = not args.auth_plaintext
    else:
        smtp_kwargs["auth_require_tls"] = False
    server_ssl = tls_context(*args.implicit_tls) if args.implicit_tls else None

    async def serve():
        loop = asyncio.get_running_loop()
        stop = loop.create_future()

        def request_stop(why):
            if not stop.done():
                log.info("stopping: %s", why)
                stop.set_result(None)

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, request_stop, sig.name)
        if args.exit_on_stdin_eof:
            # A thread, not loop.add_reader: that cannot watch /dev/null or files.
            def watch_stdin():
                while os.read(sys.stdin.fileno(), 4096):
                    pass
                loop.call_soon_threadsafe(request_stop, "stdin closed")
            threading.Thread(target=watch_stdin, daemon=True).start()

        server = await loop.create_server(
            lambda: FaultySMTP(Handler(), **smtp_kwargs),
            host=args.host, port=args.port, ssl=server_ssl,
        )
        port = server.sockets[0].getsockname()[1]
        log.info("listening on %s:%d", args.host, port)
        print(f"READY {port}", flush=True)
        await stop
        server.close()
        await server.wait_closed()

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
