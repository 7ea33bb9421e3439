#!/usr/bin/env bash
# The web app's browser tests against the real stack:
#   1. builds the app (web/dist),
#   2. starts scripts/stack.sh (what `make run` runs) in a throwaway folder on a free port,
#   3. runs `npx playwright test` (Debian's Chromium) with RESTINU_WEB_URL set to it,
#   4. stops the stack, and exits with Playwright's status (on failure it prints the tail of
#      the stack's log and says where the traces are).
# Works from any directory; stops everything it started also when interrupted.
#
#   web/e2e/run.sh [playwright test arguments…]      e.g. web/e2e/run.sh -g 'conflict'
#
# Environment:
#   RESTINU_BIN           the restinu binary (default build/asan/app/restinu, else build/release)
#   RESTINU_CHROMIUM      the browser (default /usr/bin/chromium)
#   RESTINU_E2E_KEEP=1    keep the stack's folder (logs, data) instead of deleting it
#   RESTINU_STACK_TIMEOUT seconds to wait for the stack to come up (default 420)
set -euo pipefail
web=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root=$(cd "$web/.." && pwd)

bin=${RESTINU_BIN:-}
if [[ -z $bin ]]; then
  for b in "$root/build/asan/app/restinu" "$root/build/release/app/restinu"; do
    if [[ -x $b ]]; then bin=$b; break; fi
  done
fi
if [[ -z $bin || ! -x $bin ]]; then
  echo "e2e: no restinu binary (build it, or set RESTINU_BIN)" >&2
  exit 2
fi

stack_pid=""
pw_pid=""
run=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n $pw_pid ]] && kill -0 "$pw_pid" 2>/dev/null; then
    # Its process group: npx, the runner, its workers and their browsers.
    echo "e2e: stopping playwright"
    kill -TERM -- "-$pw_pid" 2>/dev/null || true
    for _ in $(seq 1 20); do
      kill -0 -- "-$pw_pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL -- "-$pw_pid" 2>/dev/null || true
    wait "$pw_pid" 2>/dev/null || true
  fi
  if [[ -n $stack_pid ]] && kill -0 "$stack_pid" 2>/dev/null; then
    echo "e2e: stopping the stack (pid $stack_pid)"
    # stack.sh stops its children on TERM (a background job ignores INT in a script).
    kill -TERM "$stack_pid" 2>/dev/null || true
    for _ in $(seq 1 120); do
      kill -0 "$stack_pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$stack_pid" 2>/dev/null; then
      echo "e2e: the stack did not stop in 60 s; killing its process group" >&2
      kill -KILL -- "-$stack_pid" 2>/dev/null || true
    fi
  fi
  if [[ -n $run && -d $run ]]; then
    # Anything a killed stack left running in its folder: PostgreSQL (a daemon, its own group).
    if [[ -f $run/pg/data/postmaster.pid ]]; then
      runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$run/pg/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    if [[ ${RESTINU_E2E_KEEP:-0} == 1 ]]; then
      echo "e2e: the stack's folder (logs, data) is kept: $run"
    elif [[ $status -ne 0 ]]; then
      find "$run" -mindepth 1 -maxdepth 1 ! -name logs ! -name stack.log -exec rm -rf {} + 2>/dev/null || true
      echo "e2e: the stack's logs are kept: $run"
    else
      rm -rf "$run"
    fi
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cd "$web"
if [[ ! -d node_modules/@playwright/test || ! -d node_modules/@axe-core/playwright ]]; then
  echo "e2e: npm ci"
  npm ci --no-audit --no-fund
fi
echo "e2e: building the web app"
if ! build_log=$(npm run build 2>&1); then
  printf '%s\n' "$build_log" >&2
  echo "e2e: npm run build failed" >&2
  exit 1
fi

# A port whose admin twin (+1000, the gateway's metrics listener) is free too, below the
# ephemeral range.
port_free() { ! ss -Htan "sport = :$1" 2>/dev/null | grep -q .; }
port=""
for _ in $(seq 1 200); do
  p=$((20000 + RANDOM % 8000))
  if port_free "$p" && port_free $((p + 1000)); then port=$p; break; fi
done
[[ -n $port ]] || { echo "e2e: no free port" >&2; exit 2; }

run=$(mktemp -d "${TMPDIR:-/tmp}/restinu-browser.XXXX")
chmod 755 "$run"  # PostgreSQL runs as the postgres user and keeps its data in here
log=$run/stack.log
echo "e2e: starting the stack on 127.0.0.1:$port with $bin (folder $run)"
# The stack runs outside this script's process tree (double fork, own session): a terminal's
# Ctrl-C reaches this script only, and the stack is stopped in order by cleanup (SIGTERM; it
# stops its own children). Should this script be killed outright (SIGKILL, e.g. a CTest
# timeout kills the tree: no trap runs), a watchdog, also outside the tree, sees it gone and
# stops the stack the same way. The sign-in limit per address is raised: every test signs in
# from 127.0.0.1 (the production default, 20 a minute, stays otherwise).
(
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
    RESTINU_RUN_DIR=$run RESTINU_PORT=$port RESTINU_DEMO_LISTINGS=${RESTINU_DEMO_LISTINGS:-300} \
    RESTINU_GATEWAY__RATE_POLICIES__AUTH__LIMIT=${RESTINU_GATEWAY__RATE_POLICIES__AUTH__LIMIT:-600} \
    setsid bash "$root/scripts/stack.sh" "$bin" </dev/null >"$log" 2>&1 &
  echo $! >"$run/stack.pid"
)
stack_pid=$(cat "$run/stack.pid")
(
  setsid bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 2; done
    kill -0 "$1" 2>/dev/null || kill -TERM "$2" 2>/dev/null' _ $$ "$stack_pid" </dev/null >/dev/null 2>&1 &
)

started=$SECONDS
timeout=${RESTINU_STACK_TIMEOUT:-420}
until grep -q 'REST-iN-U is up' "$log" 2>/dev/null; do
  if ! kill -0 "$stack_pid" 2>/dev/null; then
    echo "e2e: the stack exited before it was up; the end of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  if ((SECONDS - started > timeout)); then
    echo "e2e: the stack was not up after ${timeout} s; the end of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  sleep 1
done
echo "e2e: the stack is up after $((SECONDS - started)) s"

# In the background, in its own process group, and waited for: a signal to this script is
# handled at once (cleanup stops that group, then the stack).
status=0
RESTINU_WEB_URL="http://127.0.0.1:$port" setsid npx playwright test "$@" &
pw_pid=$!
wait "$pw_pid" || status=$?
pw_pid=""
if [[ $status -ne 0 ]]; then
  echo "e2e: playwright failed ($status); the end of $log:" >&2
  tail -n 40 "$log" >&2
  echo "e2e: service logs: $run/logs/; traces and screenshots: $web/test-results/ (npx playwright show-trace …)" >&2
fi
exit "$status"
