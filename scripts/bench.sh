#!/usr/bin/env bash
# End-to-end throughput of `tariff eval` on generated traces, against the parse-only floor,
# with peak memory; and the time `tariff check` takes over 1,000 rule files.
#
#   scripts/bench.sh                 # 1M and 10M events (about 3 to 5 minutes)
#   EVENTS=1000000 scripts/bench.sh  # the large runs at 1M, the small ones at 100k
#   PAIRS=5 scripts/bench.sh         # more interleaved --jobs 1 / --jobs 2 pairs (default 3)
#
# Needs nothing beyond cargo and coreutils; uses /usr/bin/time -v for peak memory when it is
# there, else polls VmHWM in /proc.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
EVENTS=${EVENTS:-10000000}
SMALL=$((EVENTS / 10))
ACCOUNTS=${ACCOUNTS:-1000}
RULES=rules/tencent-ses.tariff
SEED=${SEED:-1}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tariff-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "building the release binary..." >&2
cargo build --release --quiet
BIN="$ROOT/target/release/tariff"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "inf" }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# measure OUT_FILE CMD...: runs CMD with stdout to /dev/null and stderr to OUT_FILE.err;
# sets WALL (seconds) and RSS (peak resident KiB).
measure() {
  local out=$1
  shift
  local t0 t1
  if [ -x /usr/bin/time ]; then
    t0=$(now)
    /usr/bin/time -v -o "$out.time" "$@" >/dev/null 2>"$out.err"
    t1=$(now)
    RSS=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$out.time")
  else
    t0=$(now)
    "$@" >/dev/null 2>"$out.err" &
    local pid=$! peak=0 hwm
    while kill -0 "$pid" 2>/dev/null; do
      hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
      if [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ]; then peak=$hwm; fi
      sleep 0.05
    done
    wait "$pid"
    t1=$(now)
    RSS=$peak
  fi
  WALL=$(secs "$t0" "$t1")
}

ROWS=()

# warm FILE: reads it once, so a timed run reads it from memory. Hosts may page out cold page
# cache (this one runs DAMON's pageout), and a run that reads half its trace from disk measures
# the disk.
warm() { cat "$1" >/dev/null; }

# One core: `--jobs 1` reads and evaluates on one thread; pinned to one CPU when taskset exists.
ONE=()
if command -v taskset >/dev/null 2>&1; then
  ONE=(taskset -c 0)
fi

# bench NAME EVENTS ACCOUNTS JOBS: generates the trace, measures parse-only and eval, and keeps
# the trace and the report as $WORK/NAME.jsonl and $WORK/NAME.json.
bench() {
  local name=$1 n=$2 accounts=$3 jobs=$4
  local trace="$WORK/$name.jsonl"
  local t0 t1 pin=()
  if [ "$jobs" = 1 ]; then pin=(${ONE[@]+"${ONE[@]}"}); fi
  echo "generating $name: $n events, $accounts account(s)..." >&2
  t0=$(now)
  "$BIN" gen "$RULES" --events "$n" --accounts "$accounts" --seed "$SEED" >"$trace"
  t1=$(now)
  # Write the trace out now: the kernel flushing a fresh gigabyte during the runs takes CPU
  # from whatever runs on both cores.
  sync "$trace" 2>/dev/null || sync
  local gen_s
  gen_s=$(secs "$t0" "$t1")
  echo "  parse only..." >&2
  warm "$trace"
  measure "$WORK/$name.parse" ${pin[@]+"${pin[@]}"} "$BIN" eval "$RULES" "$trace" --parse-only
  local parse_s=$WALL parse_rss=$RSS
  echo "  eval --format json --jobs $jobs..." >&2
  warm "$trace"
  measure "$WORK/$name.eval" ${pin[@]+"${pin[@]}"} "$BIN" eval "$RULES" "$trace" --format json --jobs "$jobs"
  local eval_s=$WALL eval_rss=$RSS
  "$BIN" eval "$RULES" "$trace" --format json --jobs "$jobs" >"$WORK/$name.json" 2>/dev/null || true
  if grep -q 'invalid line' "$WORK/$name.eval.err"; then
    echo "  warning: $(cat "$WORK/$name.eval.err")" >&2
  fi
  local er pr
  er=$(rate "$n" "$eval_s")
  pr=$(rate "$n" "$parse_s")
  LAST_EVAL_S=$eval_s
  ROWS+=("$(printf '%-22s %11s %5s %8s %8s %12s %12s %7s %10s %10s' \
    "$name" "$n" "$jobs" "$gen_s" "$eval_s" "$er" "$pr" \
    "$(awk -v e="$eval_s" -v p="$parse_s" 'BEGIN { printf "%.2f", e / p }')" \
    "$((eval_rss / 1024))" "$((parse_rss / 1024))")")
}

bench "ses-1acct-small" "$SMALL" 1 1
bench "ses-1acct-large" "$EVENTS" 1 1
rm -f "$WORK"/ses-1acct-*.jsonl
bench "ses-${ACCOUNTS}acct-jobs1" "$EVENTS" "$ACCOUNTS" 1
ONE_S=$LAST_EVAL_S
bench "ses-${ACCOUNTS}acct-jobs2" "$EVENTS" "$ACCOUNTS" 2
TWO_S=$LAST_EVAL_S
SAME=different
if cmp -s "$WORK/ses-${ACCOUNTS}acct-jobs1.json" "$WORK/ses-${ACCOUNTS}acct-jobs2.json"; then
  SAME=byte-identical
fi

