#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis for tests, on free loopback ports.
#   testenv.sh start DIR          start both; writes DIR/env.sh (source it for the tests)
#   testenv.sh stop DIR           stop both
#   testenv.sh restart-pg DIR     restart PostgreSQL in place (the pool tests call this)
#   testenv.sh stop-pg DIR        stop PostgreSQL (a test of what answers while it is down)
#   testenv.sh start-pg DIR       start it again
#   testenv.sh restart-redis DIR  restart Redis in place (the Redis tests call this)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

cmd=${1:?usage: testenv.sh start|stop|restart-pg|restart-redis DIR}
dir=${2:?usage: testenv.sh $cmd DIR}
# Tests trade durability for speed; never use these settings for `make run`.
# pg_stat_statements: tests count the statements a cache let through, in the database.
PG_TEST_OPTS=(fsync=off synchronous_commit=off full_page_writes=off max_connections=300
  shared_preload_libraries=pg_stat_statements)

case $cmd in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
        pg_port=$(free_port)
    redis_port=$(free_port)
    while [[ $redis_port == "$pg_port" ]]; do redis_port=$(free_port); done
    # The ports first, so that `stop` finds whatever did start if a later step fails.
    printf 'export RESTINU_TEST_PG_PORT=%s\nexport RESTINU_TEST_REDIS_PORT=%s\n' \
      "$pg_port" "$redis_port" >"$dir/env.sh"
    pg_init "$dir/pg"
    pg_start "$dir/pg" "$pg_port" "${PG_TEST_OPTS[@]}"
    redis_start "$dir/redis" "$redis_port"
    cat >"$dir/env.sh" <<ENV
export RESTINU_TEST_DIR='$dir'
export RESTINU_TEST_PG_PORT=$pg_port
export RESTINU_TEST_PG_CONNINFO='host=127.0.0.1 port=$pg_port user=postgres dbname=postgres'
export RESTINU_TEST_PG_RESTART='$here/testenv.sh restart-pg $dir'
export RESTINU_TEST_PG_STOP='$here/testenv.sh stop-pg $dir'
export RESTINU_TEST_PG_START='$here/testenv.sh start-pg $dir'
export RESTINU_TEST_REDIS_PORT=$redis_port
export RESTINU_TEST_REDIS_RESTART='$here/testenv.sh restart-redis $dir'
# Identity headers between the gateway and the services (one random secret per run).
export RESTINU_IDENTITY__SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
# The user service's key for KYC document numbers (one per run).
export RESTINU_KYC__ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
# The key-encryption key of the user service's signing keys (one per run).
export RESTINU_AUTH__KEY_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
ENV
        rm -f "${TMPDIR:-/tmp}/restinu-ports.$$"
    echo "testenv: PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port ($dir)"
    ;;
  stop)
    # shellcheck disable=SC1091
    [[ -f "$dir/env.sh" ]] && source "$dir/env.sh"
    pg_stop "$dir/pg" immediate
    [[ -n "${RESTINU_TEST_REDIS_PORT:-}" ]] && redis_stop "$dir/redis" "$RESTINU_TEST_REDIS_PORT"
    ;;
  restart-pg)
    # shellcheck disable=SC1091
    source "$dir/env.sh"
    pg_stop "$dir/pg" fast
    pg_start "$dir/pg" "$RESTINU_TEST_PG_PORT" "${PG_TEST_OPTS[@]}"
    ;;
  stop-pg)
    # shellcheck disable=SC1091
    source "$dir/env.sh"
    pg_stop "$dir/pg" fast
    ;;
  start-pg)
    # shellcheck disable=SC1091
    source "$dir/env.sh"
    pg_start "$dir/pg" "$RESTINU_TEST_PG_PORT" "${PG_TEST_OPTS[@]}"
    ;;
  restart-redis)
    # shellcheck disable=SC1091
    source "$dir/env.sh"
    redis_stop "$dir/redis" "$RESTINU_TEST_REDIS_PORT"
    redis_start "$dir/redis" "$RESTINU_TEST_REDIS_PORT"
    ;;
  *)
    echo "unknown command: $cmd" >&2
    exit 2
    ;;
esac
