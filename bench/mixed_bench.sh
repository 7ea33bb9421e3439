#!/usr/bin/env bash
# Users' traffic as it would look (issue 16): LISTINGS listings (default 500,000) and USERS
# logged-in users (default 1,200), the stack as `make run` starts it (the gateway, the user
# service, two property instances, PostgreSQL, Redis) with the shipped default limits, and
# bench/mixed_load driving CONNECTIONS connections (default 64) through the gateway: listing
# pages 45%, filtered searches 30% (city + price range + bedrooms, newest or cheapest first),
# text searches 10%, radius searches 10%, profile reads 5%. Popular listings and searches come
# from Zipf distributions over large spaces of combinations; UNIFORM percent (default 20) of
# each kind is drawn uniformly from spaces no cache can hold. Every request is sent as the
# next of the users in turn (each user's rate limits apply).
#
# Runs, each after a warm-up: the mix as shipped (cache on, search.engine memory: the headline
# row, against the seed's peak of 1,000 requests/s); listing pages alone (the gateway in front
# of a real listing from the database, many callers, default limits); the mix with search in
# PostgreSQL; the mix with the cache off; both off (the stack before issue 16). For each:
# requests/s, p50/p99 per kind, database transactions/s and the cache's hit rates per level.
#   LISTINGS=500000 USERS=1200 SECONDS_PER_RUN=30 WARMUP=10 bash bench/mixed_bench.sh build/release/app/restinu
set -euo pipefail
bin=$(realpath "${1:?usage: mixed_bench.sh path/to/restinu}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
load="$(dirname "$(dirname "$bin")")/bench/mixed_load"
# shellcheck source=../scripts/lib.sh
source "$root/scripts/lib.sh"
listings=${LISTINGS:-500000}
users=${USERS:-1200}
secs=${SECONDS_PER_RUN:-30}
warm=${WARMUP:-10}
connections=${CONNECTIONS:-64}
uniform=${UNIFORM:-20}
mix=${MIX:-listing=45,filtered=30,text=10,radius=10,profile=5}
property_threads=${PROPERTY_THREADS:-1}
gateway_threads=${GATEWAY_THREADS:-1}
[[ -x $load ]] || { echo "bench mixed: $load is not built (cmake --build ... --target mixed_load)" >&2; exit 1; }

work=$(mktemp -d /tmp/restinu-bench-mixed.XXXXXX)
chmod 755 "$work"
pids=()
prop_pids=()
cleanup() {
  for p in "${pids[@]}" "${prop_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}" "${prop_pids[@]}"; do wait "$p" 2>/dev/null || true; done
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
"$bin" migrate all --create-database >/dev/null 2>&1

echo "bench mixed: seeding $listings listings and $users users"
"$bin" seed --listings "$listings" --users "$users" 2>&1 | grep -v '^\s*$' | tail -2 | sed 's/^/  /'
psql "$RESTINU_PG__URL dbname=properties_db" -q \
  -c "VACUUM (FREEZE, ANALYZE) property_search" -c "VACUUM (ANALYZE) properties" -c "CHECKPOINT" >/dev/null

user_port=$(free_port)
gw_port=$(free_port)
gw_admin=$(free_port)
prop_ports=("$(free_port)" "$(free_port)")
prop_admins=("$(free_port)" "$(free_port)")
RESTINU_HTTP__PORT=$user_port RESTINU_HTTP__ADMIN_PORT=$(free_port) RESTINU_INSTANCE=user-1 \
  "$bin" user >"$work/user.log" 2>&1 &
pids+=($!)

start_properties() {  # extra environment for both instances, e.g. RESTINU_CACHE__ENABLED=false
  local i
  for p in "${prop_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${prop_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  prop_pids=()
  for i in 0 1; do
    env "$@" RESTINU_HTTP__PORT="${prop_ports[$i]}" RESTINU_HTTP__ADMIN_PORT="${prop_admins[$i]}" \
      RESTINU_HTTP__THREADS="$property_threads" RESTINU_INSTANCE="property-$((i + 1))" \
      "$bin" property >>"$work/property-$i.log" 2>&1 &
    prop_pids+=($!)
  done
  for i in 0 1; do wait_http "${prop_ports[$i]}" /readyz "$work"; done
}
start_properties
wait_http "$user_port" /readyz "$work"

# The shipped gateway configuration (routes, rate policies: none set here, so the defaults),
# with this run's upstreams. The load balancer in front of it is trusted to say who the client
# is (X-Forwarded-For), so that logging 1,200 users in is 1,200 addresses, as it would be.
cat >"$work/gateway.yaml" <<YAML
gateway:
  upstreams:
    user: [127.0.0.1:$user_port]
    property: [127.0.0.1:${prop_ports[0]}, 127.0.0.1:${prop_ports[1]}]
    notification: [127.0.0.1:$(free_port)]
    payment: [127.0.0.1:$(free_port)]
    blockchain: [127.0.0.1:$(free_port)]
  trusted_proxies: [127.0.0.1]
YAML
RESTINU_HTTP__PORT=$gw_port RESTINU_HTTP__ADMIN_PORT=$gw_admin RESTINU_HTTP__THREADS=$gateway_threads \
  RESTINU_INSTANCE=gateway-1 "$bin" gateway --config "$work/gateway.yaml" >"$work/gateway.log" 2>&1 &
pids+=($!)
wait_http "$gw_port" /healthz "$work"

echo "bench mixed: logging $users users in through the gateway"
psql "$RESTINU_PG__URL dbname=users_db" -tAc "SELECT email FROM users ORDER BY email LIMIT $users" \
  >"$work/emails"
started=$(date +%s)
# shellcheck disable=SC2016
awk '{print NR" "$0}' "$work/emails" | xargs -P 4 -L 1 sh -c '
  n=$0; email=$1
  curl -fsS -w "\n" -H "Content-Type: application/json" \
    -H "X-Forwarded-For: 10.$((n / 65536 % 256)).$((n / 256 % 256)).$((n % 256))" \
    -d "{\"email\":\"$email\",\"password\":\"seed passphrase 2026\"}" \
    "http://127.0.0.1:'"$gw_port"'/api/v1/auth/login" 2>>"'"$work"'/login-errors" | sed -n "s/.*\"access_token\":\"\([^\"]*\)\".*/\1/p"
' >"$work/tokens"
got=$(wc -l <"$work/tokens")
echo "  $got access tokens in $(($(date +%s) - started)) s"
[[ $got -ge $users ]] || { echo "bench mixed: only $got of $users users logged in" >&2; sort "$work/login-errors" | uniq -c | head -5 >&2; exit 1; }

# Listings people open: a fixed sample of the active ones, in a fixed random order (the Zipf
# ranks), so runs are comparable.
psql "$RESTINU_PG__URL dbname=properties_db" -tAc \
  "SELECT id FROM properties WHERE status = 'active' ORDER BY md5(id::text) LIMIT 100000" >"$work/ids"

db_transactions() {
  psql "$RESTINU_PG__URL dbname=postgres" -tAc \
    "SELECT sum(xact_commit + xact_rollback) FROM pg_stat_database WHERE datname IN ('properties_db', 'users_db')"
}
cache_lookups() {  # level result → the sum over both property instances
  local total=0 n i
  for i in 0 1; do
    n=$(curl -fsS "http://127.0.0.1:${prop_admins[$i]}/metrics" |
      awk -v l="level=\"$1\"" -v r="result=\"$2\"" 'index($0, "restinu_cache_lookups_total{") == 1 && index($0, l) && index($0, r) {s += $NF} END {print s + 0}')
    total=$((total + ${n%.*}))
  done
  echo "$total"
}

run() {  # label mix
  local label=$1 run_mix=$2 tx0 tx1 l1h l1m l2h l2m out
  "$load" "$gw_port" "$work/tokens" "$work/ids" "$warm" "$connections" "$run_mix" "$uniform" >/dev/null
  tx0=$(db_transactions)
  l1h=$(cache_lookups l1 hit) l1m=$(cache_lookups l1 miss) l2h=$(cache_lookups l2 hit) l2m=$(cache_lookups l2 miss)
  out=$("$load" "$gw_port" "$work/tokens" "$work/ids" "$secs" "$connections" "$run_mix" "$uniform")
  tx1=$(db_transactions)
  l1h=$(($(cache_lookups l1 hit) - l1h)) l1m=$(($(cache_lookups l1 miss) - l1m))
  l2h=$(($(cache_lookups l2 hit) - l2h)) l2m=$(($(cache_lookups l2 miss) - l2m))
  echo "bench mixed: $label — $connections connections, $got users, ${secs}s after ${warm}s of warm-up"
  grep -v '^RESULT' <<<"$out" | sed 's/^/  /'
  local result rate p99 errors fp99 fup99
  result=$(grep '^RESULT' <<<"$out")
  rate=$(sed 's/.* rate=\([0-9.]*\).*/\1/' <<<"$result")
  p99=$(sed 's/.* p99=\([0-9.]*\).*/\1/' <<<"$result")
  errors=$(sed 's/.* errors=\([0-9]*\).*/\1/' <<<"$result")
  fp99=$(sed 's/.* filtered_p99=\([0-9.]*\).*/\1/' <<<"$result")
  fup99=$(sed 's/.* filtered_uniform_p99=\([0-9.]*\).*/\1/' <<<"$result")
  awk -v tx=$((tx1 - tx0)) -v s="$secs" -v l1h=$l1h -v l1m=$l1m -v l2h=$l2h -v l2m=$l2m \
    -v rate="$rate" -v p99="$p99" -v fp99="$fp99" -v fup99="$fup99" -v errors="$errors" 'BEGIN {
      printf "  database: %.0f transactions/s (properties_db + users_db)\n", tx / s
      if (l1h + l1m > 0) printf "  cache: L1 %.1f%% of %d lookups hit; L2 %.1f%% of the %d L1 misses\n", 100 * l1h / (l1h + l1m), l1h + l1m, (l2h + l2m > 0 ? 100 * l2h / (l2h + l2m) : 0), l2h + l2m
      else printf "  cache: no lookups (off)\n"
      printf "  %.0f requests/s = %.2fx the seed'"'"'s peak of 1,000/s (target 5x); p99 %.1f ms (target < 100); filtered p99 %.1f ms, uniform share %.1f ms (target < 50); %d not 2xx/304\n", rate, rate / 1000, p99, fp99, fup99, errors
    }'
}

if [[ -n ${HOLD:-} ]]; then  # keep the stack up to look at it; Ctrl-C ends it
  echo "bench mixed: holding. $load $gw_port $work/tokens $work/ids SECONDS $connections '$mix' $uniform"
  echo "  property metrics: ${prop_admins[*]}; gateway metrics: $gw_admin; PostgreSQL: $RESTINU_PG__URL"
  sleep infinity
fi
run "the mix (cache on, search in memory: the shipped defaults)" "$mix"
run "listing pages alone (the gateway in front of a real listing, many callers, default limits)" "listing=100"
start_properties RESTINU_SEARCH__ENGINE=database
run "the mix, search in PostgreSQL (cache on)" "$mix"
start_properties RESTINU_CACHE__ENABLED=false
run "the mix, cache off (search in memory)" "$mix"
start_properties RESTINU_CACHE__ENABLED=false RESTINU_SEARCH__ENGINE=database
run "the mix, cache off, search in PostgreSQL (the stack before issue 16)" "$mix"
