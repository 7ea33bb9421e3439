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

# shellcheck source=../../scripts/stack_bg.sh
source "$root/scripts/stack_bg.sh"
pw_pid=""
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
  stack_bg_finish e2e "$status" "${RESTINU_E2E_KEEP:-0}"
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

port=$(stack_bg_port) || { echo "e2e: no free port" >&2; exit 2; }
run=$(mktemp -d "${TMPDIR:-/tmp}/restinu-browser.XXXX")
chmod 755 "$run"  # PostgreSQL runs as the postgres user and keeps its data in here
STACK_BG_RUN=$run  # cleaned up from here on, whatever happens next
log=$run/stack.log
echo "e2e: starting the stack on 127.0.0.1:$port with $bin (folder $run)"
# Outside this script's process tree, with a watchdog (scripts/stack_bg.sh). The sign-in limit
# per address is raised: every test signs in from 127.0.0.1 (the production default, 20 a
# minute, stays otherwise).
started=$SECONDS
stack_bg_start "$bin" "$run" "$port" \
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" \
  RESTINU_DEMO_LISTINGS="${RESTINU_DEMO_LISTINGS:-300}" \
  RESTINU_GATEWAY__RATE_POLICIES__AUTH__LIMIT="${RESTINU_GATEWAY__RATE_POLICIES__AUTH__LIMIT:-600}"
stack_bg_wait "${RESTINU_STACK_TIMEOUT:-420}" e2e || exit 1
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
