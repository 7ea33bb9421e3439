#!/usr/bin/env bash
# Helpers shared by stack.sh and testenv.sh: free ports, and PostgreSQL/Redis started as
# project-local processes on loopback. Sourced, not run.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# free_port: prints a TCP port no socket uses, below the kernel's ephemeral range (outgoing
# connections take ports from that range and would make a later bind fail), e.g. 15000-32767.
free_port() {
  local port low=15000 high
  high=$(awk '{print $1 - 1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32767)
  ((high > low + 1000)) || high=32767
  while :; do
    port=$((low + RANDOM % (high - low)))
    if ! ss -Htan "sport = :$port" 2>/dev/null | grep -q .; then
            # Also avoid ports this script handed out before but nothing has bound yet. Callers
      # run us in $(...) subshells, so the memory is a file named after the script's PID.
      local used=${TMPDIR:-/tmp}/restinu-ports.$$
      if ! grep -qx "$port" "$used" 2>/dev/null; then
        echo "$port" >>"$used"
        echo "$port"
        return
      fi
    fi
  done
}

# as_pg_user CMD...: PostgreSQL refuses to run as root, so root runs it as `postgres`.
as_pg_user() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# pg_init DIR: a fresh cluster in DIR/data, sockets and log in DIR.
pg_init() {
  local dir=$1
  mkdir -p "$dir/data"
  if [[ $(id -u) -eq 0 ]]; then
    chown -R postgres:postgres "$dir"
  fi
  as_pg_user "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
}

# pg_start DIR PORT [extra postgres -c options...]
pg_start() {
  local dir=$1 port=$2
  shift 2
  # jit off: service queries are short, and compiling them costs more than it saves.
  # shared_buffers 1GB: the search read model at 500,000 listings stays in memory.
  local opts="-c listen_addresses=127.0.0.1 -p $port -k $dir -c jit=off -c shared_buffers=1GB"
  for o in "$@"; do opts+=" -c $o"; done
  as_pg_user "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w -t 30 -o "$opts" start >/dev/null ||
    { tail -n 20 "$dir/pg.log" >&2; return 1; }
}

pg_stop() {
  local dir=$1 mode=${2:-fast}
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  as_pg_user "$PG_BIN/pg_ctl" -D "$dir/data" -m "$mode" -w -t 30 stop >/dev/null 2>&1 || true
}

# redis_start DIR PORT: with the append-only file (fsync every second), because Redis Streams
# carry the event bus and must survive a restart (docs/adr/0003-event-bus.md). A memory limit
# with volatile-ttl: only keys with an expiry (rate-limit windows, idempotency keys) can ever be
# evicted, never the streams, which have none; past the limit with nothing evictable, writes
# fail loudly instead of the host swapping (docs/adr/0009-hardening.md). REDIS_MAXMEMORY sets it.
redis_start() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly yes \
    --maxmemory "${REDIS_MAXMEMORY:-512mb}" --maxmemory-policy volatile-ttl \
    --appendfsync everysec --appenddirname appendonly --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" >/dev/null
  local i
  for i in $(seq 1 100); do
    redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.05
  done
  echo "redis did not start on port $port; see $dir/redis.log" >&2
  return 1
}

redis_stop() {
  local dir=$1 port=$2
  # SHUTDOWN (not NOSAVE) flushes the append-only file, so a restart keeps the streams.
  redis-cli -h 127.0.0.1 -p "$port" shutdown >/dev/null 2>&1 || true
  local i
  for i in $(seq 1 100); do
    [[ -f "$dir/redis.pid" ]] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null || return 0
    sleep 0.05
  done
}

# registry_rows FILE: the rows of services/registry.tsv as "name database port instances
# prefixes" (space-separated; "-" for an empty field), comments and the summary left out.
registry_rows() {
  local name db port count prefixes _summary
  while IFS=$'\t' read -r name db port count prefixes _summary; do
    [[ -z $name || $name == \#* ]] && continue
    echo "$name $db $port $count $prefixes"
  done <"$1"
}

# wait_http PORT [PATH] [LOG_DIR]: waits up to 30 s for 127.0.0.1:PORT to answer PATH (default
# /readyz) with a 2xx; on failure names the port and shows the tail of LOG_DIR/*.log.
wait_http() {
  local port=$1 path=${2:-/readyz} logs=${3:-} i
  for i in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port$path" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing ready on port $port ($path)" >&2
  [[ -n $logs ]] && tail -n 5 "$logs"/*.log >&2
  return 1
}

# nginx_run DIR NAME WORKERS HTTP_BODY: the benches' reference nginx, in the foreground of a
# background job (NGINX_PID: add it to what the caller stops), WORKERS worker processes, no
# access log, every file it writes under DIR (DIR/NAME.conf, .pid, -error.log, DIR/nginx/),
# keep-alive without limit; HTTP_BODY (directives and server blocks) goes inside http { }.
# shellcheck disable=SC2034  # read by the callers
NGINX_PID=""
# shellcheck disable=SC2034  # read by the callers
nginx_run() {
  local dir=$1 name=$2 workers=$3 body=$4
  mkdir -p "$dir/nginx"
  cat >"$dir/$name.conf" <<CONF
daemon off;
worker_processes $workers;
pid $dir/$name.pid;
error_log $dir/$name-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/nginx;
  proxy_temp_path $dir/nginx;
  fastcgi_temp_path $dir/nginx;
  uwsgi_temp_path $dir/nginx;
  scgi_temp_path $dir/nginx;
  keepalive_requests 1000000;
$body
}
CONF
  nginx -c "$dir/$name.conf" -e "$dir/$name-error.log" &
  NGINX_PID=$!
}
