#!/usr/bin/env bash
# `make run`: the whole local stack on loopback, project-local, until Ctrl-C.
#   PostgreSQL 15 + PostGIS, Redis 7, a mail sink (tools/mailsink: every mail the services
#   send is kept as a file and shown on a web page, none leaves the machine) and an Ethereum
#   node (anvil, its chain kept in .run/anvil/state.json between runs) under .run/
#   (git-ignored), every service database created and migrated, every service started (two
#   property instances), the web app and the gateway on 127.0.0.1:${RESTINU_PORT:-8080}.
#   Ctrl-C stops everything this script started, nothing else. RESTINU_RUN_DIR (default .run)
#   and RESTINU_DEMO_LISTINGS (default 2000) change where it keeps its data and how many demo
#   listings it seeds.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$(realpath "${1:-$root/build/release/app/restinu}")
# shellcheck source=lib.sh
source "$root/scripts/lib.sh"

# Everything the stack keeps lives in one folder: .run/ by default; the browser tests use a
# throwaway one (RESTINU_RUN_DIR) and a free port (RESTINU_PORT).
run=${RESTINU_RUN_DIR:-$root/.run}
mkdir -p "$run/logs"
gateway_port=${RESTINU_PORT:-8080}

port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
pick_port() {  # preferred port if free, else any free one
  if port_free "$1"; then echo "$1"; else free_port; fi
}
if ! port_free "$gateway_port"; then
  echo "make run: port $gateway_port is taken; set RESTINU_PORT to another port" >&2
  exit 1
fi

# PostgreSQL runs as the unprivileged `postgres` user when we are root; it must be able to
# reach its folder. A checkout under a private home folder is not, so use /var/tmp then.
pg_dir="$run/pg"
if [[ $(id -u) -eq 0 ]] && ! runuser -u postgres -- test -x "$run" 2>/dev/null; then
  pg_dir="/var/tmp/restinu-pg-$(echo "$root" | md5sum | cut -c1-8)"
  echo "stack: $run is not reachable by the postgres user; PostgreSQL data in $pg_dir"
fi

pids=()
pg_started=""
redis_port=""
anvil_pid=""
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "stack: stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n "$redis_port" ]] && redis_stop "$run/redis" "$redis_port"
  if [[ -n "$anvil_pid" ]]; then  # SIGINT: anvil writes its state file, then exits
    kill -INT "$anvil_pid" 2>/dev/null || true
    wait "$anvil_pid" 2>/dev/null || true
  fi
  [[ -n "$pg_started" ]] && pg_stop "$pg_dir" fast
    rm -f "${TMPDIR:-/tmp}/restinu-ports.$$"
  echo "stack: stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # Ctrl-C: leave through the EXIT trap, with the usual status

# 1. PostgreSQL (kept between runs, so demo data survives a restart of the stack).
pg_port=$(pick_port "${RESTINU_PG_PORT:-55432}")
if [[ ! -f "$pg_dir/data/PG_VERSION" ]]; then
  echo "stack: creating a PostgreSQL cluster in $pg_dir"
  pg_init "$pg_dir"
fi
if [[ -f "$pg_dir/data/postmaster.pid" ]]; then
  pg_stop "$pg_dir" fast  # left over from a run that was killed
fi
pg_start "$pg_dir" "$pg_port"
pg_started=1
echo "stack: PostgreSQL on 127.0.0.1:$pg_port"

# 2. Redis.
redis_port=$(pick_port "${RESTINU_REDIS_PORT:-56379}")
redis_start "$run/redis" "$redis_port"
echo "stack: Redis on 127.0.0.1:$redis_port"

# 2b. anvil: the local Ethereum chain (chain id 31337), its state kept between runs (written on
#     exit and every 30 s) so the contracts and the chain database stay in step.
anvil_port=$(pick_port "${RESTINU_ANVIL_PORT:-58545}")
mkdir -p "$run/anvil"
anvil_bin="$root/tools/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
anvil_state=()
[[ -s "$run/anvil/state.json" ]] && anvil_state=(--load-state "$run/anvil/state.json")
"$anvil_bin" --host 127.0.0.1 --port "$anvil_port" --chain-id 31337 "${anvil_state[@]}" \
  --dump-state "$run/anvil/state.json" --state-interval 30 </dev/null >"$run/logs/anvil.log" 2>&1 &
