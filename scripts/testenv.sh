#!/usr/bin/env bash
# Throwaway PostgreSQL, Redis, mail sink, S3 server and Ethereum node (anvil) for tests, on
# free loopback ports.
#   testenv.sh start DIR          start the five; writes DIR/env.sh (source it for the tests)
#   testenv.sh stop DIR           stop them (whichever did start)
#   testenv.sh restart-pg DIR     restart PostgreSQL in place (the pool tests call this)
#   testenv.sh stop-pg DIR        stop PostgreSQL (a test of what answers while it is down)
#   testenv.sh start-pg DIR       start it again
#   testenv.sh restart-redis DIR  restart Redis in place (the Redis tests call this)
#   testenv.sh stop-smtp DIR      stop the mail sink (a test of mail while SMTP is down)
#   testenv.sh start-smtp DIR     start it again, on the same port and folder
#   testenv.sh restart-anvil DIR  restart anvil on its port: a fresh chain
# The mail sink (tools/mailsink/mailsink.py) keeps every message it accepts as DIR/mail/NAME.eml
# (byte for byte) with its envelope in NAME.json, names sorting by arrival; while the file
# $RESTINU_TEST_SMTP_HOLD_FILE exists it answers MAIL FROM with 421 (try later). Its output is
# in DIR/mailsink.log, its PID in DIR/mailsink.pid.
# The S3-compatible server (s3rver from npm, pinned in tools/s3rver, started by its start.js,
# which also checks Signature V4 as S3 does) keeps its objects under DIR/s3, with the bucket
# restinu-test created at start; access key and secret S3RVER. Its output is in DIR/s3rver.log,
# its PID in DIR/s3rver.pid.
# anvil (the Ethereum development node from npm, pinned in tools/chain) answers JSON-RPC on
# 127.0.0.1 with chain id 31337, automining, and its ten funded development accounts; output in
# DIR/anvil.log, PID in DIR/anvil.pid. `testenv.sh restart-anvil DIR` gives a fresh chain.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

cmd=${1:?usage: testenv.sh start|stop|restart-pg|stop-pg|start-pg|restart-redis|stop-smtp|start-smtp|restart-anvil DIR}
dir=${2:?usage: testenv.sh $cmd DIR}
# Tests trade durability for speed; never use these settings for `make run`.
# pg_stat_statements: tests count the statements a cache let through, in the database.
PG_TEST_OPTS=(fsync=off synchronous_commit=off full_page_writes=off max_connections=300
  shared_preload_libraries=pg_stat_statements)
mailsink="$(cd "$here/.." && pwd)/tools/mailsink/mailsink.py"
s3rver="$(cd "$here/.." && pwd)/tools/s3rver/start.js"
anvil="$(cd "$here/.." && pwd)/tools/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
S3_BUCKET=restinu-test

# smtp_start DIR PORT: the mail sink in a session of its own (setsid, so that it outlives this
# script and no Ctrl-C of a terminal reaches it), its PID (the python process itself, since
# setsid execs it when not a group leader) in DIR/mailsink.pid; waits up to 5 s until it says it
# listens and its port accepts a connection.
smtp_start() {
  local dir=$1 port=$2 pid before now
  before=$(grep -c '^mailsink: SMTP on' "$dir/mailsink.log" 2>/dev/null || true)
  setsid /usr/bin/python3 "$mailsink" --smtp-port "$port" --dir "$dir/mail" \
    --hold-file "$dir/mailsink.hold" </dev/null >>"$dir/mailsink.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/mailsink.pid"
  for _ in $(seq 1 100); do
    now=$(grep -c '^mailsink: SMTP on' "$dir/mailsink.log" 2>/dev/null || true)
    if ((${now:-0} > ${before:-0})) && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "the mail sink did not start on port $port; $dir/mailsink.log:" >&2
  tail -n 20 "$dir/mailsink.log" >&2
  smtp_stop "$dir"
  return 1
}

# smtp_running PID: whether PID is still our mail sink (not a reused PID, not a zombie).
smtp_running() {
  grep -qa mailsink.py "/proc/$1/cmdline" 2>/dev/null
}

