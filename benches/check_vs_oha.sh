#!/usr/bin/env bash
# `mboxscope check` throughput against a plain load generator, side by side on one
# `mboxscope serve` (demo artifact), keep-alive, loopback, same concurrency:
#  - check: one run of a scenario with CHECKS checks (default 10,000), each a prefetch of the
#    product-recs mbox (category=shoes) and the page load for a fresh visitor, with two
#    expectations; its rate is CHECKS / the run's wall time (start-up and parsing included);
#  - oha: the same prefetch (the very request body `mboxscope prefetch` sends), CHECKS requests.
# Rounds alternate the two; medians are printed with the ratio (target: at least 0.5), and
# the CPU seconds each run took in its own process and in the server (on 2 cores the three
# share the CPU, so these say where the time goes even when the rates are noisy).
# Usage: [ROUNDS=3] [CONCURRENCY=32] [CHECKS=10000] benches/check_vs_oha.sh
#        (installs oha with cargo if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
CONCURRENCY=${CONCURRENCY:-32}
CHECKS=${CHECKS:-10000}
WORK=$(mktemp -d)
cleanup() { kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export MBOXSCOPE_DATA_DIR="$WORK/data" MBOXSCOPE_CONFIG="$WORK/config.toml"
unset MBOXSCOPE_PROFILE

cargo build --release --quiet
OHA=$(command -v oha || echo target/bench-tools/bin/oha)
[ -x "$OHA" ] || cargo install --quiet --locked oha --root target/bench-tools

BIN=target/release/mboxscope
"$BIN" serve --quiet > "$WORK/serve.out" &
SERVE_PID=$!
TICKS=$(getconf CLK_TCK)
# CPU seconds the server has used so far.
serve_cpu() { awk -v t="$TICKS" '{print ($14 + $15) / t}' "/proc/$SERVE_PID/stat"; }
# Runs a command, leaving its wall time in $WORK/wall, its own CPU seconds in $WORK/own.cpu and
# the server's in $WORK/serve.cpu.
with_cpu() {
  local before start end status=0; before=$(serve_cpu)
  start=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$WORK/time.out" "$@" || status=$?
  end=$(date +%s.%N)
  python3 -c "print($end - $start)" > "$WORK/wall"
  awk '{print $1 + $2}' "$WORK/time.out" > "$WORK/own.cpu"
  python3 -c "print($(serve_cpu) - $before)" > "$WORK/serve.cpu"
  return "$status"
}
for _ in $(seq 100); do [ -s "$WORK/serve.out" ] && break; sleep 0.05; done
SERVER=$(head -1 "$WORK/serve.out")
UA='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
PAGE=https://shop.example/shoes

# The request a check sends, as `prefetch` sends it (no visitor id: the server mints one).
"$BIN" prefetch --server "$SERVER" --user-agent "$UA" --page-url "$PAGE" \
  --mbox product-recs:category=shoes --page-load \
  | python3 -c 'import json,sys; json.dump(json.load(sys.stdin)["request"], sys.stdout)' > "$WORK/request.json"
URL="$SERVER/rest/v1/delivery?client=mboxscopedemo&sessionId=bench"

python3 - "$CHECKS" "$UA" "$PAGE" > "$WORK/bench.toml" <<'PY'
import sys
n, ua, page = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for i in range(1, n + 1):
    print(f'''[[check]]
name = "shoe page, visitor {i}"
user_agent = "{ua}"
page_url = "{page}"
mboxes = ["product-recs"]
mbox_parameters = {{ "product-recs" = {{ category = "shoes" }} }}
page_load = true

[[check.expect]]
location = "product-recs"
activity = 312350
experience = "Shoes"

[[check.expect]]
location = "pageLoad"
activity = 312370
experience = "Chrome visitors"
''')
PY

check_rate() {
  with_cpu "$BIN" check --server "$SERVER" --concurrency "$CONCURRENCY" "$WORK/bench.toml" > "$WORK/check.out" \
    || { tail -3 "$WORK/check.out"; echo "check run failed" >&2; exit 1; }
  python3 -c "print($CHECKS / $(cat "$WORK/wall"))"
}
oha_rate() {
  with_cpu "$OHA" --no-tui --output-format json -n "$CHECKS" -c "$CONCURRENCY" -m POST \
    -H 'Content-Type: application/json' -D "$WORK/request.json" "$URL" > "$WORK/oha.json"
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["requestsPerSec"])' "$WORK/oha.json"
}
median() { python3 -c 'import statistics,sys; print(statistics.median(float(a) for a in sys.argv[1:]))' "$@"; }

oha_rate > /dev/null   # warm-up
CHECK_RATES=(); OHA_RATES=(); RATIOS=(); CHECK_CPU=(); OHA_CPU=()
for round in $(seq "$ROUNDS"); do
  C=$(check_rate); CC="$(cat "$WORK/own.cpu") $(cat "$WORK/serve.cpu")"
  O=$(oha_rate); OC="$(cat "$WORK/own.cpu") $(cat "$WORK/serve.cpu")"
  CHECK_RATES+=("$C"); OHA_RATES+=("$O"); RATIOS+=("$(python3 -c "print($C/$O)")")
  CHECK_CPU+=("$(python3 -c "print(sum(float(a) for a in '$CC'.split()))")")
  OHA_CPU+=("$(python3 -c "print(sum(float(a) for a in '$OC'.split()))")")
  python3 - "$round" "$C" "$O" "$CHECKS" $CC $OC <<'PY'
import sys
r, c, o, n, c_own, c_srv, o_own, o_srv = sys.argv[1:]
c, o, n = float(c), float(o), int(n)
print(f"round {r}: check {c:,.0f} checks/s ({n:,} checks in one run), oha {o:,.0f} requests/s, ratio {c/o:.2f};"
      f" CPU s: check {float(c_own):.2f} + serve {float(c_srv):.2f}, oha {float(o_own):.2f} + serve {float(o_srv):.2f}")
PY
done
tail -1 "$WORK/check.out"
python3 - "$(median "${CHECK_RATES[@]}")" "$(median "${OHA_RATES[@]}")" "$(median "${RATIOS[@]}")" "$CONCURRENCY" \
  "$(median "${CHECK_CPU[@]}")" "$(median "${OHA_CPU[@]}")" <<'PY'
import sys
check, oha, ratio = (float(a) for a in sys.argv[1:4])
check_cpu, oha_cpu = (float(a) for a in sys.argv[5:7])
print(f"mboxscope check: {check:,.0f} checks/s   oha: {oha:,.0f} requests/s   concurrency {sys.argv[4]}   ratio {ratio:.2f} (median of rounds; target: at least 0.5)")
print(f"CPU s per run with the server's share (median): check {check_cpu:.2f}, oha {oha_cpu:.2f}, their ratio {oha_cpu / check_cpu:.2f}")
PY