anvil_pid=$!
for i in $(seq 1 100); do
  curl -sf -m 1 -H 'Content-Type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' \
    "http://127.0.0.1:$anvil_port" >/dev/null 2>&1 && break
  if [[ $i == 100 ]] || ! kill -0 "$anvil_pid" 2>/dev/null; then
    echo "stack: anvil did not start; $run/logs/anvil.log:" >&2
    tail -n 20 "$run/logs/anvil.log" >&2
    exit 1
  fi
  sleep 0.1
done
echo "stack: anvil (Ethereum, chain id 31337) on 127.0.0.1:$anvil_port"

# 3. The mail sink: SMTP for the services and a web page of what they sent; the messages are
#    kept between runs in .run/mail/ (one .eml file each, its envelope in a .json beside it).
mail_port=$(pick_port "${RESTINU_MAIL_PORT:-55025}")
mail_web_port=$(pick_port "${RESTINU_MAIL_WEB_PORT:-55080}")
while [[ $mail_web_port == "$mail_port" ]]; do mail_web_port=$(free_port); done
mail_dir="$run/mail"
/usr/bin/python3 "$root/tools/mailsink/mailsink.py" --smtp-port "$mail_port" --dir "$mail_dir" \
  --http-port "$mail_web_port" </dev/null >"$run/logs/mailsink.log" 2>&1 &
pids+=($!)
for i in $(seq 1 100); do  # it prints its first line once both ports listen
  grep -q '^mailsink: SMTP on' "$run/logs/mailsink.log" 2>/dev/null && break
  if ((i == 100)) || ! kill -0 "${pids[-1]}" 2>/dev/null; then
    echo "stack: the mail sink did not start; $run/logs/mailsink.log:" >&2
    tail -n 20 "$run/logs/mailsink.log" >&2
    exit 1
  fi
  sleep 0.05
done
echo "stack: mail sink: SMTP on 127.0.0.1:$mail_port, web page http://127.0.0.1:$mail_web_port/"

