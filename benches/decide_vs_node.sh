#!/usr/bin/env bash
# On-device decisioning speed, side by side on one core: `mboxscope decide --jsonl` against
# Adobe's Node SDK (@adobe/target-nodejs-sdk in on-device mode with artifactPayload, looping
# getOffers). Requests prefetch mbox-browsers, mbox-params (with a parameter) and
# target-global-mbox for distinct tntIds on the production-size artifact, with a Chrome 120
# user agent, on two pages:
#  - light: http://local-target-test/home?bar=true (few rules match, ~2.3 KB per answer);
#  - heavy: http://local-target-test/?a=1 (the global mbox matches many rules, ~8.8 KB).
# Prints, per page, both rates, the ratio (target: at least 100x on both) and peak memory.
# Usage: benches/decide_vs_node.sh [REQUESTS]   (NODE_N: Node requests per page; NODE_DIR: where
# the Node SDK is or gets installed with npm; loopback only, no network calls but npm's)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
NODE_N=${NODE_N:-20000}
ARTIFACT=${ARTIFACT:-../shared/fixtures/artifacts/targettesting-production-rules.json}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cargo build --release --quiet
NODE_DIR=${NODE_DIR:-target/bench-node}
if [ ! -d "$NODE_DIR/node_modules/@adobe/target-nodejs-sdk" ]; then
  mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund @adobe/target-nodejs-sdk@2.4.3)
fi

cat > "$WORK/node-bench.js" <<'JS'
const fs = require("fs");
const TargetClient = require(process.env.NODE_SDK);
const artifact = JSON.parse(fs.readFileSync(process.env.ARTIFACT, "utf8"));
const lines = fs.readFileSync(process.env.REQUESTS, "utf8").split("\n").filter(Boolean).slice(0, Number(process.env.NODE_N));
const quiet = { debug() {}, error() {} };
const client = TargetClient.create({
  client: "targettesting", organizationId: "74F652E95F1B16FE0A495C92@AdobeOrg", decisioningMethod: "on-device",
  artifactPayload: artifact, pollingInterval: 0, logger: quiet, telemetryEnabled: false,
  events: { clientReady: run },
});
async function run() {
  const started = process.hrtime.bigint();
  let last;
  for (let i = 0; i < lines.length; i++) {
    last = await client.getOffers({ request: JSON.parse(lines[i]), sessionId: "session" + i });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // Outside the timing: the size of one answer, to check both engines answered alike.
  const bytes = JSON.stringify(last.response).length;
  console.log(JSON.stringify({ requests: lines.length, seconds, bytes }));
  process.exit(0);
}
JS

# bench_page LABEL URL: both engines on one page; prints the page's figures.
bench_page() {
  local label=$1 url=$2
  python3 - "$N" "$url" > "$WORK/requests.jsonl" <<'PY'
import json, sys
ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
for i in range(int(sys.argv[1])):
    print(json.dumps({"id": {"tntId": "visitor%08d" % i}, "context": {"channel": "web", "userAgent": ua,
        "address": {"url": sys.argv[2]}},
        "prefetch": {"mboxes": [{"name": "mbox-browsers", "index": 1},
                                 {"name": "mbox-params", "index": 2, "parameters": {"foo": "bar"}},
                                 {"name": "target-global-mbox", "index": 3}]}}))
PY
  echo "== $label page ($url)"
  echo "mboxscope decide --jsonl: $N requests on one core"
  /usr/bin/time -f "%e %M" -o "$WORK/rust.time" taskset -c 0 target/release/mboxscope decide --artifact "$ARTIFACT" --jsonl \
    < "$WORK/requests.jsonl" > "$WORK/out.jsonl"
  read -r RUST_S RUST_KB < "$WORK/rust.time"
  local lines bytes
  lines=$(wc -l < "$WORK/out.jsonl")
  bytes=$(wc -c < "$WORK/out.jsonl")
  [ "$lines" -eq "$N" ] || { echo "expected $N answers, got $lines"; exit 1; }
  echo "Node SDK getOffers (on-device): $NODE_N requests on one core"
  NODE_SDK="$(realpath "$NODE_DIR")/node_modules/@adobe/target-nodejs-sdk" ARTIFACT="$ARTIFACT" REQUESTS="$WORK/requests.jsonl" NODE_N="$NODE_N" \
    /usr/bin/time -f "%e %M" -o "$WORK/node.time" taskset -c 0 node "$WORK/node-bench.js" > "$WORK/node.json"
  read -r _ NODE_KB < "$WORK/node.time"
  python3 - "$label" "$N" "$RUST_S" "$RUST_KB" "$bytes" "$WORK/node.json" "$NODE_KB" <<'PY' | tee -a "$WORK/summary"
import json, sys
label, n, rust_s, rust_kb, rust_bytes = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
node, node_kb = json.load(open(sys.argv[6])), int(sys.argv[7])
rust_rate = n / max(rust_s, 0.01)
node_rate = node["requests"] / node["seconds"]
print(f"{label}: mboxscope decide {rust_rate:,.0f} requests/s ({n} in {rust_s:.2f} s, {rust_bytes / n / 1024:.1f} KiB a line), peak memory {rust_kb/1024:.1f} MiB")
print(f"{label}: Node SDK         {node_rate:,.0f} requests/s ({node['requests']} in {node['seconds']:.2f} s, {node['bytes'] / 1024:.1f} KiB the last response), peak memory {node_kb/1024:.1f} MiB")
print(f"{label}: ratio {rust_rate / node_rate:.1f}x (target: at least 100x)")
PY
}

bench_page light "http://local-target-test/home?bar=true"
bench_page heavy "http://local-target-test/?a=1"
echo "== summary"
cat "$WORK/summary"