# proc_stop DIR NAME RUNNING: stops the process in DIR/NAME.pid (SIGTERM, SIGKILL after 5 s)
# if the function RUNNING says it is still ours; nothing if it never started.
proc_stop() {
  local dir=$1 name=$2 running=$3 pid
  [[ -f "$dir/$name.pid" ]] || return 0
  pid=$(cat "$dir/$name.pid")
  if [[ -n $pid ]] && "$running" "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      "$running" "$pid" || break
      sleep 0.05
    done
    if "$running" "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$dir/$name.pid"
}

smtp_stop() { proc_stop "$1" mailsink smtp_running; }

# s3_start DIR PORT: s3rver in a session of its own (like the mail sink), its PID in
# DIR/s3rver.pid, objects in DIR/s3; waits up to 10 s until it says it listens (the bucket
# exists by then) and its port accepts a connection.
s3_start() {
  local dir=$1 port=$2 pid
  if [[ ! -d "$(dirname "$s3rver")/node_modules/s3rver" ]]; then
    echo "tools/s3rver/node_modules is missing: run scripts/deps.sh" >&2
    return 1
  fi
  mkdir -p "$dir/s3"
  NO_COLOR=1 setsid node "$s3rver" --directory "$dir/s3" --address 127.0.0.1 --port "$port" \
    --bucket "$S3_BUCKET" </dev/null >>"$dir/s3rver.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/s3rver.pid"
  for _ in $(seq 1 200); do
    if grep -q "^s3rver: listening on http://127.0.0.1:$port\$" "$dir/s3rver.log" 2>/dev/null &&
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "s3rver did not start on port $port; $dir/s3rver.log:" >&2
  tail -n 20 "$dir/s3rver.log" >&2
  s3_stop "$dir"
  return 1
}

# s3_running PID: whether PID is still our s3rver (not a reused PID, not a zombie).
s3_running() {
  grep -qa tools/s3rver/start.js "/proc/$1/cmdline" 2>/dev/null
}

s3_stop() { proc_stop "$1" s3rver s3_running; }

# anvil_start DIR PORT: anvil in a session of its own, its PID in DIR/anvil.pid; waits up to
# 10 s until it answers eth_chainId.
anvil_start() {
  local dir=$1 port=$2 pid
  if [[ ! -x "$anvil" ]]; then
    echo "tools/chain/node_modules is missing anvil: run scripts/deps.sh" >&2
    return 1
  fi
  setsid "$anvil" --host 127.0.0.1 --port "$port" --chain-id 31337 </dev/null \
    >>"$dir/anvil.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/anvil.pid"
  for _ in $(seq 1 200); do
    if curl -sf -m 1 -H 'Content-Type: application/json' \
      -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' \
      "http://127.0.0.1:$port" 2>/dev/null | grep -q '"0x7a69"'; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "anvil did not start on port $port; $dir/anvil.log:" >&2
  tail -n 20 "$dir/anvil.log" >&2
  anvil_stop "$dir"
  return 1
}

anvil_running() {
  grep -qa anvil-linux-amd64/bin/anvil "/proc/$1/cmdline" 2>/dev/null
}

anvil_stop() { proc_stop "$1" anvil anvil_running; }

case $cmd in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
        pg_port=$(free_port)
    redis_port=$(free_port)
    while [[ $redis_port == "$pg_port" ]]; do redis_port=$(free_port); done
    smtp_port=$(free_port)
    s3_port=$(free_port)
    anvil_port=$(free_port)
    # The ports first, so that `stop` finds whatever did start if a later step fails.
    printf 'export RESTINU_TEST_PG_PORT=%s\nexport RESTINU_TEST_REDIS_PORT=%s\n' \
      "$pg_port" "$redis_port" >"$dir/env.sh"
    printf 'export RESTINU_TEST_SMTP_PORT=%s\n' "$smtp_port" >>"$dir/env.sh"
    pg_init "$dir/pg"
    pg_start "$dir/pg" "$pg_port" "${PG_TEST_OPTS[@]}"
    redis_start "$dir/redis" "$redis_port"
    smtp_start "$dir" "$smtp_port"
    s3_start "$dir" "$s3_port"
    anvil_start "$dir" "$anvil_port"
    cat >"$dir/env.sh" <<ENV
