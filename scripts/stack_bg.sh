# shellcheck shell=bash
# Sourced, not run: the whole stack (scripts/stack.sh, what `make run` runs) in the background
# for a script that needs it for a while (web/e2e/run.sh, bench/lighthouse_bench.sh).
#
# The stack runs outside the caller's process tree (double fork, own session): a terminal's
# Ctrl-C reaches the caller only, and the stack is stopped in order by stack_bg_stop (SIGTERM;
# stack.sh stops its own children; a background job ignores SIGINT). Should the caller be killed
# outright (SIGKILL, e.g. a CTest timeout kills the tree and no trap runs), a watchdog, also
# outside the tree, sees it gone and stops the stack the same way within about 2 s.
#
#   source scripts/stack_bg.sh
#   port=$(stack_bg_port)                                  # or exit: no free port
#   STACK_BG_RUN=$run                                      # its folder, as soon as it exists
#   stack_bg_start "$bin" "$run" "$port" VAR=value ...     # sets STACK_BG_PID, STACK_BG_LOG
#   stack_bg_wait 420 "e2e" || exit 1                      # until "REST-iN-U is up"
#   ...
#   stack_bg_stop "e2e" immediate                          # in the caller's EXIT trap

STACK_BG_PID=""
STACK_BG_LOG=""
STACK_BG_RUN=""

# A port whose admin twin (+1000, the gateway's metrics listener) is free too, below the
# ephemeral range.
stack_bg_port() {
  local p _
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 8000))
    if ! ss -Htan "sport = :$p" 2>/dev/null | grep -q . &&
      ! ss -Htan "sport = :$((p + 1000))" 2>/dev/null | grep -q .; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# stack_bg_start BIN RUN_DIR PORT [NAME=value ...]: the extra settings go to stack.sh's
# environment. Its output goes to RUN_DIR/stack.log.
stack_bg_start() {
  local bin=$1 run=$2 port=$3
  shift 3
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  STACK_BG_RUN=$run
  STACK_BG_LOG=$run/stack.log
  (
    env "$@" RESTINU_RUN_DIR="$run" RESTINU_PORT="$port" \
      setsid bash "$root/scripts/stack.sh" "$bin" </dev/null >"$STACK_BG_LOG" 2>&1 &
    echo $! >"$run/stack.pid"
  )
  STACK_BG_PID=$(cat "$run/stack.pid")
  (
    # shellcheck disable=SC2016  # the watchdog's own $1 and $2
    # Only when the caller is gone and the stack still runs (not a stack that stopped by
    # itself, whose pid may since name another process).
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 2; done
      if ! kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; then kill -TERM "$2"; fi' \
      _ $$ "$STACK_BG_PID" \
      </dev/null >/dev/null 2>&1 &
  )
}

# stack_bg_wait TIMEOUT_SECONDS PREFIX: returns once the stack says it is up; on its early exit
# or the timeout, prints the end of its log and returns 1.
stack_bg_wait() {
  local timeout=$1 prefix=$2 started=$SECONDS
  until grep -q 'REST-iN-U is up' "$STACK_BG_LOG" 2>/dev/null; do
    if ! kill -0 "$STACK_BG_PID" 2>/dev/null; then
      echo "$prefix: the stack exited before it was up; the end of $STACK_BG_LOG:" >&2
      tail -n 40 "$STACK_BG_LOG" >&2
      return 1
    fi
    if ((SECONDS - started > timeout)); then
      echo "$prefix: the stack was not up after ${timeout} s; the end of $STACK_BG_LOG:" >&2
      tail -n 40 "$STACK_BG_LOG" >&2
      return 1
    fi
    sleep 1
  done
}

# stack_bg_stop PREFIX PG_MODE: SIGTERM to the stack, its process group killed if it has not
# stopped in 60 s; then a PostgreSQL the stack left running in its folder (a daemon in its own
# group) is stopped with pg_ctl's mode PG_MODE (immediate for a throwaway folder, fast for one
# kept between runs).
stack_bg_stop() {
  local prefix=$1 mode=$2 _
  if [[ -n $STACK_BG_PID ]] && kill -0 "$STACK_BG_PID" 2>/dev/null; then
    echo "$prefix: stopping the stack (pid $STACK_BG_PID)"
    kill -TERM "$STACK_BG_PID" 2>/dev/null || true
    for _ in $(seq 1 120); do
      kill -0 "$STACK_BG_PID" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$STACK_BG_PID" 2>/dev/null; then
      echo "$prefix: the stack did not stop in 60 s; killing its process group" >&2
      kill -KILL -- "-$STACK_BG_PID" 2>/dev/null || true
    fi
  fi
  if [[ -n $STACK_BG_RUN && -f $STACK_BG_RUN/pg/data/postmaster.pid ]]; then
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$STACK_BG_RUN/pg/data" \
      -m "$mode" -w -t 30 stop >/dev/null 2>&1 || true
  fi
}

# stack_bg_finish PREFIX STATUS KEEP: stack_bg_stop (pg_ctl fast when KEEP=1, else immediate),
# then the stack's folder: kept whole when KEEP=1, only its logs after a failure (STATUS not 0),
# else deleted.
stack_bg_finish() {
  local prefix=$1 status=$2 keep=$3 run=$STACK_BG_RUN
  stack_bg_stop "$prefix" "$([[ $keep == 1 ]] && echo fast || echo immediate)"
  [[ -n $run && -d $run ]] || return 0
  if [[ $keep == 1 ]]; then
    echo "$prefix: the stack's folder (logs, data) is kept: $run"
  elif [[ $status -ne 0 ]]; then
    find "$run" -mindepth 1 -maxdepth 1 ! -name logs ! -name stack.log -exec rm -rf {} + 2>/dev/null || true
    echo "$prefix: the stack's logs are kept: $run"
  else
    rm -rf "$run"
  fi
}
