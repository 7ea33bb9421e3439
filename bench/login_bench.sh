#!/usr/bin/env bash
# Login under load: USERS accounts log in at the same moment against one user service (release
# build) on throwaway PostgreSQL and Redis, while a probe keeps calling /healthz on the same
# service. Prints throughput and latency percentiles, and compares the throughput with the
# ceiling that the Argon2id cost sets (worker threads / time of one verification), and the
# probe's p99 with the login p99 (the loop threads must stay responsive while hashing runs
# on the worker pool).
#   USERS=1000 WORKERS=2 bash bench/login_bench.sh build/release/app/restinu
set -euo pipefail
bin=$(realpath "${1:?usage: login_bench.sh path/to/restinu}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
users=${USERS:-1000}
workers=${WORKERS:-2}
password="bench passphrase 2026"
source "$root/scripts/lib.sh"
ulimit -n 65536 2>/dev/null || ulimit -n 4096 2>/dev/null || true

dir=$(mktemp -d /tmp/restinu-bench-login.XXXXXX)
chmod 755 "$dir"
svc_pid=""
cleanup() {
  [[ -n "$svc_pid" ]] && kill -TERM "$svc_pid" 2>/dev/null && wait "$svc_pid" 2>/dev/null
  bash "$root/scripts/testenv.sh" stop "$dir" >/dev/null 2>&1
  rm -rf "$dir"
}
trap cleanup EXIT
bash "$root/scripts/testenv.sh" start "$dir" >/dev/null
# shellcheck disable=SC1091
source "$dir/env.sh"
export RESTINU_PG__URL="host=127.0.0.1 port=$RESTINU_TEST_PG_PORT user=postgres"
export RESTINU_PG__DATABASE=bench_users RESTINU_REDIS__PORT=$RESTINU_TEST_REDIS_PORT
export RESTINU_KYC__ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
export RESTINU_AUTH__KEY_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
# All USERS logins queue for the hash at once here, to measure the Argon2id ceiling; the shipped
# default (64 per worker thread) would answer the rest 503 at once instead.
export RESTINU_WORKERS__QUEUE_LIMIT=$((users + 100))
export RESTINU_LOG__ACCESS=false RESTINU_LOG__LEVEL=warn
port=$(free_port)
psql "$RESTINU_PG__URL dbname=postgres" -qc "CREATE DATABASE bench_users" >/dev/null
"$bin" migrate user >/dev/null 2>&1
RESTINU_HTTP__PORT=$port RESTINU_HTTP__THREADS=1 RESTINU_WORKERS__THREADS=$workers \
  RESTINU_PG__POOL_SIZE=16 "$bin" user >"$dir/user.log" 2>&1 &
svc_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

# One account through the API; the others get the same password hash in one statement
# (registering 1,000 accounts one by one would only measure registration).
curl -fsS -o /dev/null -H 'Content-Type: application/json' "http://127.0.0.1:$port/api/v1/auth/register" \
  -d "{\"email\":\"bench-0@example.com\",\"password\":\"$password\"}"
psql "$RESTINU_PG__URL dbname=bench_users" -qc "
  INSERT INTO users (id, email, password_hash)
  SELECT gen_random_uuid(), 'bench-' || i || '@example.com', u.password_hash
  FROM generate_series(1, $users - 1) i, users u WHERE u.email = 'bench-0@example.com'" >/dev/null
cost=$(psql "$RESTINU_PG__URL dbname=bench_users" -tAc \
  "SELECT split_part(password_hash, '\$', 4) FROM users WHERE email = 'bench-0@example.com'")

echo "bench login: $users users log in at once; one loop thread, $workers worker threads"
echo "  Argon2id cost: $cost (19 MiB, 2 passes, 1 lane: OWASP's minimum for Argon2id)"
out=$(/usr/bin/python3 "$here/login_load.py" "$port" "$users" "$password" 'bench-{i}@example.com')
echo "$out" | sed 's/^/  /'
val() { awk -v k="$1" '$1 == k {print $2}' <<<"$out"; }
failures=$(val failures)
ceiling=$(awk -v w="$workers" -v ms="$(val solo_login_ms)" 'BEGIN { printf "%.1f", w * 1000 / ms }')
ratio=$(awk -v a="$(val logins_per_second)" -v b="$ceiling" 'BEGIN { printf "%.2f", a / b }')
echo "  ceiling from the hash cost: $workers workers / $(val solo_login_ms) ms = $ceiling logins/s"
echo "  ratio logins per second / ceiling: ${ratio}x"
echo "  loop responsiveness: /healthz p99 $(val healthz_p99_ms) ms while login p99 was $(val login_p99_ms) ms"
if [[ "$failures" != 0 ]]; then
  echo "bench login: $failures logins failed" >&2
  exit 1
fi
