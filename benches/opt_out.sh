#!/usr/bin/env bash
# The opt-out benchmark of issue 13. From the repository root:
#
#   benches/opt_out.sh           # accuracy on the corpus + timing
#   RUNS=21 benches/opt_out.sh   # more runs of `mailgate lint` (default 11)
#
# 1. Builds the release binaries once.
# 2. Runs examples/opt_out_bench.rs on benches/opt_out/corpus.toml: precision
#    and recall of "has a usable opt-out" per language, per category and
#    overall, every miss and false alarm with its note, and the detector's
#    own time on a ~200 KB HTML newsletter assembled from the corpus's HTML
#    parts.
# 3. Wraps that newsletter in a draft (.eml, text and HTML alternatives)
#    with the campaign of benches/data/ and ten recipients, and times the
#    whole `mailgate lint` on it, round by round against the same campaign
#    with benches/data's small draft: the median wall times of RUNS rounds
#    and the median extra cost of the big draft.
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-11}
cargo build --release --quiet --bin mailgate --example opt_out_bench --example gen_recipients
BIN=target/release
DIR=target/bench/opt_out
mkdir -p "$DIR"

"$BIN/examples/opt_out_bench" --newsletter-out "$DIR/newsletter.html"

# Two campaigns of benches/data with the same ten generated recipients:
# "small" keeps benches/data's two-paragraph draft; "big" gets a draft
# whose HTML part is the newsletter (its text part: the corpus's English
# Mailman masthead, which carries an opt-out too). Timing both, round by
# round, separates the cost of the 200 KB draft from the fixed cost of a
# lint run (process start, campaign, recipients, report).
for variant in small big; do
    mkdir -p "$DIR/$variant"
    "$BIN/examples/gen_recipients" 10 "$DIR/$variant/recipients.csv" 5 >/dev/null
done
{
    printf 'From: Tuincentrum De Linde <nieuwsbrief@delinde.example>\r\n'
    printf 'To: Tuincentrum De Linde <nieuwsbrief@delinde.example>\r\n'
    printf 'Subject: Newsletter (opt-out benchmark)\r\n'
    printf 'MIME-Version: 1.0\r\n'
    printf 'Content-Type: multipart/alternative; boundary="opt-out-bench"\r\n\r\n'
    printf -- '--opt-out-bench\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
    cat benches/opt_out/corpus/en/en-mailman2-masthead.txt
    printf '\r\nTuincentrum De Linde B.V., Lindelaan 12, 3901 AB Veenendaal\r\n'
    printf -- '\r\n--opt-out-bench\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
    cat "$DIR/newsletter.html"
    printf '<p>Tuincentrum De Linde B.V., Lindelaan 12, 3901 AB Veenendaal</p>\r\n'
    printf -- '\r\n--opt-out-bench--\r\n'
} >"$DIR/big/draft.eml"

# lint_ms VARIANT: one `mailgate lint` of that campaign, its wall time in ms
# on stdout. Exit status 1 (lint errors) is expected.
lint_ms() {
    local start=$EPOCHREALTIME status=0
    "$BIN/mailgate" lint "$DIR/$1/campaign.toml" >"$DIR/$1/lint.out" 2>&1 || status=$?
    local end=$EPOCHREALTIME
    if [ "$status" -gt 1 ]; then
        echo "mailgate lint ($1) failed ($status):" >&2
        cat "$DIR/$1/lint.out" >&2
        exit 1
    fi
    echo "($end - $start) * 1000" | bc -l
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

small=() big=() extra=()
for ((r = 1; r <= RUNS; r++)); do
    s=$(lint_ms small)
    b=$(lint_ms big)
    small+=("$s") big+=("$b") extra+=("$(echo "$b - $s" | bc -l)")
done
# CPU time (user + system) per run, summed over RUNS runs of each: on a
# shared machine the wall time is mostly waiting for a core, the CPU time
# is what the run itself costs.
cpu_ms() {
    local TIMEFORMAT='%3U %3S' spent
    spent=$({ time (for ((r = 1; r <= RUNS; r++)); do "$BIN/mailgate" lint "$DIR/$1/campaign.toml" >/dev/null 2>&1 || true; done); } 2>&1 | tail -n 1)
    read -r user sys <<<"$spent"
    echo "($user + $sys) * 1000 / $RUNS" | bc -l
}
cpu_small=$(cpu_ms small)
cpu_big=$(cpu_ms big)
size=$(stat -c %s "$DIR/big/draft.eml")
opt_out_diagnostics=$(grep -c 'opt-out' "$DIR/big/lint.out" || true)
printf 'mailgate lint, median of %d rounds (load average %s):\n' "$RUNS" "$(cut -d' ' -f1 /proc/loadavg)"
printf '  small draft (benches/data):        %6.1f ms (fastest %.1f)\n' "$(median "${small[@]}")" "$(printf '%s\n' "${small[@]}" | sort -g | head -n 1)"
printf '  %3d KB newsletter draft:           %6.1f ms (fastest %.1f; target < 50 ms: %s); opt-out diagnostics: %s\n' \
    $((size / 1024)) "$(median "${big[@]}")" "$(printf '%s\n' "${big[@]}" | sort -g | head -n 1)" \
    "$(if [ "$(echo "$(median "${big[@]}") < 50" | bc -l)" = 1 ]; then echo met; else echo NOT met; fi)" "$opt_out_diagnostics"
printf '  the newsletter draft costs:        %6.1f ms more (median of the rounds'"'"' differences)\n' "$(median "${extra[@]}")"
printf 'CPU time (user + system) per run, mean of %d: small draft %.1f ms, newsletter draft %.1f ms (target < 50 ms: %s)\n' \
    "$RUNS" "$cpu_small" "$cpu_big" "$(if [ "$(echo "$cpu_big < 50" | bc -l)" = 1 ]; then echo met; else echo NOT met; fi)"
