#!/usr/bin/env bash
# Does linting an HTML draft take linear time? (issue 14: 20,000 nested
# elements took 6-11 s, 20,000 opt-out links 10 s.) From the repository root:
#
#   benches/html_scaling.sh            # N = 20000, then 2N
#   benches/html_scaling.sh 50000      # another N
#   RUNS=7 benches/html_scaling.sh     # more runs per size (default 3)
#
# For each hostile shape, writes a draft whose HTML part holds N of it and
# one with 2N, times `mailgate lint` on both (median of RUNS runs), and
# prints the ratio. Linear work gives about 2; the script fails when a ratio
# is above 3 (quadratic work gives 4).
#   nested: N <div>s inside each other around an opt-out link
#   links:  N opt-out links to {{ unsubscribe_url }}, one per paragraph
#   nested-links: N/10 nested <div>s holding N/10 opt-out links
set -euo pipefail

cd "$(dirname "$0")/.."
N=${1:-20000}
RUNS=${RUNS:-3}
cargo build --release --quiet --bin mailgate --example gen_recipients
BIN=target/release
DIR=target/bench/html_scaling
mkdir -p "$DIR"
"$BIN/examples/gen_recipients" 10 "$DIR/recipients.csv" 5 >/dev/null

repeat() { # repeat TEXT COUNT
    local text=$1 count=$2 chunk=$1 out=""
    while ((count > 0)); do
        if ((count & 1)); then out+=$chunk; fi
        chunk+=$chunk
        count=$((count >> 1))
    done
    printf '%s' "$out"
}

body() { # body SHAPE N
    local link='<a href="{{ unsubscribe_url }}">Afmelden</a>'
    case $1 in
    nested) repeat '<div>' "$2"; printf '%s' "$link"; repeat '</div>' "$2" ;;
    links) repeat "<p>Geen mail meer? $link</p>" "$2" ;;
    nested-links)
        repeat '<div>' $(($2 / 10))
        repeat "<p>$link</p>" $(($2 / 10))
        repeat '</div>' $(($2 / 10))
        ;;
    esac
}

draft() { # draft SHAPE N
    printf 'From: Tuincentrum De Linde <nieuwsbrief@delinde.example>\r\n'
    printf 'To: Tuincentrum De Linde <nieuwsbrief@delinde.example>\r\n'
    printf 'Subject: Scaling\r\nMIME-Version: 1.0\r\n'
    printf 'Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
    printf '<html><body><p>Tuincentrum De Linde B.V., Lindelaan 12, 3901 AB Veenendaal</p>'
    body "$1" "$2"
    printf '</body></html>\r\n'
}

median_ms() { # median_ms (runs lint RUNS times on $DIR/draft.eml)
    local times=() start end status
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
    printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

failed=0
for shape in nested links nested-links; do
    draft "$shape" "$N" >"$DIR/draft.eml"
    one=$(median_ms)
    draft "$shape" $((2 * N)) >"$DIR/draft.eml"
    two=$(median_ms)
    ratio=$(echo "$two / $one" | bc -l)
    verdict=linear
    if [ "$(echo "$ratio > 3" | bc -l)" = 1 ]; then
        verdict="NOT linear"
        failed=1
    fi
    printf '%-13s N=%-7d %8.1f ms   2N: %8.1f ms   ratio %.2f (%s)\n' \
        "$shape" "$N" "$one" "$two" "$ratio" "$verdict"
done
exit $failed
