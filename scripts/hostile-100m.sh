#!/usr/bin/env bash
# A 100-million-line trace with one bad line in the middle, evaluated twice (run by hand, not in
# CI): `tariff eval` must stop with exit 1 naming that line; `--keep-going --format json` must list
# it alone under `invalid` and evaluate every other line. Prints timings.
#
#   scripts/hostile-100m.sh            # 100,000,000 lines (about 8 GB in $TMPDIR)
#   LINES=2000000 scripts/hostile-100m.sh
set -euo pipefail
cd "$(dirname "$0")/.."

LINES=${LINES:-100000000}
BAD=$((LINES / 2))
DIR=${TMPDIR:-/tmp}/tariff-hostile-100m
RULES=rules/tencent-ses.tariff
TRACE=$DIR/trace.jsonl
mkdir -p "$DIR"

cargo build --release -q
TARIFF=target/release/tariff

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

# One email a second from 2026-01-01 (a day holds 86,400, under the daily limit of 300,000);
# line BAD has a negative quantity.
t=$(now)
python3 - "$LINES" "$BAD" >"$TRACE" <<'PY'
import datetime, sys
lines, bad = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout
day = datetime.date(2026, 1, 1)
hms = ["%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60) for s in range(86400)]
n = 0
while n < lines:
    pre = '{"at":"%sT' % day.isoformat()
    k = min(86400, lines - n)
    chunk = [pre + hms[s] + '+08:00","type":"usage","meter":"email","quantity":1}\n' for s in range(k)]
    if n < bad <= n + k:
        i = bad - n - 1
        chunk[i] = chunk[i].replace('"quantity":1', '"quantity":-1')
    out.write("".join(chunk))
    n += k
    day += datetime.timedelta(days=1)
PY
echo "generated $LINES lines ($(du -h "$TRACE" | cut -f1)) in $(since "$t")"

# Without --keep-going: exit 1 naming line BAD.
t=$(now)
set +e
"$TARIFF" eval "$RULES" "$TRACE" >/dev/null 2>"$DIR/stop.err"
code=$?
set -e
echo "eval: exit $code in $(since "$t")"
if [[ $code -ne 1 ]] || ! grep -q "$TRACE:$BAD: field \`quantity\`" "$DIR/stop.err"; then
  echo "FAILED: expected exit 1 naming line $BAD" >&2
  head -c 2000 "$DIR/stop.err" >&2
  exit 1
fi

# With --keep-going: line BAD alone under `invalid`, every other line evaluated.
t=$(now)
"$TARIFF" eval "$RULES" "$TRACE" --keep-going --format json >"$DIR/report.json" 2>"$DIR/keep.err"
echo "eval --keep-going --format json: exit 0 in $(since "$t")"
python3 - "$DIR/report.json" "$LINES" "$BAD" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
lines, bad = int(sys.argv[2]), int(sys.argv[3])
assert [i["line"] for i in r["invalid"]] == [bad], r["invalid"][:5]
[a] = r["accounts"]
assert a["rejections"] == [], a["rejections"][:5]
# The first 1,000 emails are free; every other accepted email is charged pay-as-you-go.
payg = sum(int(c["quantity"]) for c in a["charges"] if c["kind"] == "usage")
assert payg == lines - 1 - 1000, (payg, lines)
print(f"ok: invalid = [{bad}], {payg} emails charged, totals {a['totals']}")
PY
rm -f "$TRACE"
