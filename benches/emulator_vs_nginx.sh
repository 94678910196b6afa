#!/usr/bin/env bash
# Emulator throughput against nginx, same machine, same load generator (oha), keep-alive, loopback:
#  - mboxscope serve: POST /rest/v1/delivery prefetching mbox-browsers, mbox-params (with a
#    parameter) and target-global-mbox on the production-size artifact;
#  - nginx: GET of a static copy of the same response body.
# Then p99 latency of the emulator at half its own maximum rate.
# Targets: at least 50% of nginx's rate; p99 at half load under 2 ms.
# Usage: [ROUNDS=3] [SERVE_FLAGS=--quiet] benches/emulator_vs_nginx.sh [SECONDS]   (installs oha with
# cargo and nginx with apt if missing). SERVE_FLAGS= (empty) measures with the request lines on,
# written to a file.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-10}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
ARTIFACT=${ARTIFACT:-../shared/fixtures/artifacts/targettesting-production-rules.json}
WORK=$(mktemp -d)
cleanup() { [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

cargo build --release --quiet
OHA=$(command -v oha || echo target/bench-tools/bin/oha)
[ -x "$OHA" ] || cargo install --quiet --locked oha --root target/bench-tools
command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }

SERVE_FLAGS=${SERVE_FLAGS---quiet}
# shellcheck disable=SC2086
target/release/mboxscope serve $SERVE_FLAGS --artifact "$ARTIFACT" > "$WORK/serve.out" &
for _ in $(seq 100); do [ -s "$WORK/serve.out" ] && break; sleep 0.05; done
EMULATOR=$(head -1 "$WORK/serve.out")
cat > "$WORK/request.json" <<'JSON'
{"id":{"tntId":"bench-visitor"},"context":{"channel":"web","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36","address":{"url":"http://local-target-test/home"}},
 "prefetch":{"mboxes":[{"name":"mbox-browsers","index":1},{"name":"mbox-params","index":2,"parameters":{"foo":"bar"}},{"name":"target-global-mbox","index":3}]}}
JSON
URL="$EMULATOR/rest/v1/delivery?client=targettesting&sessionId=bench"
curl -s -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/request.json" "$URL" > "$WORK/response.json"
echo "response body: $(wc -c < "$WORK/response.json") bytes"

NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx; fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
  server { listen 127.0.0.1:$NGINX_PORT; location / { root $WORK; default_type application/json; } }
}
CONF
nginx -c "$WORK/nginx.conf"
sleep 0.3

rate() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["summary"]["requestsPerSec"])'; }
p99() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["latencyPercentiles"]["p99"]*1000)'; }

emulator() { "$OHA" --no-tui --output-format json -z "${SECONDS_EACH}s" -c "$CONNECTIONS" "$@" -m POST -H 'Content-Type: application/json' -D "$WORK/request.json" "$URL"; }
median() { python3 -c 'import statistics,sys; print(statistics.median(float(a) for a in sys.argv[1:]))' "$@"; }

# This machine's speed drifts between runs: rounds alternate the two servers, medians are kept.
"$OHA" --no-tui --output-format json -z 2s -c "$CONNECTIONS" -m POST -H 'Content-Type: application/json' -D "$WORK/request.json" "$URL" > /dev/null
EMUS=(); NGXS=(); RATIOS=()
for round in $(seq "$ROUNDS"); do
  EMU=$(emulator | rate)
  NGX=$("$OHA" --no-tui --output-format json -z "${SECONDS_EACH}s" -c "$CONNECTIONS" "http://127.0.0.1:$NGINX_PORT/response.json" | rate)
  EMUS+=("$EMU"); NGXS+=("$NGX"); RATIOS+=("$(python3 -c "print($EMU/$NGX)")")
  python3 -c "print(f'round $round: emulator {$EMU:,.0f} requests/s, nginx {$NGX:,.0f} requests/s, ratio {$EMU/$NGX:.0%}')"
done
HALF=$(python3 -c "print(int($(median "${EMUS[@]}")/2))")
P99S=()
for round in $(seq "$ROUNDS"); do
  P99S+=("$(emulator -q "$HALF" --latency-correction | p99)")
done
python3 - "$(median "${EMUS[@]}")" "$(median "${NGXS[@]}")" "$(median "${RATIOS[@]}")" "$HALF" "$(median "${P99S[@]}")" "${P99S[*]}" <<'PY'
import sys
emu, ngx, ratio, half, p99 = (float(a) for a in sys.argv[1:6])
runs = ", ".join(f"{float(p):.2f}" for p in sys.argv[6].split())
print(f"emulator: {emu:,.0f} requests/s   nginx (static copy): {ngx:,.0f} requests/s   ratio {ratio:.0%} (median of rounds; target: at least 50%)")
print(f"p99 at half load ({int(half):,} requests/s): {p99:.2f} ms (median of {runs}; target: under 2 ms)")
PY
echo "serve ${SERVE_FLAGS:-(request lines on)}: $(($(wc -l < "$WORK/serve.out") - 2)) request lines written"
