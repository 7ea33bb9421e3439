#!/usr/bin/env bash
# The runtime's plain /healthz server on ONE loop thread versus nginx with ONE worker serving
# the same JSON body, driven by wrk in the same run. Prints both rates, p99s and the ratio.
# Target (issue 2): runtime >= 0.8x nginx.
#   DURATION=10s CONNECTIONS=64 bash bench/http_bench.sh build/release/app/restinu
set -euo pipefail
bin=$(realpath "${1:?usage: http_bench.sh path/to/restinu}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../scripts/lib.sh
source "$here/../scripts/lib.sh"
duration=${DURATION:-10s}
connections=${CONNECTIONS:-64}
body='{"status":"ok"}'

work=$(mktemp -d /tmp/restinu-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The runtime: one loop thread, no access log (nginx below has none either), metrics on.
rt_port=$(free_port)
RESTINU_HTTP__PORT=$rt_port RESTINU_HTTP__THREADS=1 RESTINU_WORKERS__THREADS=1 \
  RESTINU_LOG__ACCESS=false "$bin" bench-server >"$work/restinu.log" 2>&1 &
pids+=($!)

ng_port=$(free_port)
nginx_run "$work" nginx 1 "  server {
    listen 127.0.0.1:$ng_port;
    location = /healthz {
      default_type application/json;
      return 200 '$body';
    }
  }"
pids+=("$NGINX_PID")
wait_http "$rt_port" /healthz
wait_http "$ng_port" /healthz

run_wrk() {  # port -> "rate p99_ms"
  local out
  curl -fsS "http://127.0.0.1:$1/healthz" >/dev/null
  wrk -t1 -c4 -d2s "http://127.0.0.1:$1/healthz" >/dev/null  # warm up
  out=$(wrk -t1 -c"$connections" -d"$duration" --latency "http://127.0.0.1:$1/healthz")
  local rate p99
  rate=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "$rate $p99"
}

echo "bench http: wrk -t1 -c$connections -d$duration GET /healthz, one server thread each"
read -r rt_rate rt_p99 <<<"$(run_wrk "$rt_port")"
read -r ng_rate ng_p99 <<<"$(run_wrk "$ng_port")"
ratio=$(awk -v a="$rt_rate" -v b="$ng_rate" 'BEGIN { printf "%.2f", a / b }')
printf '  %-28s %12s req/s   p99 %s\n' "restinu runtime (1 thread)" "$rt_rate" "$rt_p99"
printf '  %-28s %12s req/s   p99 %s\n' "nginx (1 worker)" "$ng_rate" "$ng_p99"
printf '  ratio runtime/nginx: %sx (target >= 0.80x)\n' "$ratio"