export RESTINU_PG__URL="host=127.0.0.1 port=$pg_port user=postgres"
export RESTINU_REDIS__HOST=127.0.0.1 RESTINU_REDIS__PORT=$redis_port
export RESTINU_LOG__FORMAT=${RESTINU_LOG__FORMAT:-json}
# The notification service mails through the sink; links in mails point at the gateway.
export RESTINU_NOTIFICATION__SMTP__URL="smtp://127.0.0.1:$mail_port"
export RESTINU_NOTIFICATION__LINKS__BASE_URL="http://127.0.0.1:$gateway_port"
# The gateway signs the caller's identity for the services with this; a new one every run
# unless one is given (every process gets the same value).
export RESTINU_IDENTITY__SECRET=${RESTINU_IDENTITY__SECRET:-$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')}

# Secrets, made once and kept in .run/ (git-ignored) so that data encrypted with them stays
# readable across restarts. Production passes them with *_file settings (docs/configuration.md).
secrets="$run/secrets.env"
if [[ ! -f "$secrets" ]]; then
  umask 077
  echo "RESTINU_KYC__ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)" >"$secrets"
  umask 022
fi
# Added later than the first: a .run/ from before gets it on its next start.
if ! grep -q '^RESTINU_AUTH__KEY_ENCRYPTION_KEY=' "$secrets"; then
  echo "RESTINU_AUTH__KEY_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)" >>"$secrets"
fi
# The Ed25519 seed that signs Vastu certificates (its public key: GET /api/v1/vastu/public-key).
if ! grep -q '^RESTINU_CHAIN__WALLETS__SEAL_KEY=' "$secrets"; then
  echo "RESTINU_CHAIN__WALLETS__SEAL_KEY=$(head -c 32 /dev/urandom | base64 -w0)" >>"$secrets"
fi
if ! grep -q '^RESTINU_VASTU__SIGNING_KEY=' "$secrets"; then
  echo "RESTINU_VASTU__SIGNING_KEY=$(head -c 32 /dev/urandom | base64 -w0)" >>"$secrets"
fi
set -a
# shellcheck source=/dev/null
source "$secrets"
set +a

# 4. Databases and migrations.
"$bin" migrate all --create-database

# 4b. The chain: anvil's development accounts (public keys, funded on every fresh anvil) as the
#     platform's operator (account 2) and governance (account 1), and the platform's contracts
#     deployed once. A chain that lost its state (anvil killed before it wrote it) no longer
#     has the contracts the chain database names: start that database again.
export RESTINU_CHAIN__RPC_URL="http://127.0.0.1:$anvil_port"
export RESTINU_CHAIN__OPERATOR_KEY=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
export RESTINU_CHAIN__GOVERNANCE_ADDRESS=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
export RESTINU_CHAIN__CONFIRMATIONS=1 RESTINU_CHAIN__POLL=250ms
export RESTINU_CHAIN__METADATA__DIR="$run/metadata"
export RESTINU_CHAIN__APP_URL="http://127.0.0.1:$gateway_port"
timelock=$(psql "$RESTINU_PG__URL dbname=chain_db" -tAc "SELECT address FROM chain_platform WHERE name = 'timelock'" 2>/dev/null || true)
if [[ -n $timelock ]] && curl -sf -H 'Content-Type: application/json' \
  -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getCode\",\"params\":[\"$timelock\",\"latest\"]}" \
  "$RESTINU_CHAIN__RPC_URL" | grep -q '"result":"0x"'; then
  echo "stack: the chain lost the platform's contracts; starting chain_db again"
  psql "$RESTINU_PG__URL dbname=postgres" -qc "DROP DATABASE chain_db WITH (FORCE)"
  "$bin" migrate blockchain --create-database
fi
"$bin" blockchain deploy | sed 's/^/stack: /'

# 5. Services, each its own process; logs in .run/logs/.
wait_ready() {  # name port
  local i
  for i in $(seq 1 150); do
    if curl -fsS "http://127.0.0.1:$2/readyz" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "stack: $1 did not become ready on port $2; see $run/logs/$1.log" >&2
  return 1
}
start_service() {  # name instance port
  local name=$1 instance=$2 port=$3
  RESTINU_HTTP__PORT=$port RESTINU_INSTANCE=$instance \
    "$bin" "$name" >"$run/logs/$instance.log" 2>&1 &
  pids+=($!)
}

# Every service of the registry but the gateway, with as many instances as its row says; the
# k-th instance on its default port + 10 (k - 1), or a free one near it.
declare -A addresses  # service -> "127.0.0.1:p1,127.0.0.1:p2"
instances=()          # "service instance port"
upstream_env=()
while read -r svc _db port count _prefixes; do
  [[ $svc == gateway ]] && continue
  for k in $(seq 1 "$count"); do
    p=$(pick_port $((port + 10 * (k - 1))))
    instances+=("$svc $svc-$k $p")
    addresses[$svc]+="${addresses[$svc]:+,}127.0.0.1:$p"
  done
done < <(registry_rows "$root/services/registry.tsv")
# The payment service pays through the sandbox provider (Stripe's API shape) and takes its
# purchase steps on the property instances; the sandbox signs its webhooks to the gateway.
export RESTINU_PAYMENT__PROVIDER__URL="http://${addresses[sandbox]}"
export RESTINU_PAYMENT__PROPERTY_URLS="http://${addresses[property]//,/,http://}"
# Share purchases hold their payments at the payment service; a tokenized listing's sale moves
# its deed through the blockchain service.
export RESTINU_CHAIN__PAYMENT_URLS="http://${addresses[payment]//,/,http://}"
export RESTINU_PAYMENT__CHAIN_URLS="http://${addresses[blockchain]//,/,http://}"
# Listing photos are kept with the rest of the stack's data (docs/images.md).
export RESTINU_PROPERTY__IMAGES__DIR="$run/images"
export RESTINU_SANDBOX__WEBHOOK_URL="http://127.0.0.1:$gateway_port/api/v1/payments/webhooks/provider"
for row in "${instances[@]}"; do
  read -r svc instance p <<<"$row"
  start_service "$svc" "$instance" "$p"
done
for row in "${instances[@]}"; do
  read -r svc instance p <<<"$row"
  wait_ready "$instance" "$p"
done
for svc in "${!addresses[@]}"; do
  [[ $svc == sandbox ]] && continue  # a test peer, never behind the gateway
  upstream_env+=("RESTINU_GATEWAY__UPSTREAMS__${svc^^}=${addresses[$svc]}")
done
# The gateway's /metrics is on its admin listener, never on the public port (ADR 0009).
admin_port=$((gateway_port + 1000))
env "${upstream_env[@]}" RESTINU_HTTP__PORT="$gateway_port" RESTINU_INSTANCE=gateway-1 \
  RESTINU_HTTP__ADMIN_PORT="$admin_port" RESTINU_GATEWAY__WEB__DIR="$root/web/dist" \
  "$bin" gateway >"$run/logs/gateway-1.log" 2>&1 &
pids+=($!)
wait_ready gateway-1 "$gateway_port"

# 6. Demo accounts (kept between runs): an admin from the CLI, an agent and an investor through
#    the API, the agent promoted by the admin, as an operator would do it.
demo_password="demo passphrase 2026"
api() {  # method path [token] [json]
  curl -sS -X "$1" "http://127.0.0.1:$gateway_port$2" -H 'Content-Type: application/json' \
    ${3:+-H "Authorization: Bearer $3"} ${4:+-d "$4"}
}
jget() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"; }
login() { api POST /api/v1/auth/login "" "{\"email\":\"$1\",\"password\":\"$demo_password\"}" | jget access_token; }
rc=0
printf '%s\n' "$demo_password" | "$bin" user create-admin --email admin@restinu.local >/dev/null || rc=$?
if [[ $rc -ne 0 && $rc -ne 3 ]]; then echo "stack: cannot create the demo admin" >&2; exit 1; fi
for who in agent investor; do
  api POST /api/v1/auth/register "" \
    "{\"email\":\"$who@restinu.local\",\"password\":\"$demo_password\",\"name\":\"Demo ${who^}\"}" >/dev/null
done
admin_token=$(login admin@restinu.local || true)
agent_id=$(api GET /api/v1/users/me "$(login agent@restinu.local || true)" | jget id || true)
api PATCH "/api/v1/admin/users/$agent_id" "$admin_token" '{"role":"agent"}' >/dev/null
if [[ -z "$admin_token" || -z "$agent_id" ]]; then
  echo "stack: demo accounts could not be set up; see $run/logs/" >&2
fi
# 7. Demo listings, once (kept between runs): 2,000 in 24 cities, searchable at once.
listings=$(psql "$RESTINU_PG__URL dbname=properties_db" -tAc "SELECT count(*) FROM properties" 2>/dev/null || echo 0)
if [[ "$listings" == 0 ]]; then
  "$bin" seed --listings "${RESTINU_DEMO_LISTINGS:-2000}" --users 100 2>&1 | tail -1
fi
# 8. A demo listing of the agent's with two photos, once (the photos made by libvips' CLI).
if [[ ! -f $run/demo-photos.done ]]; then
  agent_token=$(login agent@restinu.local || true)
  demo='{"title":"Demo villa with photos","description":"Upload more with POST /api/v1/properties/{id}/images.","property_type":"villa","status":"active","price":{"amount":4500000000,"currency":"INR"},"bedrooms":4,"bathrooms":4,"area_sqft":3200,"address":{"line":"1 Demo Road","locality":"Baner","city":"Pune","state":"Maharashtra","postal_code":"411045","country":"IN"},"location":{"lat":18.559,"lng":73.7868},"facing":"E"}'
  demo_id=""
  for _ in $(seq 1 50); do  # the agent's role reaches the property service by event
    demo_id=$(api POST /api/v1/properties "$agent_token" "$demo" | jget id 2>/dev/null || true)
    [[ -n $demo_id ]] && break
    sleep 0.2
  done
  if [[ -n $demo_id ]]; then
    for size in "1600 1200" "1200 1600"; do
      read -r w h <<<"$size"
      vips zone "$run/zone.v" "$w" "$h" && vips linear "$run/zone.v" "$run/grey.v" 127 128 --uchar &&
        vips bandjoin "$run/grey.v $run/grey.v $run/grey.v" "$run/demo.jpg[Q=85]" &&
        curl -sS -o /dev/null -X POST "http://127.0.0.1:$gateway_port/api/v1/properties/$demo_id/images" \
          -H "Authorization: Bearer $agent_token" -H 'Content-Type: image/jpeg' \
          --data-binary "@$run/demo.jpg" ||
        echo "stack: a demo photo could not be added; see $run/logs/" >&2
    done
    rm -f "$run/zone.v" "$run/grey.v" "$run/demo.jpg"
    echo "$demo_id" >"$run/demo-photos.done"
  fi
fi
demo_id=$(cat "$run/demo-photos.done" 2>/dev/null || true)
# 9. The demo listing tokenized, once: its deed minted and 1,000 shares at ₹45,000 each
#    (the listing reaches the blockchain service by event: a few tries).
if [[ -n $demo_id ]] && [[ ! -f $run/demo-tokenized.done ]]; then
  for _ in $(seq 1 50); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
      "http://127.0.0.1:$gateway_port/api/v1/properties/$demo_id/tokenize" \
      -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
      -d '{"total_shares":1000,"price_per_share":{"amount":4500000,"currency":"INR"}}')
    if [[ $code == 202 || $code == 409 ]]; then
      echo "$demo_id" >"$run/demo-tokenized.done"
      break
    fi
    sleep 0.2
  done
  [[ -f $run/demo-tokenized.done ]] || echo "stack: the demo listing could not be tokenized; see $run/logs/" >&2
