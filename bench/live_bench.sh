#!/usr/bin/env bash
# The gateway holding many idle live notification streams (GET /api/v1/notifications/stream,
# Server-Sent Events): USERS accounts each open the shipped maximum of 5 streams (10,000 by
# default) on one gateway loop thread with the shipped limits, and stay idle. Prints the gateway's
# resident memory before and after and per stream, and the time from a PUBLISH on
# live:notifications (as the notification service sends it) to each of that user's open
# streams, for 200 users, with all the streams open. Reference: a budget of 16 KiB of gateway
# memory per idle stream (160 MB for 10,000 on this 24 GiB box; a thread-per-connection server
# spends more than that on each thread's stack alone); the ratio printed is budget / measured
# (above 1 is better).
#   USERS=2000 PER_USER=5 bash bench/live_bench.sh build/release/app/restinu
set -euo pipefail
bin=$(realpath "${1:?usage: live_bench.sh path/to/restinu}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$root/scripts/lib.sh"
users=${USERS:-2000}
per_user=${PER_USER:-5}
budget_kib=16
password="bench passphrase 2026"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d /tmp/restinu-bench-live.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  bash "$root/scripts/testenv.sh" stop "$work/env" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

bash "$root/scripts/testenv.sh" start "$work/env" >/dev/null
# shellcheck disable=SC1091
source "$work/env/env.sh"
export RESTINU_PG__URL="host=127.0.0.1 port=$RESTINU_TEST_PG_PORT user=postgres"
export RESTINU_REDIS__PORT=$RESTINU_TEST_REDIS_PORT
export RESTINU_LOG__ACCESS=false RESTINU_LOG__LEVEL=warn
"$bin" migrate user --create-database >/dev/null 2>&1

user_port=$(free_port)
gw_port=$(free_port)
gw_admin_port=$(free_port)
RESTINU_HTTP__PORT=$user_port RESTINU_HTTP__THREADS=1 RESTINU_WORKERS__THREADS=2 \
  RESTINU_WORKERS__QUEUE_LIMIT=$((users + 100)) RESTINU_AUTH__ACCESS_TTL=1h \
  "$bin" user >"$work/user.log" 2>&1 &
pids+=($!)
wait_http "$user_port" /readyz "$work"
# Every bench client comes from 127.0.0.1: the per-address cap on new tokens to verify (120 a
# minute, against floods of forged tokens) would refuse all but the first 120 users here.
cat >"$work/gateway.yaml" <<YAML
gateway:
  token_checks_per_minute: 1000000
  upstreams:
    user: 127.0.0.1:$user_port
  rate_policies:
    bench: {limit: 1000000000, window: 60s}
  routes:
    all: {prefix: /api/v1, rate_policy: bench}
YAML
RESTINU_HTTP__PORT=$gw_port RESTINU_HTTP__ADMIN_PORT=$gw_admin_port RESTINU_HTTP__THREADS=1 \
  "$bin" gateway --config "$work/gateway.yaml" >"$work/gateway.log" 2>&1 &
gw_pid=$!
pids+=("$gw_pid")
wait_http "$gw_port" /healthz "$work"

# One account through the API, the others with its password hash in one statement; then every
# account signs in through the gateway (its token is what a browser would hold).
curl -fsS -o /dev/null -H 'Content-Type: application/json' "http://127.0.0.1:$gw_port/api/v1/auth/register" \
  -d "{\"email\":\"live-0@example.com\",\"password\":\"$password\"}"
psql "$RESTINU_PG__URL dbname=users_db" -qc "
  INSERT INTO users (id, email, password_hash)
  SELECT gen_random_uuid(), 'live-' || i || '@example.com', u.password_hash
  FROM generate_series(1, $users - 1) i, users u WHERE u.email = 'live-0@example.com'" >/dev/null
/usr/bin/python3 - "$gw_port" "$users" "$password" >"$work/tokens" <<'PY'
import base64, concurrent.futures, http.client, json, sys
port, users, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def login(i):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request("POST", "/api/v1/auth/login",
              json.dumps({"email": f"live-{i}@example.com", "password": password}),
              {"Content-Type": "application/json"})
    token = json.loads(c.getresponse().read())["access_token"]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    return f"{claims['sub']} {token}"
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    for line in pool.map(login, range(users)):
        print(line)
PY

echo "bench live: $users users x $per_user streams = $((users * per_user)) idle streams on one gateway loop thread"
echo "  shipped limits: 5 streams per user, 15 s heartbeat; notifications published on Redis"
out=$(/usr/bin/python3 "$here/live_load.py" "$gw_port" "$gw_pid" "$RESTINU_TEST_REDIS_PORT" \
  "$work/tokens" "$per_user")
echo "$out" | sed 's/^/  /'
val() { awk -v k="$1" '$1 == k {print $2}' <<<"$out"; }
per=$(val kib_per_stream)
ratio=$(awk -v b="$budget_kib" -v m="$per" 'BEGIN { printf "%.2f", (m > 0 ? b / m : 0) }')
printf '  gateway memory per idle stream: %s KiB (RSS %s -> %s KiB)\n' "$per" \
  "$(val rss_before_kib)" "$(val rss_after_kib)"
printf '  ratio budget (%s KiB) / measured: %sx (target >= 1.00x)\n' "$budget_kib" "$ratio"
printf '  PUBLISH -> stream with all streams open: p50 %s ms, p99 %s ms, max %s ms (%s of %s delivered)\n' \
  "$(val deliver_p50_ms)" "$(val deliver_p99_ms)" "$(val deliver_max_ms)" "$(val delivered)" "$(val expected)"
if [[ "$(val failures)" != 0 || "$(val delivered)" != "$(val expected)" ]]; then
  echo "bench live: streams failed to open or notifications were lost" >&2
  exit 1
fi
