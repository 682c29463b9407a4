#!/usr/bin/env bash
# Installs what mailgate's tests need beyond cargo, on a fresh Debian machine,
# and is quick (well under a second) when everything is already there:
#
#   - aiosmtpd (PyPI), the real SMTP server the send tests talk to
#     (tests/smtp/server.py);
#   - jsonschema (PyPI), which validates `--format sarif` against the SARIF
#     2.1.0 schema (tests/report_formats.rs, tests/support/validate_json_schema.py);
#   - the openssl CLI, and with it a throw-away test CA plus a server
#     certificate for localhost/127.0.0.1 in target/test-certs/;
#   - Debian's chromium (and a font), in which tests/html_report.rs looks at
#     the demo's HTML report as a person would: screenshot, DOM, no request
#     leaving the page. Where it cannot be installed, that test says so and
#     skips; everything else still runs.
#
# Idempotent; works as root without sudo (CI), and uses sudo for apt-get only
# when run as another user. Environment:
#   PYTHON            the interpreter the tests use (default python3; the Rust
#                     helper reads MAILGATE_TEST_PYTHON, keep them the same)
#   TEST_CERTS_DIR    where to put the certificates (default target/test-certs)
set -euo pipefail

AIOSMTPD_VERSION=1.4.6
JSONSCHEMA_VERSION=4.26.0
PYTHON=${PYTHON:-python3}
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
certs=${TEST_CERTS_DIR:-$repo_root/target/test-certs}

say() { echo "setup-test-deps: $*" >&2; }

# shellcheck source=scripts/install-lib.sh
source "$repo_root/scripts/install-lib.sh"

# --- Python packages: aiosmtpd, jsonschema -----------------------------------
pip_pin aiosmtpd "$AIOSMTPD_VERSION" aiosmtpd
pip_pin jsonschema "$JSONSCHEMA_VERSION" jsonschema

# --- Headless Chromium for the HTML report test --------------------------------
if ! command -v chromium >/dev/null 2>&1; then
    say "installing chromium (headless browser for tests/html_report.rs)"
    if ! apt_install chromium fonts-dejavu-core; then
        say "WARNING: could not install chromium; tests/html_report.rs will skip its browser check"
    fi
fi

# `script` runs `mailgate send` on a pseudo-terminal in tests/send.rs (the
# password prompt, the progress bar); Debian's essential bsdutils has it.
if ! command -v script >/dev/null 2>&1; then
    say "installing bsdutils (script, for the terminal tests of send)"
    apt_install bsdutils
fi

# --- Test certificates ------------------------------------------------------
if ! command -v openssl >/dev/null 2>&1; then
    say "installing openssl"
    apt_install openssl
fi

# Regenerate when missing or expiring within a day. The CA key is kept only
# so the directory is self-explanatory; nothing trusts this CA but the tests.
if [ -s "$certs/ca.pem" ] && [ -s "$certs/server.key" ] && [ -s "$certs/server.pem" ] \
    && openssl x509 -checkend 86400 -noout -in "$certs/server.pem" >/dev/null 2>&1; then
    exit 0
fi

say "generating a test CA and a localhost certificate in $certs"
mkdir -p "$certs"
work=$(mktemp -d "$certs/.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT

# EC P-256 keys: fast to make, accepted by rustls, native-tls and Python's ssl.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$work/ca.key" -out "$work/ca.pem" -days 3650 -sha256 \
    -subj "/CN=mailgate test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$work/server.key" -out "$work/server.csr" -subj "/CN=localhost" 2>/dev/null
cat >"$work/server.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
EXT
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
    -CAcreateserial -out "$work/server.pem" -days 825 -sha256 \
    -extfile "$work/server.ext" 2>/dev/null
openssl verify -CAfile "$work/ca.pem" "$work/server.pem" >/dev/null

# Move the key before the certificates that the freshness check above looks
# at, so an interrupted run is redone next time.
for f in ca.key server.key ca.pem server.pem; do
    mv -f "$work/$f" "$certs/$f"
done
