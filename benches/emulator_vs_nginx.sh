#!/usr/bin/env bash
# Emulator throughput against nginx, same machine, same load generator (oha), keep-alive, loopback:
#  - mboxscope serve: POST /rest/v1/delivery prefetching mbox-browsers, mbox-params (with a
#    parameter) and target-global-mbox on the production-size artifact;
#  - nginx: GET of a static copy of the same response body.
# Then p99 latency of the emulator at half its own maximum rate.
# Targets: at least 50% of nginx's rate; p99 at half load under 2 ms.
# Usage: benches/emulator_vs_nginx.sh [SECONDS]   (installs oha with cargo and nginx with apt if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-10}
CONNECTIONS=${CONNECTIONS:-32}
ARTIFACT=${ARTIFACT:-../shared/fixtures/artifacts/targettesting-production-rules.json}
WORK=$(mktemp -d)
cleanup() { [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

cargo build --release --quiet
OHA=$(command -v oha || echo target/bench-tools/bin/oha)
[ -x "$OHA" ] || cargo install --quiet --locked oha --root target/bench-tools
command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }

target/release/mboxscope serve --quiet --artifact "$ARTIFACT" > "$WORK/serve.out" &
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

"$OHA" --no-tui --output-format json -z 2s -c "$CONNECTIONS" -m POST -H 'Content-Type: application/json' -D "$WORK/request.json" "$URL" > /dev/null
EMU=$("$OHA" --no-tui --output-format json -z "${SECONDS_EACH}s" -c "$CONNECTIONS" -m POST -H 'Content-Type: application/json' -D "$WORK/request.json" "$URL" | rate)
NGX=$("$OHA" --no-tui --output-format json -z "${SECONDS_EACH}s" -c "$CONNECTIONS" "http://127.0.0.1:$NGINX_PORT/response.json" | rate)
HALF=$(python3 -c "print(int($EMU/2))")
P99=$("$OHA" --no-tui --output-format json -z "${SECONDS_EACH}s" -c "$CONNECTIONS" -q "$HALF" --latency-correction -m POST -H 'Content-Type: application/json' -D "$WORK/request.json" "$URL" | p99)
python3 - "$EMU" "$NGX" "$HALF" "$P99" <<'PY'
import sys
emu, ngx, half, p99 = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
print(f"emulator: {emu:,.0f} requests/s   nginx (static copy): {ngx:,.0f} requests/s   ratio {emu/ngx:.0%} (target: at least 50%)")
print(f"p99 at half load ({half:,} requests/s): {p99:.2f} ms (target: under 2 ms)")
PY
