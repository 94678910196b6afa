#!/usr/bin/env bash
# On-device decisioning speed, side by side on one core: `mboxscope decide --jsonl` against
# Adobe's Node SDK (@adobe/target-nodejs-sdk in on-device mode with artifactPayload, looping
# getOffers). Requests prefetch mbox-browsers, mbox-params (with a parameter) and
# target-global-mbox for distinct tntIds on the production-size artifact.
# Prints both rates, the ratio (target: at least 50x) and peak memory.
# Usage: benches/decide_vs_node.sh [REQUESTS]   (needs npm; loopback only, no network calls)
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

python3 - "$N" > "$WORK/requests.jsonl" <<'PY'
import json, sys
ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36"
for i in range(int(sys.argv[1])):
    print(json.dumps({"id": {"tntId": "visitor%08d" % i}, "context": {"channel": "web", "userAgent": ua,
        "address": {"url": "http://local-target-test/home?bar=true"}},
        "prefetch": {"mboxes": [{"name": "mbox-browsers", "index": 1},
                                 {"name": "mbox-params", "index": 2, "parameters": {"foo": "bar"}},
                                 {"name": "target-global-mbox", "index": 3}]}}))
PY

echo "mboxscope decide --jsonl: $N requests on one core"
/usr/bin/time -f "%e %M" -o "$WORK/rust.time" taskset -c 0 target/release/mboxscope decide --artifact "$ARTIFACT" --jsonl \
  < "$WORK/requests.jsonl" > "$WORK/out.jsonl"
read -r RUST_S RUST_KB < "$WORK/rust.time"
LINES=$(wc -l < "$WORK/out.jsonl")
[ "$LINES" -eq "$N" ] || { echo "expected $N answers, got $LINES"; exit 1; }

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
  for (let i = 0; i < lines.length; i++) {
    await client.getOffers({ request: JSON.parse(lines[i]), sessionId: "session" + i });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ requests: lines.length, seconds }));
  process.exit(0);
}
JS
echo "Node SDK getOffers (on-device): $NODE_N requests on one core"
NODE_SDK="$(realpath "$NODE_DIR")/node_modules/@adobe/target-nodejs-sdk" ARTIFACT="$ARTIFACT" REQUESTS="$WORK/requests.jsonl" NODE_N="$NODE_N" \
  /usr/bin/time -f "%e %M" -o "$WORK/node.time" taskset -c 0 node "$WORK/node-bench.js" > "$WORK/node.json"
read -r _ NODE_KB < "$WORK/node.time"

python3 - "$N" "$RUST_S" "$RUST_KB" "$WORK/node.json" "$NODE_KB" <<'PY'
import json, sys
n, rust_s, rust_kb, node_file, node_kb = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
node = json.load(open(node_file))
rust_rate = n / rust_s
node_rate = node["requests"] / node["seconds"]
print(f"mboxscope decide: {rust_rate:,.0f} requests/s ({n} in {rust_s:.2f} s), peak memory {rust_kb/1024:.1f} MiB")
print(f"Node SDK:         {node_rate:,.0f} requests/s ({node['requests']} in {node['seconds']:.2f} s), peak memory {node_kb/1024:.1f} MiB")
print(f"ratio: {rust_rate / node_rate:.1f}x (target: at least 50x)")
PY