fi

# 9b. Two more of the agent's listings tokenized, once, so that investors have a choice.
if [[ -n $demo_id ]] && [[ ! -f $run/demo-tokenized-more.done ]]; then
  agent_token=$(login agent@restinu.local || true)
  more=()
  for spec in "Sea-view flat with shares|Bandra West|Mumbai|Maharashtra|400050|19.0596|72.8295|apartment|2500000000|500" \
    "Office floor with shares|Bellandur|Bengaluru|Karnataka|560103|12.9279|77.6271|commercial|6000000000|2000"; do
    IFS='|' read -r title locality city state pin lat lng type price shares <<<"$spec"
    body="{\"title\":\"$title\",\"description\":\"Fractional shares on the local chain.\",\"property_type\":\"$type\",\"status\":\"active\",\"price\":{\"amount\":$price,\"currency\":\"INR\"},\"bedrooms\":2,\"bathrooms\":2,\"area_sqft\":1400,\"address\":{\"line\":\"2 Demo Lane\",\"locality\":\"$locality\",\"city\":\"$city\",\"state\":\"$state\",\"postal_code\":\"$pin\",\"country\":\"IN\"},\"location\":{\"lat\":$lat,\"lng\":$lng}}"
    id=$(api POST /api/v1/properties "$agent_token" "$body" | jget id 2>/dev/null || true)
    [[ -n $id ]] && more+=("$id $shares $((price / shares))")
  done
  for row in "${more[@]}"; do
    read -r id shares per_share <<<"$row"
    for _ in $(seq 1 50); do  # the listing reaches the blockchain service by event
      code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
        "http://127.0.0.1:$gateway_port/api/v1/properties/$id/tokenize" \
        -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
        -d "{\"total_shares\":$shares,\"price_per_share\":{\"amount\":$per_share,\"currency\":\"INR\"}}")
      [[ $code == 202 || $code == 409 ]] && break
      sleep 0.2
    done
  done
  printf '%s\n' "${more[@]}" >"$run/demo-tokenized-more.done"
