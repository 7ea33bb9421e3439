#!/usr/bin/env bash
# The stack as processes: migrations, config errors, startup checks, the gateway forwarding to
# services (two property instances, one killed), readiness, metrics and graceful stops.
# Needs the servers of scripts/testenv.sh (RESTINU_TEST_* variables); run by `make test`.
set -uo pipefail
bin=${1:?usage: stack_test.sh path/to/restinu}
: "${RESTINU_TEST_PG_PORT:?run through make test}" "${RESTINU_TEST_REDIS_PORT:?}" "${RESTINU_IDENTITY__SECRET:?}"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../scripts/lib.sh
source "$root/scripts/lib.sh"

work=$(mktemp -d /tmp/restinu-e2e.XXXXXX)
pids=()
failures=0
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$work" "${TMPDIR:-/tmp}/restinu-ports.$$"
}
trap cleanup EXIT

pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; failures=$((failures + 1)); }
check() {  # description, then a command that must succeed
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

export RESTINU_PG__URL="host=127.0.0.1 port=$RESTINU_TEST_PG_PORT user=postgres"
export RESTINU_REDIS__PORT=$RESTINU_TEST_REDIS_PORT
export RESTINU_HTTP__THREADS=2 RESTINU_WORKERS__THREADS=1
export RESTINU_CHAIN__RPC_URL=${RESTINU_TEST_ANVIL_URL:?run through make test}
export RESTINU_KYC__ENCRYPTION_KEY=${RESTINU_KYC__ENCRYPTION_KEY:-$(head -c 32 /dev/urandom | base64)}
export RESTINU_AUTH__KEY_ENCRYPTION_KEY=${RESTINU_AUTH__KEY_ENCRYPTION_KEY:-$(head -c 32 /dev/urandom | base64)}

# --- migrations -----------------------------------------------------------------------------
# The services, their databases and instance counts come from the registry.
declare -A instances_of
databases=()
letters=(a b c d e f g h i)
declare -A forwarded
while read -r svc db _port count prefixes; do
  [[ $db != - ]] && databases+=("$db")
  [[ $prefixes != - ]] && forwarded[$svc]=1
  [[ $svc == gateway ]] && continue
  if ((count == 1)); then
    instances_of[$svc]=$svc
  else
    instances_of[$svc]=$(for k in $(seq 1 "$count"); do printf '%s-%s ' "$svc" "${letters[k - 1]}"; done)
  fi
done < <(registry_rows "$root/services/registry.tsv")
out=$("$bin" migrate all --create-database 2>&1)
check "migrate all creates and migrates every service database (${databases[*]})" \
  bash -c 'db_list=$1; for db in $db_list; do
             grep -qE "migrations? applied, [0-9]+ in all \($db\)" <<<"$0" || exit 1; done' \
  "$out" "${databases[*]}"
has_outbox=$(psql "$RESTINU_PG__URL dbname=users_db" -tAc \
  "select count(*) from pg_tables where tablename in ('restinu_outbox','restinu_inbox')")
check "every service database has the event bus tables" test "$has_outbox" = 2
out=$("$bin" migrate all 2>&1)
check "a second migrate applies nothing" grep -q "migrate user: 0 migrations applied" <<<"$out"
has_postgis=$(psql "$RESTINU_PG__URL dbname=properties_db" -tAc \
  "select count(*) from pg_extension where extname='postgis'")
check "property's database has PostGIS" test "$has_postgis" = 1

# --- refusing to start ------------------------------------------------------------------------
out=$(RESTINU_HTTP__PORT=abc RESTINU_PG__POOL_SIZE=0 "$bin" user 2>&1)
code=$?
check "bad config exits 2" test "$code" = 2
check "bad config names each bad key" bash -c \
  'grep -q "http.port: must be an integer" <<<"$0" && grep -q "pg.pool_size: must be between" <<<"$0"' "$out"
out=$(env -u RESTINU_PG__URL "$bin" user 2>&1)
check "a missing pg.url is named with its variable" grep -q "RESTINU_PG__URL" <<<"$out"
psql "$RESTINU_PG__URL dbname=postgres" -qc "create database e2e_empty" 2>/dev/null
out=$(RESTINU_PG__DATABASE=e2e_empty RESTINU_HTTP__PORT=0 timeout 20 "$bin" user 2>&1)
code=$?
check "an unmigrated database stops the service (exit 1)" test "$code" = 1
check "and says which command fixes it" grep -q "restinu migrate user" <<<"$out"

# --- the stack --------------------------------------------------------------------------------
wait_ready() {  # port [tries]
  local i
  for i in $(seq 1 "${2:-100}"); do
    curl -fsS -o /dev/null "http://127.0.0.1:$1/readyz" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
declare -A port pid
start() {  # instance service
  port[$1]=$(free_port)
  RESTINU_HTTP__PORT=${port[$1]} RESTINU_INSTANCE=$1 "$bin" "$2" >"$work/$1.log" 2>&1 &
  pid[$1]=$!
  pids+=("${pid[$1]}")
}
upstreams=()
for svc in "${!instances_of[@]}"; do
  list=""
  for i in ${instances_of[$svc]}; do
    start "$i" "$svc"
    list+="${list:+,}127.0.0.1:${port[$i]}"
  done
  upstreams+=("RESTINU_GATEWAY__UPSTREAMS__${svc^^}=$list")
done
for svc in "${!instances_of[@]}"; do
  for i in ${instances_of[$svc]}; do
    check "$i becomes ready" wait_ready "${port[$i]}"
  done
done
port[gateway]=$(free_port)
port[gateway-admin]=$(free_port)
env "${upstreams[@]}" RESTINU_HTTP__ADMIN_PORT=${port[gateway-admin]} \
  RESTINU_HTTP__PORT=${port[gateway]} RESTINU_INSTANCE=gateway "$bin" gateway \
  >"$work/gateway.log" 2>&1 &
pid[gateway]=$!
pids+=("${pid[gateway]}")
gw="http://127.0.0.1:${port[gateway]}"
check "the gateway's /readyz answers 200 once every service is ready" wait_ready "${port[gateway]}"
body=$(curl -sS "$gw/readyz")
for svc in "${!instances_of[@]}"; do
  [[ -z ${forwarded[$svc]:-} ]] && continue  # the gateway forwards nothing to it (the sandbox)
  check "its readiness lists the $svc service" grep -q "\"$svc\":\"ok\"" <<<"$body"
done
check "a service's readiness includes its database" bash -c \
  "curl -sS http://127.0.0.1:${port[user]}/readyz | grep -q '\"postgres\":\"ok\"'"
metrics=$(curl -sS "http://127.0.0.1:${port[gateway-admin]}/metrics")
code=$(curl -s -o /dev/null -w '%{http_code}' "$gw/metrics")
check "the gateway's public port does not serve /metrics (404)" test "$code" = 404
check "its admin listener does, and promtool accepts it" promtool check metrics <<<"$metrics"
for s in user property-b; do
  check "promtool accepts the $s service's /metrics" bash -c \
    "curl -sS http://127.0.0.1:${port[$s]}/metrics | promtool check metrics"
done
check "/metrics is Prometheus text" grep -q "^# TYPE restinu_http_requests_total counter" <<<"$metrics"
check "/metrics counts requests by route template" grep -q 'route="/readyz"' <<<"$metrics"
check "/metrics has the pool gauges" bash -c \
  "curl -sS http://127.0.0.1:${port[user]}/metrics | grep -q '^restinu_pg_pool_connections'"

# Forwarding: the property service answers (a 404 problem until listings exist), with the
# client's request id kept end to end.
headers=$(curl -sS -D - -o "$work/body" -H 'X-Request-Id: e2e-trace-1' "$gw/api/v1/properties/42")
check "the gateway forwards by prefix to the property service" grep -q "^HTTP/1.1 404" <<<"$headers"
check "the answer is the service's problem+json" grep -q '"instance":"/api/v1/properties/42"' "$work/body"
check "the request id is echoed" grep -qi "^x-request-id: e2e-trace-1" <<<"$headers"
sleep 0.3
check "and reached the service" bash -c "grep -h e2e-trace-1 '$work/property-a.log' '$work/property-b.log' | grep -q '\"logger\":\"access\"'"
code=$(curl -s -o /dev/null -w '%{http_code}' "$gw/api/v1/nowhere")
check "an unknown public path is 404 at the gateway" test "$code" = 404

# The user service through the gateway: register, log in, read the profile with the token.
email="e2e-$RANDOM$RANDOM@example.com"
code=$(curl -s -o "$work/reg" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"an e2e passphrase\"}" "$gw/api/v1/auth/register")
check "register through the gateway answers 201" test "$code" = 201
token=$(curl -s -H 'Content-Type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"an e2e passphrase\"}" "$gw/api/v1/auth/login" |
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
check "login through the gateway returns an access token" test -n "$token"
me=$(curl -s -H "Authorization: Bearer $token" "$gw/api/v1/users/me")
check "the token reads the caller's profile" grep -q "\"email\":\"$email\"" <<<"$me"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${token}x" "$gw/api/v1/users/me")
check "a tampered token is 401" test "$code" = 401
check "the JWKS is public" bash -c "curl -s '$gw/.well-known/jwks.json' | grep -q '\"alg\":\"ES256\"'"

# The first admin comes from the CLI; KYC goes pending → approved through the gateway.
jget() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
admin_email="admin-$RANDOM$RANDOM@example.com"
printf 'an admin passphrase\n' | "$bin" user create-admin --email "$admin_email" >/dev/null 2>&1
check "restinu user create-admin creates the admin" test $? = 0
printf 'an admin passphrase\n' | "$bin" user create-admin --email "$admin_email" >/dev/null 2>&1
code=$?
check "and refuses the same e-mail again (exit 3)" test "$code" = 3
admin=$(curl -s -H 'Content-Type: application/json' \
  -d "{\"email\":\"$admin_email\",\"password\":\"an admin passphrase\"}" "$gw/api/v1/auth/login" |
  jget access_token)
user_id=$(curl -s -H "Authorization: Bearer $token" "$gw/api/v1/users/me" | jget id)
# A random Aadhaar-shaped number with its Verhoeff check digit (documents are unique per account).
aadhaar=$(/usr/bin/python3 - <<'PY'
import random
d = [[0,1,2,3,4,5,6,7,8,9],[1,2,3,4,0,6,7,8,9,5],[2,3,4,0,1,7,8,9,5,6],[3,4,0,1,2,8,9,5,6,7],
     [4,0,1,2,3,9,5,6,7,8],[5,9,8,7,6,0,4,3,2,1],[6,5,9,8,7,1,0,4,3,2],[7,6,5,9,8,2,1,0,4,3],
     [8,7,6,5,9,3,2,1,0,4],[9,8,7,6,5,4,3,2,1,0]]
p = [[0,1,2,3,4,5,6,7,8,9],[1,5,7,6,2,8,3,0,9,4],[5,8,0,3,7,9,6,1,4,2],[8,9,1,6,0,4,3,5,2,7],
     [9,4,5,3,1,2,6,8,7,0],[4,2,8,6,5,7,3,9,0,1],[2,7,9,3,8,0,6,4,1,5],[7,0,4,6,9,1,3,2,5,8]]
inv = [0,4,3,2,1,5,6,7,8,9]
n = str(random.randint(2, 9)) + "".join(str(random.randint(0, 9)) for _ in range(10))
c = 0
for i, ch in enumerate(reversed(n)):
    c = d[c][p[(i + 1) % 8][int(ch)]]
print(n + str(inv[c]))
PY
)
code=$(curl -s -o "$work/kyc" -w '%{http_code}' -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' "$gw/api/v1/users/me/kyc" \
  -d '{"document_type":"aadhaar","document_number":"'"$aadhaar"'","full_name":"E2E User","date_of_birth":"1990-01-01"}')
check "a KYC submission is accepted (202, got $code: $(head -c 300 "$work/kyc"))" test "$code" = 202
check "and shows only the masked number" bash -c \
  "grep -q 'XXXX XXXX ${aadhaar:8:4}' '$work/kyc' && ! grep -q $aadhaar '$work/kyc'"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
  "$gw/api/v1/admin/kyc/$user_id/approve")
check "the user cannot approve their own KYC (403)" test "$code" = 403
check "the admin sees it pending" bash -c \
  "curl -s -H 'Authorization: Bearer $admin' '$gw/api/v1/admin/kyc?status=pending' | grep -q '$user_id'"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $admin" \
  "$gw/api/v1/admin/kyc/$user_id/approve")
check "and approves it" test "$code" = 200
status=$(curl -s -H "Authorization: Bearer $token" "$gw/api/v1/users/me/kyc" | jget status)
check "the user's KYC is approved" test "$status" = approved
code=$(curl -s -o "$work/forged" -w '%{http_code}' -H "X-Restinu-User-Id: $user_id" \
  "http://127.0.0.1:${port[user]}/api/v1/users/me")
check "a client claiming an identity straight at a service is refused (401)" test "$code" = 401
check "as invalid-identity" grep -q 'problems/invalid-identity' "$work/forged"

# Listings through the gateway: an admin lists, the projection makes it searchable at once,
# a stale If-Match loses, an investor cannot list.
word="e2eword$RANDOM$RANDOM"
listing='{"title":"3 BHK Apartment '"$word"'","property_type":"apartment","status":"active",
  "price":{"amount":1850000000,"currency":"INR"},"bedrooms":3,"bathrooms":2,"area_sqft":1250,
  "address":{"locality":"Powai","city":"Mumbai","state":"Maharashtra","country":"IN"},
  "location":{"lat":19.1176,"lng":72.906},"facing":"E","amenities":["gym"]}'
code=$(curl -s -o "$work/created" -D "$work/created.h" -w '%{http_code}' -H "Authorization: Bearer $admin" \
  -H 'Content-Type: application/json' "$gw/api/v1/properties" -d "$listing")
check "an admin creates a listing through the gateway (201)" test "$code" = 201
check "with an ETag" grep -qi '^etag: "1"' "$work/created.h"
listing_id=$(jget id <"$work/created")
found=""
for i in $(seq 1 40); do
  if curl -s "$gw/api/v1/properties?q=$word&city=mumbai" | grep -q "$listing_id"; then found=$i; break; fi
  sleep 0.025
done
check "it is searchable within a second (after $((found * 25)) ms)" test -n "$found"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $admin" -H 'If-Match: "1"' \
  -H 'Content-Type: application/json' "$gw/api/v1/properties/$listing_id" -d '{"bedrooms":4}')
check "a PATCH with the current ETag changes it" test "$code" = 200
code=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $admin" -H 'If-Match: "1"' \
  -H 'Content-Type: application/json' "$gw/api/v1/properties/$listing_id" -d '{"bedrooms":5}')
check "a PATCH with a stale ETag is 412" test "$code" = 412
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' "$gw/api/v1/properties" -d "$listing")
check "an investor cannot list (403)" test "$code" = 403
code=$(curl -s -o /dev/null -w '%{http_code}' "$gw/api/v1/properties?radius_km=5")
check "a bad search parameter is 400" test "$code" = 400
out=$(RESTINU_PG__DATABASE=properties_db "$bin" property rebuild-read-model 2>&1)
check "restinu property rebuild-read-model rebuilds the search table" \
  grep -q "rebuilt the search read model: [1-9][0-9]* listings" <<<"$out"
check "and the listing is still found" bash -c "curl -s '$gw/api/v1/properties?q=$word' | grep -q '$listing_id'"

# Balancing: both property instances get requests.
for i in $(seq 1 20); do curl -s -o /dev/null "$gw/api/v1/properties/$i"; done
sleep 0.3
a=$(grep -c '"path":"/api/v1/properties/' "$work/property-a.log")
b=$(grep -c '"path":"/api/v1/properties/' "$work/property-b.log")
check "both property instances serve ($a and $b requests)" test "$a" -gt 0 -a "$b" -gt 0

# One property instance killed: every request is still answered by the other.
kill -KILL "${pid[property-a]}"
wait "${pid[property-a]}" 2>/dev/null
bad=0
for i in $(seq 1 20); do
  c=$(curl -s -o /dev/null -w '%{http_code}' "$gw/api/v1/properties/$i")
  [[ $c == 404 ]] || bad=$((bad + 1))
done
check "with one property instance killed, no request fails ($bad did)" test "$bad" = 0
check "and the gateway stays ready" wait_ready "${port[gateway]}" 5

kill -TERM "${pid[property-b]}"
wait "${pid[property-b]}"
code=$?
check "SIGTERM stops a service cleanly (exit 0)" test "$code" = 0
headers=$(curl -sS -D - -o "$work/body" "$gw/api/v1/properties/1")
check "with no property instance left, the gateway answers 503" grep -q "^HTTP/1.1 503" <<<"$headers"
check "as problem+json with Retry-After" bash -c \
  'grep -qi "^content-type: application/problem+json" <<<"$0" && grep -qi "^retry-after: 1" <<<"$0"' "$headers"
code=$(curl -s -o /dev/null -w '%{http_code}' "$gw/readyz")
check "and its /readyz answers 503" test "$code" = 503

out=$("$bin" events streams 2>&1)
check "restinu events streams lists the streams" grep -q "^STREAM" <<<"$out"

kill -TERM "${pid[gateway]}"
wait "${pid[gateway]}"
code=$?
check "SIGTERM stops the gateway cleanly (exit 0)" test "$code" = 0
check "its log is JSON lines" bash -c "head -1 '$work/gateway.log' | grep -q '^{\"ts\":'"

# Every process still running stops cleanly, and no process reported a sanitizer finding.
for s in "${!pid[@]}"; do
  kill -0 "${pid[$s]}" 2>/dev/null || continue  # stopped (or killed) above
  kill -TERM "${pid[$s]}"
  wait "${pid[$s]}"
  code=$?
  check "SIGTERM stops $s cleanly (exit 0, got $code)" test "$code" = 0
done
for f in "$work"/*.log; do
  check "no sanitizer report in $(basename "$f")" bash -c \
    "! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$f'"
done

if ((failures > 0)); then
  echo "e2e: $failures check(s) failed; logs:"
  for f in "$work"/*.log; do echo "--- $f"; tail -n 15 "$f"; done
  exit 1
fi
echo "e2e: all checks passed"
