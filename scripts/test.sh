#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need
# beyond cargo (aiosmtpd, test certificates), then runs cargo test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup-test-deps.sh
cargo test --locked "$@"
