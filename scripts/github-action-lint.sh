#!/usr/bin/env bash
# The lint step of action.yml: lints every campaign named in
# MAILGATE_CAMPAIGNS (spaces or new lines; globs expanded) with GitHub
# annotations on standard output, and with MAILGATE_SARIF_DIR set, a SARIF
# file per campaign there. Exits 1 when a campaign has errors (unless
# MAILGATE_FAIL_ON_ERROR=false) and 2 when mailgate could not lint one.
# Runs outside GitHub too: `mailgate` must be on the PATH.
set -uo pipefail

campaigns=${MAILGATE_CAMPAIGNS:-campaign.toml}
sarif_dir=${MAILGATE_SARIF_DIR:-}
redact=--redact
[ "${MAILGATE_REDACT:-true}" = false ] && redact=--no-redact
fail_on_error=${MAILGATE_FAIL_ON_ERROR:-true}

if [ -n "$sarif_dir" ]; then
    mkdir -p "$sarif_dir"
fi

worst=0
found=0
shopt -s nullglob
# Word splitting and globbing on purpose: the input is a list of patterns.
# shellcheck disable=SC2086
for campaign in $campaigns; do
    found=$((found + 1))
    echo "::group::mailgate lint $campaign"
    mailgate lint "$campaign" --format github "$redact"
    status=$?
    echo "::endgroup::"
    if [ -n "$sarif_dir" ] && [ "$status" -le 1 ]; then
        name=$(printf '%s' "$campaign" | tr -c 'A-Za-z0-9._-' '_')
        mailgate lint "$campaign" --format sarif "$redact" --output "$sarif_dir/$name.sarif"
    fi
    case $status in
        0) ;;
        1) echo "mailgate: $campaign has errors"; [ "$worst" -lt 1 ] && worst=1 ;;
        *) echo "::error file=$campaign::mailgate could not lint this campaign (exit $status)"; worst=2 ;;
    esac
done

if [ "$found" -eq 0 ]; then
    echo "::error::no campaign file matches: $campaigns"
    exit 2
fi
if [ "$worst" -eq 1 ] && [ "$fail_on_error" = false ]; then
    exit 0
fi
exit "$worst"
