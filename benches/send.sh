#!/usr/bin/env bash
# Send benchmark (issue 5): how fast `mailgate send` hands a mailing to a
# relay, against the tool a user would otherwise pick, in one run.
#
#   bash benches/send.sh
#
# On a fresh Debian machine, as root. It installs what it needs (Postfix's
# smtp-sink, Python's mailmerge 2.3), idempotently, then:
#
#   1. starts smtp-sink on 127.0.0.1 on a free port, counting messages; it is
#      a stand-alone program: no Postfix daemon runs, nothing is delivered;
#   2. generates a list of MAILGATE_N (100,000) sendable recipients (consent
#      with date and source, valid addresses, first names), a draft
#      (multipart/alternative, text + HTML, first_name and unsubscribe_url)
#      and a campaign with 4 connections, no rate cap, the journal on;
#   3. times `mailgate send campaign.toml --yes --format json` (release
#      build), and checks the JSON summary (sent = N), the journal (N
#      attempts, N sent) and the sink's count (exactly N more messages);
#   4. times mailmerge 2.3 sending MAILMERGE_N (10,000) messages with the same
#      text and HTML to the same sink, and checks the sink's count;
#   5. prints a table and whether issue 5's targets hold (>= 5,000 messages/s
#      for mailgate, >= 10x mailmerge's rate), and writes the raw figures to
#      target/bench/send.txt.
#
# Exit status: 0 when every count checks out (targets met or not; set
# BENCH_STRICT=1 to fail on a missed target too), 1 when a count is wrong or
# a tool fails. Everything it writes is under target/bench/.
#
# Environment: MAILGATE_N, MAILMERGE_N, CONNECTIONS (default 4), PYTHON
# (default python3), SKIP_BUILD=1 to use the existing target/release/mailgate.
set -euo pipefail

MAILGATE_N=${MAILGATE_N:-100000}
MAILMERGE_N=${MAILMERGE_N:-10000}
CONNECTIONS=${CONNECTIONS:-4}
PYTHON=${PYTHON:-python3}
MAILMERGE_VERSION=2.3
TARGET_RATE=5000
TARGET_RATIO=10

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out_dir=$repo_root/target/bench
work=$out_dir/send
cd "$repo_root"

say() { echo "send-bench: $*" >&2; }
die() {
    say "FAILED: $*"
    exit 1
}

# --- What it needs -----------------------------------------------------------
# shellcheck source=scripts/install-lib.sh
source "$repo_root/scripts/install-lib.sh"

SMTP_SINK=/usr/sbin/smtp-sink
if [ ! -x "$SMTP_SINK" ]; then
    say "installing postfix (for smtp-sink), without configuration: no mail system is set up"
    echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
    apt_install postfix
fi

pip_pin mailmerge "$MAILMERGE_VERSION" mailmerge

if [ "${SKIP_BUILD:-}" != 1 ]; then
    say "building mailgate (release)"
    cargo build --release --locked --quiet --bin mailgate
fi
MAILGATE=$repo_root/target/release/mailgate
[ -x "$MAILGATE" ] || die "no $MAILGATE"

# --- Inputs ------------------------------------------------------------------
rm -rf "$work"
mkdir -p "$work/mailgate" "$work/mailmerge"

# One body for both tools: a short newsletter, text and HTML, personal.
# (Jinja syntax both understand; mailmerge's CSV has the same columns.)
TEXT_BODY='Beste {{ first_name }},

De lente komt eraan, en bij Tuincentrum De Linde staat de nieuwe collectie
tuinmeubelen klaar: loungesets van FSC-hout, parasols in zes kleuren en de
barbecues waar u vorig jaar naar vroeg. Tot en met zondag krijgt u 15% korting
op de hele collectie, in de winkel en online.

Kom langs aan de Lindelaan 12 in Veenendaal, of bekijk alles op
https://delinde.example/voorjaar

Met groene groet,
Tuincentrum De Linde B.V.
Lindelaan 12, 3901 AB Veenendaal

Geen nieuwsbrief meer? Afmelden: {{ unsubscribe_url }}'

HTML_BODY='<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Voorjaarsactie</title></head>
<body style="font-family: Arial, sans-serif; color: #222;">
<h1 style="color: #2e7d32;">Beste {{ first_name }}, de lente komt eraan</h1>
<p>Bij Tuincentrum De Linde staat de nieuwe collectie tuinmeubelen klaar:
loungesets van FSC-hout, parasols in zes kleuren en de barbecues waar u vorig
jaar naar vroeg. Tot en met zondag krijgt u <strong>15% korting</strong> op de
hele collectie, in de winkel en online.</p>
<p><a href="https://delinde.example/voorjaar">Bekijk de collectie</a></p>
<p>Met groene groet,<br>Tuincentrum De Linde B.V.<br>Lindelaan 12, 3901 AB Veenendaal</p>
<p style="font-size: 12px; color: #777;">Geen nieuwsbrief meer?
<a href="{{ unsubscribe_url }}">Afmelden</a></p>
</body></html>'

