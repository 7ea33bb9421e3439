#!/usr/bin/env bash
# The gateway (one loop thread) in front of a property instance, versus nginx (one worker)
# proxying to an nginx that serves the same body, driven by wrk in the same run. The gateway
# runs with everything on: the bearer token is verified (cached until it expires, as Envoy's
# JWT filter does), every request is rate limited by the Lua sliding window in Redis (a busy
# caller's permits leased ahead, ADR 0005), and the signed identity headers are added. Prints both rates, p99s and the
# ratio. Target (issue 5): gateway >= 1.0x nginx.
#   DURATION=10s CONNECTIONS=64 bash bench/gateway_bench.sh build/release/app/restinu
set -euo pipefail
bin=$(realpath "${1:?usage: gateway_bench.sh path/to/restinu}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$root/scripts/lib.sh"
duration=${DURATION:-10s}
connections=${CONNECTIONS:-64}
# For a breakdown: RATE=off (no rate limiting), TOKEN=off (no bearer token sent).
rate=${RATE:-on}
use_token=${TOKEN:-on}

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

wait_http() {  # port path
  local i
  for i in $(seq 1 200); do
    curl -fsS -o /dev/null "http://127.0.0.1:$1${2:-/readyz}" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "bench: nothing ready on port $1" >&2
  tail -n 5 "$work"/*.log >&2
  return 1
}

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
RESTINU_HTTP__PORT=$user_port RESTINU_HTTP__THREADS=1 RESTINU_AUTH__ACCESS_TTL=1h \
  "$bin" user >"$work/user.log" 2>&1 &
pids+=($!)
RESTINU_HTTP__PORT=$prop_port RESTINU_HTTP__THREADS=1 "$bin" property >"$work/property.log" 2>&1 &
pids+=($!)
wait_http "$user_port"
wait_http "$prop_port"
cat >"$work/gateway.yaml" <<YAML
gateway:
  upstreams:
    user: 127.0.0.1:$user_port
    property: 127.0.0.1:$prop_port
  rate_policies:
    bench: {limit: 1000000000, window: 60s}
  routes:
    all: {prefix: /api/v1, rate_policy: $([[ $rate == on ]] && echo bench || echo none)}
YAML
RESTINU_HTTP__PORT=$gw_port RESTINU_HTTP__THREADS=1 "$bin" gateway --config "$work/gateway.yaml" \
  >"$work/gateway.log" 2>&1 &
pids+=($!)
wait_http "$gw_port" /healthz  # (its /readyz wants every service; only two run here)

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
mkdir -p "$work/nginx"
escaped=${body//\'/\\\'}
for role in back front; do
  cat >"$work/nginx-$role.conf" <<CONF
daemon off;
worker_processes 1;
pid $work/nginx-$role.pid;
error_log $work/nginx-$role-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  keepalive_requests 1000000;
  upstream backend {
    server 127.0.0.1:$ng_back;
    keepalive 128;
  }
  server {
CONF
  if [[ $role == back ]]; then
    cat >>"$work/nginx-$role.conf" <<CONF
    listen 127.0.0.1:$ng_back;
    location / {
      default_type application/problem+json;
      return $code '$escaped';
    }
  }
}
CONF
  else
    cat >>"$work/nginx-$role.conf" <<CONF
    listen 127.0.0.1:$ng_front;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$remote_addr;
    }
  }
}
CONF
  fi
  nginx -c "$work/nginx-$role.conf" -e "$work/nginx-$role-error.log" &
  pids+=($!)
done
for i in $(seq 1 100); do
  c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ng_front$path" || true)
  [[ $c == "$code" ]] && break
  sleep 0.05
done

run_wrk() {  # port -> "rate p99"
  local out r p99
  wrk -t1 -c4 -d2s "${auth[@]}" "http://127.0.0.1:$1$path" >/dev/null
  out=$(wrk -t1 -c"$connections" -d"$duration" --latency "${auth[@]}" "http://127.0.0.1:$1$path")
  r=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "$r $p99"
}

echo "bench gateway: wrk -t1 -c$connections -d$duration GET $path ($code, ${#body} bytes)"
echo "  gateway: 1 loop thread; rate limit in Redis: $rate; bearer token verified (cached): $use_token"
read -r gw_rate gw_p99 <<<"$(run_wrk "$gw_port")"
read -r ng_rate ng_p99 <<<"$(run_wrk "$ng_front")"
ratio=$(awk -v a="$gw_rate" -v b="$ng_rate" 'BEGIN { printf "%.2f", a / b }')
limited=$(curl -sS "http://127.0.0.1:$gw_port/metrics" |
  awk '/^restinu_gateway_limiter_local_total/ {s += $2} END {print s + 0}')
printf '  %-40s %12s req/s   p99 %s\n' "restinu gateway -> property (1 thread)" "$gw_rate" "$gw_p99"
printf '  %-40s %12s req/s   p99 %s\n' "nginx proxy -> nginx (1 worker each)" "$ng_rate" "$ng_p99"
printf '  ratio gateway/nginx: %sx (target >= 1.00x); limiter decisions made locally: %s\n' \
  "$ratio" "$limited"
