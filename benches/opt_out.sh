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
#    whole `mailgate lint` on it: the median wall time of RUNS runs.
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-11}
cargo build --release --quiet --bin mailgate --example opt_out_bench --example gen_recipients
BIN=target/release
DIR=target/bench/opt_out
mkdir -p "$DIR"

"$BIN/examples/opt_out_bench" --newsletter-out "$DIR/newsletter.html"

# A campaign around the newsletter: benches/data's campaign and ten
# generated recipients, the draft replaced by one whose HTML part is the
# newsletter (its text part: the corpus's English Mailman masthead, which
# carries an opt-out too).
"$BIN/examples/gen_recipients" 10 "$DIR/recipients.csv" 5 >/dev/null
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
} >"$DIR/draft.eml"

times=()
for ((r = 1; r <= RUNS; r++)); do
    start=$EPOCHREALTIME
    status=0
    "$BIN/mailgate" lint "$DIR/campaign.toml" >"$DIR/lint.out" 2>&1 || status=$?
    end=$EPOCHREALTIME
    if [ "$status" -gt 1 ]; then
        echo "mailgate lint failed ($status):" >&2
        cat "$DIR/lint.out" >&2
        exit 1
    fi
    times+=("$(echo "($end - $start) * 1000" | bc -l)")
done
median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
fastest=$(printf '%s\n' "${times[@]}" | sort -g | head -n 1)
size=$(stat -c %s "$DIR/draft.eml")
opt_out_diagnostics=$(grep -c 'opt-out' "$DIR/lint.out" || true)
printf 'mailgate lint on a %d KB draft (%s): median %.1f ms, fastest %.1f ms of %d runs (target < 50 ms: %s); opt-out diagnostics: %s\n' \
    $((size / 1024)) "$DIR/draft.eml" "$median" "$fastest" "$RUNS" \
    "$(if [ "$(echo "$median < 50" | bc -l)" = 1 ]; then echo met; else echo NOT met; fi)" "$opt_out_diagnostics"