say "generating $MAILGATE_N recipients"
"$PYTHON" - "$work/mailgate/recipients.csv" "$MAILGATE_N" <<'PY'
import csv, random, sys
path, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(5)  # deterministic
first = ["Jeroen", "Zoë", "Ayşe", "Henk", "Marieke", "Daan", "Sanne", "Bram",
         "Fleur", "Joël", "Noëlle", "Thijs", "Lotte", "Sven", "Inge", "Renée"]
last = ["de Vries", "Jansen", "van der Meer", "Dekker", "Özdemir", "Bakker",
        "Visser", "Smit", "de Boer", "Mulder", "van Dijk", "Bos"]
domains = ["example.nl", "example.com", "example.org", "example.net"]
sources = ["https://delinde.example/nieuwsbrief (double opt-in)",
           "kassa Veenendaal, papieren formulier",
           "https://delinde.example/account (vinkje, bevestigd)"]
with open(path, "w", encoding="utf-8", newline="") as f:
    out = csv.writer(f, lineterminator="\n")
    out.writerow(["email", "first_name", "last_name", "consent_at", "consent_source"])
    for i in range(1, n + 1):
        fn, ln = rng.choice(first), rng.choice(last)
        local = f"{fn}.{ln}".lower().replace(" ", "")
        local = local.encode("ascii", "ignore").decode()
        out.writerow([f"{local}.{i}@{domains[i % len(domains)]}", fn, ln,
                      f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}", sources[i % len(sources)]])
PY

{
    printf 'From: Tuincentrum De Linde <nieuwsbrief@delinde.example>\r\n'
    printf 'To: nieuwsbrief@delinde.example\r\n'
    printf 'Subject: {{ first_name }}, de lente komt: 15%% korting op tuinmeubelen\r\n'
    printf 'MIME-Version: 1.0\r\n'
    printf 'Content-Type: multipart/alternative; boundary="lente"\r\n\r\n'
    printf -- '--lente\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
    printf '%s\n' "$TEXT_BODY" | sed 's/$/\r/'
    printf -- '--lente\r\nContent-Type: text/html; charset=utf-8\r\n\r\n'
    printf '%s\n' "$HTML_BODY" | sed 's/$/\r/'
    printf -- '--lente--\r\n'
} >"$work/mailgate/draft.eml"

# A free port on loopback for the sink.
PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat >"$work/mailgate/campaign.toml" <<TOML
[campaign]
name = "Send benchmark"
draft = "draft.eml"
recipients = "recipients.csv"
product = "garden-furniture"
sender = "Tuincentrum De Linde B.V."
postal_address = "Lindelaan 12, 3901 AB Veenendaal"
unsubscribe_url = "https://delinde.example/afmelden?e={{ email | urlencode }}"
jurisdiction = "nl"
today = "2027-03-01"

[products]
garden = ["garden-furniture", "parasols", "bbq"]

# smtp-sink on loopback: plain SMTP, no AUTH, no rate cap.
[smtp]
host = "127.0.0.1"
port = $PORT
tls = "none"
connections = $CONNECTIONS
TOML

# mailmerge: the same recipients (the first MAILMERGE_N), the same bodies.
head -n "$((MAILMERGE_N + 1))" "$work/mailgate/recipients.csv" >"$work/mailmerge/mailmerge_database.csv"
{
    echo 'TO: {{ email }}'
    echo 'SUBJECT: {{ first_name }}, de lente komt: 15% korting op tuinmeubelen'
    echo 'FROM: Tuincentrum De Linde <nieuwsbrief@delinde.example>'
    echo 'MIME-Version: 1.0'
    echo 'Content-Type: multipart/alternative; boundary="lente"'
    echo
    echo '--lente'
    echo 'Content-Type: text/plain; charset=utf-8'
    echo
    echo "{% set unsubscribe_url = 'https://delinde.example/afmelden?e=' ~ (email | urlencode) %}$TEXT_BODY"
    echo '--lente'
    echo 'Content-Type: text/html; charset=utf-8'
    echo
    echo "{% set unsubscribe_url = 'https://delinde.example/afmelden?e=' ~ (email | urlencode) %}$HTML_BODY"
    echo '--lente--'
} >"$work/mailmerge/mailmerge_template.txt"
cat >"$work/mailmerge/mailmerge_server.conf" <<CONF
# smtp-sink on loopback: no TLS, no AUTH ("Never" is 2.3's word for none).
[smtp_server]
host = 127.0.0.1
port = $PORT
security = Never
ratelimit = 0
CONF

# --- The sink ------------------------------------------------------------------
sink_log=$work/smtp-sink.out
sink_user=()
# smtp-sink refuses to run as root without dropping privileges.
[ "$(id -u)" -eq 0 ] && sink_user=(-u nobody)
"$SMTP_SINK" -c "${sink_user[@]}" "127.0.0.1:$PORT" 1000 >"$sink_log" 2>"$work/smtp-sink.err" &
sink_pid=$!
trap 'kill "$sink_pid" 2>/dev/null || true' EXIT

for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    kill -0 "$sink_pid" 2>/dev/null || die "smtp-sink did not start: $(cat "$work/smtp-sink.err")"
    sleep 0.05
done

# With -c, smtp-sink rewrites one line ("sess=… quit=… mesg=N\r") each time a
# session ends, QUIT is seen or a message's final "." arrives: mesg is the
# number of messages it received so far.
sink_count() {
    tr '\r' '\n' <"$sink_log" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1 | grep . || echo 0
}

# Waits (a few seconds at most) for the count to reach $1; prints the count.
sink_settle() {
    local want=$1 count
    for _ in $(seq 50); do
        count=$(sink_count)
        [ "$count" -ge "$want" ] && break
        sleep 0.1
    done
    sleep 0.2 # anything beyond the expected count shows up too
    sink_count
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

# --- mailgate ------------------------------------------------------------------
say "mailgate send: $MAILGATE_N messages, $CONNECTIONS connections, journal on"
before=$(sink_count)
start=$(now)
"$MAILGATE" send "$work/mailgate/campaign.toml" --yes --format json \
    >"$work/mailgate/summary.json" 2>"$work/mailgate/stderr.txt" \
    || die "mailgate send exited $? (see $work/mailgate/stderr.txt)"
end=$(now)
mg_wall=$(elapsed "$start" "$end")
mg_received=$(($(sink_settle $((before + MAILGATE_N))) - before))
mg_sent=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["summary"]["sent"])' \
    "$work/mailgate/summary.json")
journal=$work/mailgate/campaign.journal.jsonl
mg_attempts=$(grep -c '"t":"attempt"' "$journal" || true)
mg_journal_sent=$(grep -c '"t":"sent"' "$journal" || true)
[ "$mg_sent" -eq "$MAILGATE_N" ] || die "mailgate's summary says sent=$mg_sent, want $MAILGATE_N"
[ "$mg_received" -eq "$MAILGATE_N" ] || die "the sink received $mg_received from mailgate, want $MAILGATE_N"
[ "$mg_attempts" -eq "$MAILGATE_N" ] && [ "$mg_journal_sent" -eq "$MAILGATE_N" ] \
    || die "the journal holds $mg_attempts attempts and $mg_journal_sent sent, want $MAILGATE_N each"
mg_rate=$(rate "$MAILGATE_N" "$mg_wall")

# --- mailmerge -----------------------------------------------------------------
say "mailmerge $MAILMERGE_VERSION: $MAILMERGE_N messages"
before=$(sink_count)
start=$(now)
# Its console script, by way of the interpreter (`python -m mailmerge` is broken in 2.3).
(cd "$work/mailmerge" && "$PYTHON" -c 'import sys; from mailmerge.__main__ import main; sys.exit(main())' \
    --no-dry-run --no-limit --output-format raw \
    >stdout.txt 2>stderr.txt) || die "mailmerge exited $? (see $work/mailmerge/stderr.txt)"
end=$(now)
mm_wall=$(elapsed "$start" "$end")
mm_received=$(($(sink_settle $((before + MAILMERGE_N))) - before))
[ "$mm_received" -eq "$MAILMERGE_N" ] || die "the sink received $mm_received from mailmerge, want $MAILMERGE_N"
mm_rate=$(rate "$MAILMERGE_N" "$mm_wall")

# --- Report ----------------------------------------------------------------------
ratio=$(awk -v a="$mg_rate" -v b="$mm_rate" 'BEGIN { printf "%.1f", a / b }')
verdict() { if [ "$1" = 1 ]; then echo met; else echo "NOT MET"; fi; }
rate_ok=$(awk -v r="$mg_rate" -v t="$TARGET_RATE" 'BEGIN { print (r >= t) ? 1 : 0 }')
ratio_ok=$(awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN { print (r >= t) ? 1 : 0 }')
mg_version=$("$MAILGATE" --version | awk '{ print $2 }')

report=$out_dir/send.txt
{
    echo "# benches/send.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, sink smtp-sink on 127.0.0.1"
    printf '%-18s %9s %9s %11s %s\n' tool messages "wall s" "messages/s" "sink received"
    printf '%-18s %9d %9s %11s %d\n' "mailgate $mg_version" "$MAILGATE_N" "$mg_wall" "$mg_rate" "$mg_received"
    printf '%-18s %9d %9s %11s %d\n' "mailmerge $MAILMERGE_VERSION" "$MAILMERGE_N" "$mm_wall" "$mm_rate" "$mm_received"
    echo "ratio mailgate/mailmerge: ${ratio}x"
    echo "mailgate: $CONNECTIONS connections, journal on ($mg_attempts attempts, $mg_journal_sent sent recorded)"
    echo "target >= $TARGET_RATE messages/s (mailgate): $(verdict "$rate_ok")"
    echo "target >= ${TARGET_RATIO}x mailmerge: $(verdict "$ratio_ok")"
} | tee "$report"
say "figures written to ${report#"$repo_root"/}"

if [ "${BENCH_STRICT:-}" = 1 ] && { [ "$rate_ok" != 1 ] || [ "$ratio_ok" != 1 ]; }; then
    exit 1
fi
