#!/usr/bin/env bash
# mboxscope proxy against the upstream directly, same machine, same load generator (oha),
# keep-alive, loopback, side by side in one run:
#  - upstream: mboxscope serve on the demo artifact; the request prefetches home-hero,
#    product-recs (with a parameter) and the page load, with no tntId (every request a new
#    visitor, as an application's traffic is), so the proxy journals a page view per request;
#  - rate: rounds alternate direct and through the proxy at full load; medians are kept (nine
#    rounds of 4 s by default: this VM's speed swings by a fifth between runs);
#  - added latency: p99 through the proxy minus p99 direct, both at half the direct rate;
#    each round measures the upstream directly twice in a row: the difference between the
#    two is the machine's noise floor, which an added p99 is only as precise as; nginx as a
#    proxy is measured at the same rate in the same rounds, for what forwarding alone adds;
#  - reference: nginx as a plain reverse proxy (proxy_pass over kept upstream connections, no
#    journal) in the same rounds: what forwarding alone leaves of the direct rate on this machine;
#  - CPU per exchange at a fixed rate (a fifth of the direct rate, 10 s, from /proc): the proxy's
#    forwarding threads and its journal writer, and nginx's workers, which is steadier than a
#    rate at full load on a machine whose speed drifts;
#  - the journal: the proxy is stopped with Ctrl-C (SIGINT) at the end and says how many
#    exchanges it journaled and how many it left out (its queue full: forwarding never waits).
# Targets: through the proxy at least 70% of the direct rate; p99 added under 1 ms at half load.
# Usage: [ROUNDS=9] [P99_ROUNDS=3] [CONNECTIONS=32] [WORKERS=N] benches/proxy_vs_direct.sh [SECONDS]
#   (installs oha with cargo and nginx with apt if missing; WORKERS: the proxy's --workers)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-4}
ROUNDS=${ROUNDS:-9}
P99_ROUNDS=${P99_ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
WORK=$(mktemp -d)
cleanup() { [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

nice -n 5 cargo build --release --quiet
OHA=$(command -v oha || echo target/bench-tools/bin/oha)
[ -x "$OHA" ] || cargo install --quiet --locked oha --root target/bench-tools
source benches/nginx.sh
need_nginx

first_line() { for _ in $(seq 200); do [ -s "$1" ] && break; sleep 0.05; done; head -1 "$1"; }
target/release/mboxscope serve --quiet > "$WORK/serve.out" &
UPSTREAM=$(first_line "$WORK/serve.out")
MBOXSCOPE_DATA_DIR="$WORK/data" target/release/mboxscope proxy --upstream "$UPSTREAM" --client mboxscopedemo \
  ${WORKERS:+--workers "$WORKERS"} > "$WORK/proxy.out" 2> "$WORK/proxy.err" &
PROXY_PID=$!
PROXY=$(first_line "$WORK/proxy.out")

# nginx as a plain reverse proxy to the same upstream (the upstream checks Host, so it is kept).
UPSTREAM_AUTHORITY=${UPSTREAM#http://}
NGINX_PORT=$(free_port)
NGINX="http://127.0.0.1:$NGINX_PORT"
start_nginx "  upstream target { server $UPSTREAM_AUTHORITY; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { proxy_pass http://target; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header Host $UPSTREAM_AUTHORITY; }
  }"

cat > "$WORK/request.json" <<'JSON'
{"context":{"channel":"web","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36","address":{"url":"https://shop.example.com/"}},
 "prefetch":{"mboxes":[{"name":"home-hero","index":1},{"name":"product-recs","index":2,"parameters":{"category":"shoes"}}],"pageLoad":{}}}
JSON
QUERY="rest/v1/delivery?client=mboxscopedemo&sessionId=bench"
curl -s -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/request.json" "$UPSTREAM/$QUERY" > "$WORK/direct.json"
curl -s -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/request.json" "$PROXY/$QUERY" > "$WORK/proxied.json"
curl -s -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/request.json" "$NGINX/$QUERY" > "$WORK/nginx.json"
echo "response body: $(wc -c < "$WORK/direct.json") bytes direct, $(wc -c < "$WORK/proxied.json") through the proxy, $(wc -c < "$WORK/nginx.json") through nginx"

load() { local base=$1; shift; "$OHA" --no-tui --output-format json -c "$CONNECTIONS" "$@" -m POST -H 'Content-Type: application/json' -D "$WORK/request.json" "$base/$QUERY"; }
rate() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["summary"]["requestsPerSec"])'; }
p99() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["latencyPercentiles"]["p99"]*1000)'; }
median() { python3 -c 'import statistics,sys; print(statistics.median(float(a) for a in sys.argv[1:]))' "$@"; }

# Warm both paths (connections, caches).
load "$UPSTREAM" -z 2s > /dev/null
load "$PROXY" -z 2s > /dev/null
load "$NGINX" -z 2s > /dev/null
DIRECTS=(); PROXIEDS=(); RATIOS=(); NGINX_RATIOS=()
for round in $(seq "$ROUNDS"); do
  D=$(load "$UPSTREAM" -z "${SECONDS_EACH}s" | rate)
  P=$(load "$PROXY" -z "${SECONDS_EACH}s" | rate)
  N=$(load "$NGINX" -z "${SECONDS_EACH}s" | rate)
  DIRECTS+=("$D"); PROXIEDS+=("$P"); RATIOS+=("$(python3 -c "print($P/$D)")"); NGINX_RATIOS+=("$(python3 -c "print($N/$D)")")
  python3 -c "print(f'round $round: direct {$D:,.0f} requests/s, through the proxy {$P:,.0f} requests/s, ratio {$P/$D:.0%} (nginx as a proxy {$N:,.0f}, {$N/$D:.0%})')"
done

# CPU per exchange at a fixed rate, per thread of the proxy and for nginx's workers (/proc ticks).
sleep 3 # the journal writer catches up with the full-load rounds first
ticks() { for task in "$@"; do cat "$task/stat" 2>/dev/null || true; done | awk '{sum += $14 + $15} END {print sum + 0}'; }
FIXED=$(python3 -c "print(int($(median "${DIRECTS[@]}")/5))")
PROXY_TASKS=(/proc/"$PROXY_PID"/task/*)
FORWARDING=(); WRITER=()
for task in "${PROXY_TASKS[@]}"; do
  case "$(cat "$task/comm")" in proxy-journal) WRITER+=("$task") ;; *) FORWARDING+=("$task") ;; esac
done
NGINX_WORKERS=($(pgrep -P "$(cat "$WORK/nginx.pid")" | sed 's|^|/proc/|'))
B_F=$(ticks "${FORWARDING[@]}"); B_W=$(ticks "${WRITER[@]}")
load "$PROXY" -z 10s -q "$FIXED" > /dev/null
A_F=$(ticks "${FORWARDING[@]}"); A_W=$(ticks "${WRITER[@]}")
B_N=$(ticks "${NGINX_WORKERS[@]}")
load "$NGINX" -z 10s -q "$FIXED" > /dev/null
A_N=$(ticks "${NGINX_WORKERS[@]}")
PER=$(python3 -c "print(1e6 / $(getconf CLK_TCK) / ($FIXED * 10))")
HALF=$(python3 -c "print(int($(median "${DIRECTS[@]}")/2))")
P99_DIRECT=(); P99_PROXIED=(); ADDED=(); NOISE=(); NGINX_ADDED=()
for round in $(seq "$P99_ROUNDS"); do
  D=$(load "$UPSTREAM" -z "${SECONDS_EACH}s" -q "$HALF" --latency-correction | p99)
  D2=$(load "$UPSTREAM" -z "${SECONDS_EACH}s" -q "$HALF" --latency-correction | p99)
  P=$(load "$PROXY" -z "${SECONDS_EACH}s" -q "$HALF" --latency-correction | p99)
  N=$(load "$NGINX" -z "${SECONDS_EACH}s" -q "$HALF" --latency-correction | p99)
  P99_DIRECT+=("$D"); P99_PROXIED+=("$P")
  ADDED+=("$(python3 -c "print($P-$D2)")"); NOISE+=("$(python3 -c "print(abs($D2-$D))")"); NGINX_ADDED+=("$(python3 -c "print($N-$D2)")")
  python3 -c "print(f'round $round at {$HALF:,} requests/s: p99 direct {$D:.2f} ms then {$D2:.2f} ms (noise {abs($D2-$D):.2f} ms), through the proxy {$P:.2f} ms, added {$P-$D2:.2f} ms; through nginx {$N:.2f} ms, added {$N-$D2:.2f} ms')"
done
kill -INT "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true
JOURNALED=$(cat "$WORK"/data/ledger/*.jsonl | wc -l)
python3 - "$(median "${DIRECTS[@]}")" "$(median "${PROXIEDS[@]}")" "$(median "${RATIOS[@]}")" "$HALF" \
  "$(median "${P99_DIRECT[@]}")" "$(median "${P99_PROXIED[@]}")" "$(median "${ADDED[@]}")" "$(median "${NOISE[@]}")" "$JOURNALED" \
  "$(median "${NGINX_RATIOS[@]}")" "$FIXED" "$(python3 -c "print(($A_F - $B_F) * $PER)")" "$(python3 -c "print(($A_W - $B_W) * $PER)")" "$(python3 -c "print(($A_N - $B_N) * $PER)")" "$(median "${NGINX_ADDED[@]}")" <<'PY'
import sys
direct, proxied, ratio, half, p99_direct, p99_proxied, added, noise, journaled, nginx_ratio, fixed, forwarding, writer, nginx, nginx_added = (float(a) for a in sys.argv[1:16])
print(f"direct: {direct:,.0f} requests/s   through the proxy: {proxied:,.0f} requests/s   ratio {ratio:.0%} (median of rounds; target: at least 70%)")
print(f"reference: nginx as a plain reverse proxy (no journal) in the same rounds: {nginx_ratio:.0%} of the direct rate (median)")
print(f"CPU per exchange at {int(fixed):,} requests/s: the proxy {forwarding + writer:.1f} us (forwarding {forwarding:.1f} us, journal writer {writer:.1f} us); nginx as a proxy {nginx:.1f} us")
print(f"p99 at half load ({int(half):,} requests/s): direct {p99_direct:.2f} ms, through the proxy {p99_proxied:.2f} ms, added {added:.2f} ms (medians of rounds; target: under 1 ms)")
print(f"reference: nginx as a proxy at the same rate adds {nginx_added:.2f} ms to the p99 (median of rounds)")
print(f"noise floor: p99 of the upstream measured twice in a row differs by {noise:.2f} ms (median of rounds)")
print(f"journal: {int(journaled):,} lines written by the proxy during the run")
PY
if [ -s "$WORK/proxy.err" ]; then echo "proxy stderr:"; grep -v "left out of the journal" "$WORK/proxy.err" | grep -v '^stopped$' || true; fi