fi

# 10. The demo investor, once: KYC approved by the admin and a custodial wallet, so that it can
#     buy shares of the tokenized listing at once (its wallet enters the identity registry).
if [[ ! -f $run/demo-investor.done ]]; then
  investor_token=$(login investor@restinu.local || true)
  investor_id=$(api GET /api/v1/users/me "$investor_token" | jget id || true)
  api POST /api/v1/users/me/kyc "$investor_token" \
    '{"document_type":"pan","document_number":"ABCPD1234E","full_name":"Demo Investor","date_of_birth":"1990-01-01"}' >/dev/null || true
  api POST "/api/v1/admin/kyc/$investor_id/approve" "$admin_token" '{}' >/dev/null || true
  wallet=$(api POST /api/v1/wallets/custodial "$investor_token" '{}' | jget address 2>/dev/null || true)
  if [[ -n $wallet ]]; then
    echo "$wallet" >"$run/demo-investor.done"
  else
    echo "stack: the demo investor's wallet could not be made; see $run/logs/" >&2
  fi
fi

cat <<INFO

REST-iN-U is up. Open the web app in a browser: http://127.0.0.1:$gateway_port/
The gateway is the one public entry:
  curl http://127.0.0.1:$gateway_port/readyz
  curl http://127.0.0.1:$admin_port/metrics   # the gateway's admin listener (metrics)
  curl -s 'http://127.0.0.1:$gateway_port/api/v1/properties?city=Pune&min_bedrooms=2&limit=3'
  curl -s 'http://127.0.0.1:$gateway_port/api/v1/properties?near=19.076,72.8777&radius_km=5&sort=distance&limit=3'

