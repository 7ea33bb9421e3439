#!/usr/bin/env bash
# Property search at scale: seeds LISTINGS listings (default 500,000; the seed time is printed),
# starts one property instance (release build, one loop thread), and runs bench/search_bench:
# a mix of typical searches through the service beside the same SQL straight against
# PostgreSQL, p50/p99 of each, the ratio, and the indexes each plan uses.
#   LISTINGS=500000 SECONDS_PER_RUN=12 CLIENTS=8 bash bench/search_bench.sh build/release
set -euo pipefail
build=$(cd "${1:?usage: search_bench.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
listings=${LISTINGS:-500000}
secs=${SECONDS_PER_RUN:-12}
clients=${CLIENTS:-8}
bin="$build/app/restinu"
source "$root/scripts/lib.sh"

dir=$(mktemp -d /tmp/restinu-bench-search.XXXXXX)
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
export RESTINU_REDIS__PORT=$RESTINU_TEST_REDIS_PORT RESTINU_LOG__ACCESS=false RESTINU_LOG__LEVEL=warn
"$bin" migrate user --create-database >/dev/null 2>&1
"$bin" migrate property --create-database >/dev/null 2>&1

echo "bench search: seeding $listings listings"
start=$(date +%s.%N)
"$bin" seed --listings "$listings" --users $((listings / 100 + 10)) 2>&1 | grep -v '^\s*$' | tail -2 | sed 's/^/  /'
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n="$listings" 'BEGIN {
  t = e - s; printf "  seeded %d listings in %.1f s (target: 500,000 in under 120 s)\n", n, t }'

# Settle the freshly loaded table first, as a production database would be: vacuum sets the
# hint bits and visibility map now (else the first searches write them) and a checkpoint
# flushes the load, so no mix measures the aftermath of the seed.
echo "bench search: vacuum (freeze, analyze) and checkpoint after the seed"
psql "$RESTINU_PG__URL dbname=properties_db" -q \
  -c "VACUUM (FREEZE, ANALYZE) property_search" -c "CHECKPOINT" >/dev/null

port=$(free_port)
RESTINU_HTTP__PORT=$port RESTINU_HTTP__THREADS=1 RESTINU_BUS__RELAY=false \
  "$bin" property >"$dir/property.log" 2>&1 &
svc_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "bench search: $clients concurrent clients, ${secs}s per run, one property loop thread"
"$build/bench/search_bench" "$RESTINU_PG__URL dbname=properties_db" "$port" "$secs" "$clients" | sed 's/^/  /'
