#!/usr/bin/env bash
# `mboxscope simulate` against `mboxscope decide --jsonl` for the same visitors: the decide
# benchmark's 3-mbox request (mbox-browsers, mbox-params with a parameter, target-global-mbox)
# on the production-size artifact, decide on one core, simulate on every core.
# Prints both times and the ratio (target: simulate in at most 1/1.6 of decide's time).
# Usage: benches/simulate_vs_decide.sh [VISITORS]   (loopback only, no network calls)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
ARTIFACT=${ARTIFACT:-../shared/fixtures/artifacts/targettesting-production-rules.json}
UA="Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36"
URL="http://local-target-test/home?bar=true"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cargo build --release --quiet

python3 - "$N" "$UA" "$URL" > "$WORK/requests.jsonl" <<'PY'
import json, sys
n, ua, url = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for i in range(n):
    print(json.dumps({"id": {"tntId": "sim-%d" % i}, "context": {"channel": "web", "userAgent": ua,
        "address": {"url": url}},
        "prefetch": {"mboxes": [{"name": "mbox-browsers", "index": 1},
                                 {"name": "mbox-params", "index": 2, "parameters": {"foo": "bar"}},
                                 {"name": "target-global-mbox", "index": 3}]}}))
PY

echo "mboxscope decide --jsonl: $N visitors on one core"
/usr/bin/time -f "%e" -o "$WORK/decide.time" taskset -c 0 target/release/mboxscope decide \
  --artifact "$ARTIFACT" --jsonl --now 1700000000000 < "$WORK/requests.jsonl" > /dev/null

CORES=$(nproc)
echo "mboxscope simulate: $N visitors on $CORES cores"
/usr/bin/time -f "%e" -o "$WORK/simulate.time" target/release/mboxscope simulate \
  --artifact "$ARTIFACT" --visitors "$N" --now 1700000000000 --user-agent "$UA" --page-url "$URL" \
  --mbox mbox-browsers --mbox mbox-params:foo=bar --mbox target-global-mbox --json > "$WORK/simulate.json"

python3 - "$N" "$WORK/decide.time" "$WORK/simulate.time" "$WORK/simulate.json" <<'PY'
import json, sys
n = int(sys.argv[1])
decide_s = float(open(sys.argv[2]).read().split()[-1])
simulate_s = float(open(sys.argv[3]).read().split()[-1])
activities = len(json.load(open(sys.argv[4]))["activities"])
print(f"decide --jsonl (1 core): {decide_s:.2f} s, {n / decide_s:,.0f} visitors/s")
print(f"simulate (all cores):    {simulate_s:.2f} s, {n / simulate_s:,.0f} visitors/s, {activities} activities")
ratio = simulate_s / decide_s
print(f"ratio simulate/decide: {ratio:.3f} (target: at most {1/1.6:.3f}) -> {'met' if ratio <= 1/1.6 else 'NOT met'}")
PY