Services (each also serves /healthz, /readyz, /metrics):
$(for svc in "${!addresses[@]}"; do printf '  %-13s %s\n' "$svc" "${addresses[$svc]//,/ and }"; done | sort)
  PostgreSQL    $RESTINU_PG__URL   Redis 127.0.0.1:$redis_port   SMTP 127.0.0.1:$mail_port
Demo mails (the welcome mail of every account you register): http://127.0.0.1:$mail_web_port/
  (files: $mail_dir/)
Demo accounts (password for each: "$demo_password"):
  admin@restinu.local (admin)   agent@restinu.local (agent)   investor@restinu.local (investor)
  curl -s http://127.0.0.1:$gateway_port/api/v1/auth/login -H 'Content-Type: application/json' \\
    -d '{"email":"investor@restinu.local","password":"$demo_password"}'
A listing with photos (renditions under /api/v1/images/..., files in $run/images/):
  curl -s http://127.0.0.1:$gateway_port/api/v1/properties/$demo_id
The demo listing tokenized on the local chain (anvil, 127.0.0.1:$anvil_port): its deed and shares
  curl -s http://127.0.0.1:$gateway_port/api/v1/properties/$demo_id/tokenize
  $bin blockchain status   # the platform's contracts and the chain transactions by state
Buy 10 shares of it as the demo investor (KYC approved, custodial wallet), then see them:
  T=\$(curl -s http://127.0.0.1:$gateway_port/api/v1/auth/login -H 'Content-Type: application/json' \\
    -d '{"email":"investor@restinu.local","password":"$demo_password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s http://127.0.0.1:$gateway_port/api/v1/investments -H "Authorization: Bearer \$T" \\
    -H "Idempotency-Key: \$(cat /proc/sys/kernel/random/uuid)" -H 'Content-Type: application/json' \\
    -d '{"property_id":"$demo_id","shares":10,"payment_method":"pm_card_visa"}'
  curl -s http://127.0.0.1:$gateway_port/api/v1/users/me/portfolio -H "Authorization: Bearer \$T"
Buy a listing (the sandbox provider stands in for the card network; pm_card_visa pays,
pm_card_chargeDeclined declines): POST /api/v1/offers as a KYC-approved buyer, then
POST /api/v1/offers/{id}/accept as the listing's agent, then GET /api/v1/purchases/{id}.
  $bin purchase list        # operators: every purchase and its saga step
Event bus:  RESTINU_REDIS__PORT=$redis_port $bin events streams
Logs: $run/logs/   Press Ctrl-C to stop everything.
INFO

# Stay until Ctrl-C, or until a process dies (then stop the rest and say which).
while :; do
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "stack: process $pid exited; see $run/logs/ — stopping the stack" >&2
      exit 1
    fi
  done
  sleep 1
done