# The two-job speedup from PAIRS interleaved pairs of runs on the same trace (this host's
# timings drift by tens of percent over minutes, so one run each says little): every pair runs
# `--jobs 1` (pinned) and then `--jobs 2`; each pair's ratio, and the best against the best.
PAIRS=${PAIRS:-3}
PAIR_RATIOS=()
BEST1=$ONE_S
BEST2=$TWO_S
MULTI="$WORK/ses-${ACCOUNTS}acct-jobs1.jsonl"
# What two cores give with nothing shared: the trace's two halves evaluated as separate
# `--jobs 1` processes, one after the other and then side by side, each pinned to its own CPU.
# Their ratio is this host's ceiling for two jobs (caches, memory and neighbours shared).
split -n l/2 -d "$MULTI" "$WORK/half-"
HALF0="$WORK/half-00"
HALF1="$WORK/half-01"
PIN0=() PIN1=()
if [ ${#ONE[@]} -gt 0 ]; then
  PIN0=(taskset -c 0) PIN1=(taskset -c 1)
fi
CEIL_ALONE=""
CEIL_BOTH=""
for i in $(seq 1 "$PAIRS"); do
  echo "pair $i of $PAIRS: --jobs 1, --jobs 2..." >&2
  warm "$MULTI"
  measure "$WORK/pair" ${ONE[@]+"${ONE[@]}"} "$BIN" eval "$RULES" "$MULTI" --format json --jobs 1
  a=$WALL
  warm "$MULTI"
  measure "$WORK/pair" "$BIN" eval "$RULES" "$MULTI" --format json --jobs 2
  b=$WALL
  PAIR_RATIOS+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", a / b }')")
  BEST1=$(awk -v a="$a" -v m="$BEST1" 'BEGIN { print (a < m) ? a : m }')
  BEST2=$(awk -v b="$b" -v m="$BEST2" 'BEGIN { print (b < m) ? b : m }')
  echo "pair $i of $PAIRS: two halves alone, then side by side..." >&2
  warm "$HALF0"
  warm "$HALF1"
  measure "$WORK/half" ${PIN0[@]+"${PIN0[@]}"} "$BIN" eval "$RULES" "$HALF0" --format json --jobs 1
  h0=$WALL
  measure "$WORK/half" ${PIN0[@]+"${PIN0[@]}"} "$BIN" eval "$RULES" "$HALF1" --format json --jobs 1
  h1=$WALL
  t0=$(now)
  ${PIN0[@]+"${PIN0[@]}"} "$BIN" eval "$RULES" "$HALF0" --format json --jobs 1 >/dev/null 2>&1 &
  ${PIN1[@]+"${PIN1[@]}"} "$BIN" eval "$RULES" "$HALF1" --format json --jobs 1 >/dev/null 2>&1
  wait
  t1=$(now)
  both=$(secs "$t0" "$t1")
  alone=$(awk -v a="$h0" -v b="$h1" 'BEGIN { printf "%.2f", a + b }')
  CEIL_ALONE=$(awk -v a="$alone" -v m="${CEIL_ALONE:-$alone}" 'BEGIN { print (a < m) ? a : m }')
  CEIL_BOTH=$(awk -v b="$both" -v m="${CEIL_BOTH:-$both}" 'BEGIN { print (b < m) ? b : m }')
done
rm -f "$WORK"/*.jsonl

# tariff check over 1,000 rule files: the four shipped ones, 250 times each.
echo "checking 1,000 rule files..." >&2
CHECKDIR="$WORK/rules"
mkdir -p "$CHECKDIR"
for i in $(seq 1 250); do
  for f in rules/*.tariff; do
    cp "$f" "$CHECKDIR/$(basename "$f" .tariff)-$i.tariff"
  done
done
SOURCES=()
if [ -d ../shared/seeds ]; then
  SOURCES=(--sources ../shared/seeds)
fi
NFILES=$(find "$CHECKDIR" -name '*.tariff' | wc -l)
t0=$(now)
set +e
"$BIN" check "$CHECKDIR" ${SOURCES[@]+"${SOURCES[@]}"} >/dev/null 2>"$WORK/check.err"
CHECK_RC=$?
set -e
t1=$(now)
CHECK_S=$(secs "$t0" "$t1")

echo
echo "rules: $RULES, seed $SEED; rates in events/s, wall-clock seconds, peak RSS in MiB;"
echo "ratio = eval time / parse-only time; jobs 1 runs on one thread${ONE[@]+ (pinned: ${ONE[*]})}"
printf '%-22s %11s %5s %8s %8s %12s %12s %7s %10s %10s\n' \
  trace events jobs gen_s eval_s eval_ev/s parse_ev/s ratio eval_MiB parse_MiB
for r in "${ROWS[@]}"; do echo "$r"; done
echo
echo "$ACCOUNTS accounts: --jobs 2 is $(awk -v a="$ONE_S" -v b="$TWO_S" 'BEGIN { printf "%.2f", a / b }')x --jobs 1 in the rows above; reports $SAME"
echo "  interleaved pairs: ${PAIR_RATIOS[*]}; best against best: ${BEST1}s / ${BEST2}s = $(awk -v a="$BEST1" -v b="$BEST2" 'BEGIN { printf "%.2f", a / b }')x"
echo "  ceiling: the two halves as separate processes, ${CEIL_ALONE}s one after the other, ${CEIL_BOTH}s side by side = $(awk -v a="$CEIL_ALONE" -v b="$CEIL_BOTH" 'BEGIN { printf "%.2f", a / b }')x (best of $PAIRS)"
echo "tariff check: $NFILES files in ${CHECK_S}s ($(rate "$NFILES" "$CHECK_S") files/s, exit $CHECK_RC): $(tail -1 "$WORK/check.err")"
