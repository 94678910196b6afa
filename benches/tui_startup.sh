#!/usr/bin/env bash
# TUI start-up and memory, as whole processes:
#  1. `mboxscope --snapshot` on the demo artifact (in-process emulator, start-up prefetch of every
#     mbox, view and the page load) against `mboxscope decide` on the same request: the ratio
#     must be at most 2.
#  2. peak memory of `mboxscope --snapshot --width 200 --height 60` holding a response of
#     5,000 mboxes x 2 options (from `mboxscope serve` on a generated artifact): under 80 MB.
# Usage: benches/tui_startup.sh [RUNS]   (loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
cargo build --release --quiet
BIN=target/release/mboxscope
export MBOXSCOPE_DATA_DIR="$WORK/data" MBOXSCOPE_CONFIG="$WORK/config.toml"

# The start-up request: what --snapshot prefetches with nothing configured.
python3 - assets/demo/rules.json > "$WORK/request.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
g = a["globalMbox"]
mboxes = [{"name": m, "index": i + 1} for i, m in enumerate(n for n in a["localMboxes"] if n != g)]
print(json.dumps({"id": {"tntId": "startup"}, "context": {"channel": "web", "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0 Safari/537.36", "beacon": False},
  "experienceCloud": {"analytics": {"logging": "client_side"}},
  "prefetch": {"mboxes": mboxes, "views": [{"name": v} for v in a["localViews"]], "pageLoad": {}}}))
PY
time_runs() { # command... → mean seconds over RUNS
  python3 - "$RUNS" "$@" <<'PY'
import subprocess, sys, time
runs = int(sys.argv[1]); cmd = sys.argv[2:]
subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)  # warm the page cache
t = time.perf_counter()
for _ in range(runs):
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
print((time.perf_counter() - t) / runs)
PY
}
SNAP=$(time_runs $BIN --snapshot)
DECIDE=$(time_runs $BIN decide --artifact assets/demo/rules.json --request "$WORK/request.json")
python3 -c "s=$SNAP; d=$DECIDE; print(f'--snapshot: {s*1000:.1f} ms, decide: {d*1000:.1f} ms, ratio {s/d:.2f} (target: at most 2)')"

# 5,000 mboxes x 2 options.
python3 - > "$WORK/big.json" <<'PY'
import json
rules = {}
for i in range(5000):
    name = "m%d" % i
    rules[name] = [{"ruleKey": str(i), "activityId": i, "meta": {"activity.id": i, "activity.name": "Activity %d" % i, "experience.id": 0, "experience.name": "A"},
        "condition": True, "consequence": {"name": name, "options": [
            {"type": "html", "eventToken": "t%da" % i, "content": "<div class=\"hero\">Offer %d</div>" % i},
            {"type": "json", "eventToken": "t%db" % i, "content": {"sku": "SKU-%d" % i, "price": 19.5}}],
          "metrics": [{"type": "click", "eventToken": "c%d" % i, "selector": "#cta"}]}}]
print(json.dumps({"version": "1.0.0", "meta": {"clientCode": "big"}, "globalMbox": "target-global-mbox",
  "responseTokens": ["activity.id", "activity.name", "experience.id", "experience.name"],
  "localMboxes": list(rules), "localViews": [], "remoteMboxes": [], "remoteViews": [], "rules": {"mboxes": rules, "views": {}}}))
PY
$BIN serve --quiet --artifact "$WORK/big.json" > "$WORK/serve.out" &
for _ in $(seq 50); do [ -s "$WORK/serve.out" ] && break; sleep 0.1; done
URL=$(head -1 "$WORK/serve.out")
ARGS=()
for i in $(seq 0 4999); do ARGS+=(--mbox "m$i"); done
/usr/bin/time -f "%M" -o "$WORK/mem" $BIN --server "$URL" --client big "${ARGS[@]}" --snapshot --width 200 --height 60 > "$WORK/screen.txt"
grep -c "● html" "$WORK/screen.txt" > /dev/null
KB=$(cat "$WORK/mem")
python3 -c "print(f'peak memory, 5,000 mboxes x 2 options: {$KB/1024:.1f} MB (target: under 80 MB)')"
