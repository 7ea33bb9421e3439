#!/usr/bin/env bash
# The event bus end to end (commit → handled) on throwaway PostgreSQL and Redis, beside the
# PostgreSQL commit rate of the same server (pgbench, one-row insert transactions, the same
# number of clients), in one run. Prints events/s, the delay percentiles and the ratio.
#   SECONDS_PER_RUN=10 WRITERS=16 bash bench/events_bench.sh build/release
set -euo pipefail
build=$(cd "${1:?usage: events_bench.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
secs=${SECONDS_PER_RUN:-10}
writers=${WRITERS:-16}

dir=$(mktemp -d /tmp/restinu-bench-events.XXXXXX)
chmod 755 "$dir"
trap 'bash "$root/scripts/testenv.sh" stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
bash "$root/scripts/testenv.sh" start "$dir" >/dev/null
# shellcheck disable=SC1091
source "$dir/env.sh"
pg="host=127.0.0.1 port=$RESTINU_TEST_PG_PORT user=postgres"
psql "$pg dbname=postgres" -qc "CREATE DATABASE bench_events" >/dev/null
psql "$pg dbname=postgres" -qc "CREATE DATABASE bench_pgbench" >/dev/null
psql "$pg dbname=bench_pgbench" -qc "CREATE TABLE commits (id bigserial PRIMARY KEY, v int)" >/dev/null
# The same transaction shape as the bench's writers: BEGIN, one insert, COMMIT.
printf 'BEGIN;\nINSERT INTO commits (v) VALUES (1);\nCOMMIT;\n' >"$dir/commit.sql"

echo "bench events: ${secs}s, $writers concurrent writers, one relay and one consumer on one thread"
out=$("$build/bench/events_bench" "$pg dbname=bench_events" "$RESTINU_TEST_REDIS_PORT" "$root" "$secs" "$writers")
echo "$out" | sed 's/^/  /'
eps=$(awk '/^events_per_second/ {print $2}' <<<"$out")
tps=$(pgbench -n -c "$writers" -j 1 -T "$secs" -f "$dir/commit.sql" "$pg dbname=bench_pgbench" 2>/dev/null |
  awk '/^tps/ {print int($3)}')
echo "  pgbench BEGIN/INSERT/COMMIT, $writers clients: $tps tps"
ratio=$(awk -v a="$eps" -v b="$tps" 'BEGIN { printf "%.2f", a / b }')
echo "  ratio events handled per second / PostgreSQL commits per second: ${ratio}x"
echo "  (the writers, the relay and the consumer share one loop thread here, as in one service"
echo "   instance; pgbench's clients are a separate process)"
