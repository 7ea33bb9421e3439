#!/usr/bin/env bash
# The web app's files from the gateway (one loop thread, from memory) versus nginx (one worker,
# sendfile) serving the same web/dist, driven by wrk in alternating slices. Rows, realistic
# first: the app's entry script (the largest file every first visit fetches, ~290 KB), then its
# page (index.html, ~1 KB, revalidated on every visit), then a 304 revalidation of the page.
# Target (issue 22): the gateway at nginx-class speed, >= 0.8x nginx on each row.
#   SLICE=3s ROUNDS=3 CONNECTIONS=64 bash bench/static_bench.sh build/release/app/restinu
set -euo pipefail
bin=$(realpath "${1:?usage: static_bench.sh path/to/restinu}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$root/scripts/lib.sh"
slice=${SLICE:-3s}
rounds=${ROUNDS:-3}
connections=${CONNECTIONS:-64}
dist=$root/web/dist
if [[ ! -f $dist/index.html ]]; then
  (cd "$root/web" && npm run --silent build >/dev/null)
fi

work=$(mktemp -d /tmp/restinu-bench-static.XXXXXX)
chmod 755 "$work"
pids=()
redis_port=$(free_port)
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  redis_stop "$work/redis" "$redis_port" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

redis_start "$work/redis" "$redis_port"
gw_port=$(free_port)
RESTINU_HTTP__PORT=$gw_port RESTINU_HTTP__ADMIN_PORT=$(free_port) RESTINU_HTTP__THREADS=1 \
  RESTINU_REDIS__PORT=$redis_port RESTINU_LOG__ACCESS=false RESTINU_LOG__LEVEL=warn \
  RESTINU_IDENTITY__SECRET=static-bench-identity-secret-0123456789 \
  RESTINU_GATEWAY__WEB__DIR="$dist" "$bin" gateway >"$work/gateway.log" 2>&1 &
pids+=($!)
wait_http "$gw_port" /healthz "$work"

ng_port=$(free_port)
nginx_run "$work" nginx 1 "  sendfile on;
  tcp_nopush on;
  include /etc/nginx/mime.types;
  server {
    listen 127.0.0.1:$ng_port;
    root $dist;
    etag on;
    location /assets/ { add_header Cache-Control \"public, max-age=31536000, immutable\"; }
    location / { add_header Cache-Control \"no-cache\"; try_files \$uri /index.html; }
  }"
pids+=("$NGINX_PID")
wait_http "$ng_port" /index.html "$work"

entry=$(sed -n 's/.*<script[^>]*src="\([^"]*\)".*/\1/p' "$dist/index.html" | head -1)
[[ -n $entry ]] || { echo "bench: no entry script in index.html" >&2; exit 1; }
gw_etag=$(curl -sS -D - -o /dev/null "http://127.0.0.1:$gw_port/" | awk -F': ' 'tolower($1) == "etag" {print $2}' | tr -d '\r')
ng_etag=$(curl -sS -D - -o /dev/null "http://127.0.0.1:$ng_port/index.html" | awk -F': ' 'tolower($1) == "etag" {print $2}' | tr -d '\r')

run_slice() {  # url [header] -> "requests seconds"
  local out
  if [[ -n ${2:-} ]]; then
    out=$(wrk -t1 -c"$connections" -d"$slice" -H "$2" "$1")
  else
    out=$(wrk -t1 -c"$connections" -d"$slice" "$1")
  fi
  awk '/requests in/ {n = $1; s = $4; sub(/s,$/, "", s)} END {print n, s}' <<<"$out"
}

row() {  # label gateway_url nginx_url [gateway_header nginx_header]
  local label=$1 gw_n=0 gw_s=0 ng_n=0 ng_s=0 n s
  wrk -t1 -c4 -d1s "$2" >/dev/null
  wrk -t1 -c4 -d1s "$3" >/dev/null
  for _ in $(seq 1 "$rounds"); do
    read -r n s <<<"$(run_slice "$2" "${4:-}")"
    gw_n=$((gw_n + n)); gw_s=$(awk -v a="$gw_s" -v b="$s" 'BEGIN {print a + b}')
    read -r n s <<<"$(run_slice "$3" "${5:-}")"
    ng_n=$((ng_n + n)); ng_s=$(awk -v a="$ng_s" -v b="$s" 'BEGIN {print a + b}')
  done
  local gw_rate ng_rate
  gw_rate=$(awk -v n="$gw_n" -v s="$gw_s" 'BEGIN {printf "%.0f", n / s}')
  ng_rate=$(awk -v n="$ng_n" -v s="$ng_s" 'BEGIN {printf "%.0f", n / s}')
  printf '  %-44s gateway %8s req/s   nginx %8s req/s   ratio %sx (target >= 0.80x)\n' "$label" \
    "$gw_rate" "$ng_rate" "$(awk -v a="$gw_rate" -v b="$ng_rate" 'BEGIN {printf "%.2f", a / b}')"
}

size=$(stat -c %s "$dist$entry")
echo "bench static: wrk -t1 -c$connections, $rounds rounds of $slice each per row, alternating"
row "entry script $entry ($size bytes)" "http://127.0.0.1:$gw_port$entry" "http://127.0.0.1:$ng_port$entry"
row "the page / ($(stat -c %s "$dist/index.html") bytes)" "http://127.0.0.1:$gw_port/" "http://127.0.0.1:$ng_port/"
row "the page revalidated (304)" "http://127.0.0.1:$gw_port/" "http://127.0.0.1:$ng_port/" \
  "If-None-Match: $gw_etag" "If-None-Match: $ng_etag"
