#!/usr/bin/env bash
# The gateway (one loop thread) in front of a property instance, versus nginx (one worker)
# proxying to an nginx that serves the same body, driven by wrk in the same run. The gateway
# runs with everything on: the bearer token is verified (cached until it expires, as Envoy's
# JWT filter does), every request is rate limited by the Lua sliding window in Redis (a busy
# caller's permits leased ahead, ADR 0005), and the signed identity headers are added. The route
# pipelines its GETs to the property instance (`pipeline: true`, ADR 0008): requests made in the
# same turn of the gateway's loop share one upstream connection. Prints both rates, p99s and the
# ratio. Target (issue 5): gateway >= 1.0x nginx. This is a best case (one caller, whose
# rate-limit leases make Redis nearly free, and a 404 that never reaches the database); the
# realistic row, a real listing from the database for 1,200 callers at the shipped limits, is
# bench/mixed_bench.sh's "listing pages alone" (issue 16), which make bench runs too.
#   SLICE=3s ROUNDS=5 CONNECTIONS=64 bash bench/gateway_bench.sh build/release/app/restinu
set -euo pipefail
bin=$(realpath "${1:?usage: gateway_bench.sh path/to/restinu}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$root/scripts/lib.sh"
slice=${SLICE:-3s}
rounds=${ROUNDS:-5}
connections=${CONNECTIONS:-64}
# For a breakdown: RATE=off (no rate limiting), TOKEN=off (no bearer token sent), PIPELINE=off
# (one upstream connection per request in flight, as nginx does).
rate=${RATE:-on}
use_token=${TOKEN:-on}
pipeline=${PIPELINE:-on}

work=$(mktemp -d /tmp/restinu-bench-gw.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  bash "$root/scripts/testenv.sh" stop "$work/env" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# PostgreSQL and Redis on free ports (the property and user services need their databases).
bash "$root/scripts/testenv.sh" start "$work/env" >/dev/null
# shellcheck disable=SC1091
source "$work/env/env.sh"
export RESTINU_PG__URL="host=127.0.0.1 port=$RESTINU_TEST_PG_PORT user=postgres"
export RESTINU_REDIS__PORT=$RESTINU_TEST_REDIS_PORT
export RESTINU_LOG__ACCESS=false RESTINU_LOG__LEVEL=warn RESTINU_WORKERS__THREADS=1
"$bin" migrate all --create-database >/dev/null 2>&1

user_port=$(free_port)
prop_port=$(free_port)
gw_port=$(free_port)
gw_admin_port=$(free_port)
RESTINU_HTTP__PORT=$user_port RESTINU_HTTP__THREADS=1 RESTINU_AUTH__ACCESS_TTL=1h \
  "$bin" user >"$work/user.log" 2>&1 &
pids+=($!)
RESTINU_HTTP__PORT=$prop_port RESTINU_HTTP__THREADS=1 "$bin" property >"$work/property.log" 2>&1 &
pids+=($!)
wait_http "$user_port" /readyz "$work"
wait_http "$prop_port" /readyz "$work"
cat >"$work/gateway.yaml" <<YAML
gateway:
  upstreams:
    user: 127.0.0.1:$user_port
    property: 127.0.0.1:$prop_port
  rate_policies:
    bench: {limit: 1000000000, window: 60s}
  routes:
    all: {prefix: /api/v1, rate_policy: $([[ $rate == on ]] && echo bench || echo none), pipeline: $([[ $pipeline == on ]] && echo true || echo false)}
YAML
RESTINU_HTTP__PORT=$gw_port RESTINU_HTTP__ADMIN_PORT=$gw_admin_port RESTINU_HTTP__THREADS=1 "$bin" gateway --config "$work/gateway.yaml" \
  >"$work/gateway.log" 2>&1 &
pids+=($!)
wait_http "$gw_port" /healthz "$work"  # (its /readyz wants every service; only two run here)

cred='{"email":"bench@example.com","password":"quiet lanterns over the harbour"}'
curl -fsS -o /dev/null -H 'Content-Type: application/json' -d "$cred" \
  "http://127.0.0.1:$gw_port/api/v1/auth/register"
token=$(curl -fsS -H 'Content-Type: application/json' -d "$cred" \
  "http://127.0.0.1:$gw_port/api/v1/auth/login" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[[ -n $token ]] || { echo "bench: no access token" >&2; exit 1; }

# What the property instance answers (its not-found problem, a small JSON): nginx serves the
# same status and body.
path=/api/v1/properties/1
body=$(curl -sS -H "Authorization: Bearer $token" "http://127.0.0.1:$gw_port$path")
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$gw_port$path")
check=$(curl -sS -D - -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$gw_port$path")
if [[ $rate == on ]] && ! grep -qi '^ratelimit: "bench"' <<<"$check"; then
  echo "bench: the gateway does not rate limit" >&2
  exit 1
fi
auth=(-H "Authorization: Bearer $token")
[[ $use_token == on ]] || auth=()

ng_back=$(free_port)
ng_front=$(free_port)
escaped=${body//\'/\\\'}
nginx_run "$work" nginx-back 1 "  server {
    listen 127.0.0.1:$ng_back;
    location / {
      default_type application/problem+json;
      return $code '$escaped';
    }
  }"
pids+=("$NGINX_PID")
nginx_run "$work" nginx-front 1 "  upstream backend {
    server 127.0.0.1:$ng_back;
    keepalive 128;
  }
  server {
    listen 127.0.0.1:$ng_front;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_set_header X-Forwarded-For \$remote_addr;
    }
  }"
pids+=("$NGINX_PID")
for i in $(seq 1 100); do
  c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ng_front$path" || true)
  [[ $c == "$code" ]] && break
  sleep 0.05
done

# The machine's speed drifts by tens of percent within a minute (a shared VM), so the two
# proxies are measured in alternating slices and each gets the same mix of good and bad moments.
run_slice() {  # port -> "requests seconds p99_ms"
  local out
  out=$(wrk -t1 -c"$connections" -d"$slice" --latency "${auth[@]}" "http://127.0.0.1:$1$path")
  awk '/requests in/ {n = $1; s = $4; sub(/s,$/, "", s)}
       $1 == "99%" {p = $2; if (p ~ /us$/) {sub(/us$/, "", p); p /= 1000} else if (p ~ /ms$/) {sub(/ms$/, "", p)} else if (p ~ /s$/) {sub(/s$/, "", p); p *= 1000}}
       END {print n, s, p}' <<<"$out"
}

echo "bench gateway: wrk -t1 -c$connections GET $path ($code, ${#body} bytes), $rounds rounds of $slice each, alternating"
echo "  gateway: 1 loop thread; rate limit in Redis: $rate; bearer token verified (cached): $use_token; upstream pipelining: $pipeline"
wrk -t1 -c4 -d2s "${auth[@]}" "http://127.0.0.1:$gw_port$path" >/dev/null
wrk -t1 -c4 -d2s "${auth[@]}" "http://127.0.0.1:$ng_front$path" >/dev/null
gw_n=0 gw_s=0 ng_n=0 ng_s=0 gw_p99s=() ng_p99s=()
for r in $(seq 1 "$rounds"); do
  read -r n s p <<<"$(run_slice "$gw_port")"
  gw_n=$((gw_n + n)); gw_s=$(awk -v a="$gw_s" -v b="$s" 'BEGIN {print a + b}'); gw_p99s+=("$p")
  read -r n2 s2 p2 <<<"$(run_slice "$ng_front")"
  ng_n=$((ng_n + n2)); ng_s=$(awk -v a="$ng_s" -v b="$s2" 'BEGIN {print a + b}'); ng_p99s+=("$p2")
  printf '  round %d: gateway %8.0f req/s, nginx %8.0f req/s\n' "$r" \
    "$(awk -v n="$n" -v s="$s" 'BEGIN {print n / s}')" "$(awk -v n="$n2" -v s="$s2" 'BEGIN {print n / s}')"
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
gw_rate=$(awk -v n="$gw_n" -v s="$gw_s" 'BEGIN {printf "%.0f", n / s}')
ng_rate=$(awk -v n="$ng_n" -v s="$ng_s" 'BEGIN {printf "%.0f", n / s}')
gw_p99=$(median "${gw_p99s[@]}")
ng_p99=$(median "${ng_p99s[@]}")
ratio=$(awk -v a="$gw_rate" -v b="$ng_rate" 'BEGIN { printf "%.2f", a / b }')
metrics=$(curl -sS "http://127.0.0.1:$gw_admin_port/metrics")
limited=$(awk '/^restinu_gateway_limiter_local_total/ {s += $2} END {print s + 0}' <<<"$metrics")
pipelined=$(awk '/^restinu_http_client_pipelined_requests_total/ {s += $2} END {print s + 0}' <<<"$metrics")
forwarded=$(awk '/^restinu_http_client_requests_total\{.*client="gateway"/ {s += $2} END {print s + 0}' <<<"$metrics")
printf '  %-40s %8s req/s   p99 %s ms (median of rounds)\n' "restinu gateway -> property (1 thread)" "$gw_rate" "$gw_p99"
printf '  %-40s %8s req/s   p99 %s ms (median of rounds)\n' "nginx proxy -> nginx (1 worker each)" "$ng_rate" "$ng_p99"
printf '  ratio gateway/nginx: %sx (target >= 1.00x); limiter decisions made locally: %s\n' \
  "$ratio" "$limited"
printf '  requests pipelined to the property instance: %s of %s (%s%%)\n' "$pipelined" "$forwarded" \
  "$(awk -v a="$pipelined" -v b="$forwarded" 'BEGIN {printf "%.0f", (b > 0 ? 100 * a / b : 0)}')"
echo "  (a best case: one caller, a 404 from the property instance; the realistic row, a real listing"
echo "   from the database for 1,200 callers at the shipped limits, is bench/mixed_bench.sh's \"listing pages alone\")"
