#!/usr/bin/env bash
# Installs what mailgate's tests need beyond cargo:
#   - Python's jsonschema, which validates `--format sarif` against the SARIF
#     2.1.0 schema (tests/report_formats.rs, tests/support/validate_json_schema.py).
# Idempotent and quick when everything is there. The tests run the interpreter
# named by MAILGATE_TEST_PYTHON (default python3); PYTHON here should match it.
set -euo pipefail

JSONSCHEMA_VERSION=4.26.0
PYTHON=${PYTHON:-${MAILGATE_TEST_PYTHON:-python3}}

say() { echo "setup-test-deps: $*" >&2; }

if "$PYTHON" -c "import importlib.metadata as m, sys; sys.exit(m.version('jsonschema') != '$JSONSCHEMA_VERSION')" 2>/dev/null; then
    exit 0
fi
say "installing jsonschema==$JSONSCHEMA_VERSION for $PYTHON"
pip_install() {
    PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
        "$PYTHON" -m pip install --quiet "$@" "jsonschema==$JSONSCHEMA_VERSION"
}
# Debian's own python3 refuses pip installs (PEP 668, "externally managed
# environment"); the tests only need the package importable, so allow it.
pip_install 2>/dev/null || pip_install --break-system-packages
"$PYTHON" -c "import jsonschema" # fail here, not in the tests, if it did not work