export RESTINU_TEST_DIR='$dir'
export RESTINU_TEST_PG_PORT=$pg_port
export RESTINU_TEST_PG_CONNINFO='host=127.0.0.1 port=$pg_port user=postgres dbname=postgres'
export RESTINU_TEST_PG_RESTART='$here/testenv.sh restart-pg $dir'
export RESTINU_TEST_PG_STOP='$here/testenv.sh stop-pg $dir'
export RESTINU_TEST_PG_START='$here/testenv.sh start-pg $dir'
export RESTINU_TEST_REDIS_PORT=$redis_port
export RESTINU_TEST_REDIS_RESTART='$here/testenv.sh restart-redis $dir'
# The mail sink: SMTP on 127.0.0.1 (no TLS, no AUTH); each message as a file in the folder.
export RESTINU_TEST_SMTP_PORT=$smtp_port
export RESTINU_TEST_MAIL_DIR='$dir/mail'
export RESTINU_TEST_SMTP_HOLD_FILE='$dir/mailsink.hold'
export RESTINU_TEST_SMTP_STOP='$here/testenv.sh stop-smtp $dir'
export RESTINU_TEST_SMTP_START='$here/testenv.sh start-smtp $dir'
# s3rver: S3 over plain HTTP on 127.0.0.1, path-style, Signature V4 with these keys, region
# us-east-1; the bucket exists.
export RESTINU_TEST_S3_ENDPOINT='http://127.0.0.1:$s3_port'
export RESTINU_TEST_S3_BUCKET='$S3_BUCKET'
export RESTINU_TEST_S3_REGION='us-east-1'
export RESTINU_TEST_S3_ACCESS_KEY='S3RVER'
export RESTINU_TEST_S3_SECRET_KEY='S3RVER'
# anvil: JSON-RPC over HTTP, chain id 31337, its development accounts funded and unlocked.
export RESTINU_TEST_ANVIL_PORT=$anvil_port
export RESTINU_TEST_ANVIL_URL='http://127.0.0.1:$anvil_port'
export RESTINU_TEST_ANVIL_RESTART='$here/testenv.sh restart-anvil $dir'
# Identity headers between the gateway and the services (one random secret per run).
export RESTINU_IDENTITY__SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
# The user service's key for KYC document numbers (one per run).
export RESTINU_KYC__ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
# The key-encryption key of the user service's signing keys (one per run).
export RESTINU_AUTH__KEY_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
ENV
        rm -f "${TMPDIR:-/tmp}/restinu-ports.$$"
    echo "testenv: PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port," \
      "SMTP on 127.0.0.1:$smtp_port, S3 on 127.0.0.1:$s3_port, anvil on 127.0.0.1:$anvil_port ($dir)"
    ;;
  stop)
    # shellcheck disable=SC1091
    [[ -f "$dir/env.sh" ]] && source "$dir/env.sh"
    pg_stop "$dir/pg" immediate
    [[ -n "${RESTINU_TEST_REDIS_PORT:-}" ]] && redis_stop "$dir/redis" "$RESTINU_TEST_REDIS_PORT"
    smtp_stop "$dir"
    s3_stop "$dir"
    anvil_stop "$dir"
    ;;
  restart-anvil)
    # shellcheck disable=SC1091
    source "$dir/env.sh"
    anvil_stop "$dir"
    anvil_start "$dir" "$RESTINU_TEST_ANVIL_PORT"
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
  stop-smtp)
    smtp_stop "$dir"
    ;;
  start-smtp)
    # shellcheck disable=SC1091
    source "$dir/env.sh"
    smtp_stop "$dir"  # at most one sink per DIR
    smtp_start "$dir" "$RESTINU_TEST_SMTP_PORT"
    ;;
  *)
    echo "unknown command: $cmd" >&2
    exit 2
    ;;
esac
