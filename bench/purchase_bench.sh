#!/usr/bin/env bash
# The purchase saga's cost (issue 17): one payment instance (its orchestrator), the property
# service taking the purchase steps, the sandbox provider, PostgreSQL and Redis, all on this
# machine. Two saga rows, then the reference:
#   throughput: PURCHASES purchases (default 2,000, each of its own listing and buyer) become
#     due at once; purchases completed per second until every one ended, and each purchase's
#     time from due to completed (p50/p99) — mostly waiting in line at this load;
#   latency: LATENCY_PURCHASES purchases (default 200) made due one at a time, 50 ms apart;
#     p50/p99 from due to completed — what a buyer waits on an idle system;
#   reference: the same database work in one transaction per purchase (pgbench, the saga's
#     rows, ledger entries, steps, outbox event and the listing's three updates, all in
#     payments_db), transactions per second with CLIENTS clients.
# The ratio of the two rates is what running it as a saga costs: the provider's and the property
# service's HTTP round trips, one commit per step instead of one in all, and the lease.
#   PURCHASES=2000 LATENCY_PURCHASES=200 bash bench/purchase_bench.sh build/release/app/restinu
set -euo pipefail
bin=$(realpath "${1:?usage: purchase_bench.sh path/to/restinu}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$root/scripts/lib.sh"
purchases=${PURCHASES:-2000}
latency_purchases=${LATENCY_PURCHASES:-200}
clients=${CLIENTS:-8}
ref_secs=${REFERENCE_SECONDS:-20}

work=$(mktemp -d /tmp/restinu-bench-purchase.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  bash "$root/scripts/testenv.sh" stop "$work/env" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

bash "$root/scripts/testenv.sh" start "$work/env" >/dev/null
# shellcheck disable=SC1091
source "$work/env/env.sh"
pg="host=127.0.0.1 port=$RESTINU_TEST_PG_PORT user=postgres"
export RESTINU_PG__URL=$pg RESTINU_REDIS__PORT=$RESTINU_TEST_REDIS_PORT
export RESTINU_LOG__ACCESS=false RESTINU_LOG__LEVEL=warn RESTINU_HTTP__THREADS=1
"$bin" migrate all --create-database >/dev/null 2>&1
owner=01a24a80-0000-7000-8000-00000000aaaa

# Listings (active, version 1) in the property service's write model, and the payment service's
# copies of them and of the buyers' KYC, as their events would have made them.
seed() {  # from to
  psql "$pg dbname=properties_db" -qAt -c "
    INSERT INTO properties (id, owner_id, title, property_type, listing_type, status, price_minor,
      currency, bedrooms, bathrooms, area_sqft, city, latitude, longitude)
    SELECT ('01a24a80-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, '$owner', 'Flat ' || g,
      'apartment', 'sale', 'active', 5000000000 + g, 'INR', 2, 2, 1000, 'Pune', 18.5, 73.8
    FROM generate_series($1, $2) g"
  psql "$pg dbname=payments_db" -qAt -c "
    INSERT INTO listing_view (id, owner_id, status, price_minor, currency, title, address, version)
    SELECT ('01a24a80-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, '$owner', 'active',
      5000000000 + g, 'INR', 'Flat ' || g, 'Pune', 1 FROM generate_series($1, $2) g;
    INSERT INTO kyc_view (user_id, status)
    SELECT ('01a24a81-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'approved'
    FROM generate_series($1, $2) g;
    INSERT INTO offers (id, listing_id, listing_version, buyer_id, seller_id, amount, currency,
      payment_method, status, expires_at, purchase_id)
    SELECT ('01a24a82-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
      ('01a24a80-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 1,
      ('01a24a81-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, '$owner', 5000000000 + g,
      'INR', 'pm_card_visa', 'accepted', now() + interval '1 day',
      ('01a24a83-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid
    FROM generate_series($1, $2) g"
}
# Makes purchases from..to due now (as accepting their offers does).
make_due() {  # from to
  psql "$pg dbname=payments_db" -qAt -c "
    INSERT INTO purchases (id, offer_id, listing_id, listing_version, buyer_id, seller_id, price,
      charge, currency, payment_method, state, step, created_at)
    SELECT purchase_id, id, listing_id, 1, buyer_id, seller_id, amount, amount, currency,
      payment_method, 'running', 'reserve', clock_timestamp()
    FROM offers WHERE purchase_id IN (SELECT ('01a24a83-0000-7000-8000-' ||
      lpad(to_hex(g), 12, '0'))::uuid FROM generate_series($1, $2) g)"
}
total=$((purchases + latency_purchases))
seed 1 "$total"
psql "$pg dbname=payments_db" -qc "VACUUM ANALYZE" >/dev/null
psql "$pg dbname=properties_db" -qc "VACUUM ANALYZE" >/dev/null

sandbox_port=$(free_port)
property_port=$(free_port)
payment_port=$(free_port)
RESTINU_HTTP__PORT=$sandbox_port "$bin" sandbox >"$work/sandbox.log" 2>&1 &
pids+=($!)
RESTINU_HTTP__PORT=$property_port RESTINU_INSTANCE=property-1 "$bin" property >"$work/property.log" 2>&1 &
pids+=($!)
wait_http "$sandbox_port" /readyz "$work"
wait_http "$property_port" /readyz "$work"
RESTINU_HTTP__PORT=$payment_port RESTINU_INSTANCE=payment-1 \
  RESTINU_PAYMENT__PROVIDER__URL="http://127.0.0.1:$sandbox_port" \
  RESTINU_PAYMENT__PROPERTY_URLS="http://127.0.0.1:$property_port" \
  RESTINU_PAYMENT__SAGA__POLL=20ms RESTINU_PAYMENT__SAGA__BATCH=64 \
  "$bin" payment >"$work/payment.log" 2>&1 &
pids+=($!)
wait_http "$payment_port" /readyz "$work"

stats() {  # from to → "completed per_second p50_ms p99_ms"
  psql "$pg dbname=payments_db" -qAt -F' ' -c "
    WITH p AS (SELECT * FROM purchases WHERE id IN (SELECT ('01a24a83-0000-7000-8000-' ||
      lpad(to_hex(g), 12, '0'))::uuid FROM generate_series($1, $2) g))
    SELECT count(*) FILTER (WHERE state = 'completed'),
      round((count(*) / extract(epoch FROM max(finished_at) - min(created_at)))::numeric, 1),
      round((1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY
        extract(epoch FROM finished_at - created_at)))::numeric, 1),
      round((1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY
        extract(epoch FROM finished_at - created_at)))::numeric, 1)
    FROM p"
}
wait_ended() {  # from to, bounded
  local i
  for i in $(seq 1 1200); do
    left=$(psql "$pg dbname=payments_db" -qAt -c "SELECT count(*) FROM purchases WHERE state IN
      ('running', 'compensating')")
    [[ $left == 0 ]] && return 0
    sleep 0.25
  done
  echo "bench purchase: purchases still running after 300 s" >&2
  return 1
}

echo "bench purchase: $purchases purchases due at once, one payment instance"
make_due 1 "$purchases"
wait_ended
read -r done_n rate p50 p99 <<<"$(stats 1 "$purchases")"
echo "bench purchase: $latency_purchases purchases one at a time, 50 ms apart"
for i in $(seq $((purchases + 1)) "$total"); do
  make_due "$i" "$i"
  sleep 0.05
done
wait_ended
read -r lat_done _lat_rate lat_p50 lat_p99 <<<"$(stats $((purchases + 1)) "$total")"

# The reference: the same rows written in one transaction per purchase.
psql "$pg dbname=payments_db" -qAt -c "
  CREATE TABLE IF NOT EXISTS bench_listings (id bigint PRIMARY KEY, status text, owner_id uuid,
    version int);
  CREATE TABLE IF NOT EXISTS bench_purchases (id bigint PRIMARY KEY, state text, step text);
  CREATE TABLE IF NOT EXISTS bench_steps (purchase bigint, step text, status text,
    PRIMARY KEY (purchase, step));
  INSERT INTO bench_listings SELECT g, 'active', '$owner', 1 FROM generate_series(1, 100000) g
  ON CONFLICT DO NOTHING" >/dev/null
cat >"$work/purchase.sql" <<'SQL'
\set l random(1, 100000)
\set n random(1, 4000000000000000)
BEGIN;
UPDATE bench_listings SET status = 'reserved', version = version + 1 WHERE id = :l;
INSERT INTO bench_purchases (id, state, step) VALUES (:n, 'running', 'reserve');
INSERT INTO idempotency_keys (key, operation, fingerprint, intent_id, result)
  VALUES ('bench:' || :n || ':authorise', 'authorise', 'f', 'pi_b' || :n, '{}');
INSERT INTO payment_intents (id, buyer_id, seller_id, amount, currency, payment_method, status,
  provider_intent_id) VALUES ('pi_b' || :n, gen_random_uuid(), gen_random_uuid(), 5000000000,
  'INR', 'pm_card_visa', 'authorised', 'pi_p' || :n);
WITH e AS (INSERT INTO journal_entries (intent_id, kind, operation)
  VALUES ('pi_b' || :n, 'authorise', 'pi_b' || :n || ':authorise') RETURNING id)
  INSERT INTO postings (entry_id, account_id, amount, currency)
  SELECT id, a, v, 'INR' FROM e, (VALUES ('buyer_funds:bench', 5000000000::bigint),
    ('escrow', -5000000000::bigint)) x(a, v);
UPDATE bench_listings SET owner_id = gen_random_uuid(), version = version + 1 WHERE id = :l;
INSERT INTO idempotency_keys (key, operation, fingerprint, intent_id, result)
  VALUES ('bench:' || :n || ':capture', 'capture', 'f', 'pi_b' || :n, '{}');
UPDATE payment_intents SET status = 'captured', amount_captured = 5000000000, fee = 50000000
  WHERE id = 'pi_b' || :n;
WITH e AS (INSERT INTO journal_entries (intent_id, kind, operation)
  VALUES ('pi_b' || :n, 'capture', 'pi_b' || :n || ':capture') RETURNING id)
  INSERT INTO postings (entry_id, account_id, amount, currency)
  SELECT id, a, v, 'INR' FROM e, (VALUES ('escrow', 5000000000::bigint),
    ('buyer_funds:bench', -5000000000::bigint), ('provider_clearing', 5000000000::bigint),
    ('seller_payable:bench', -4950000000::bigint), ('platform_fees', -50000000::bigint)) x(a, v);
UPDATE bench_listings SET status = 'sold', version = version + 1 WHERE id = :l;
INSERT INTO bench_steps (purchase, step, status) VALUES (:n, 'reserve', 'succeeded'),
  (:n, 'kyc', 'succeeded'), (:n, 'authorise', 'succeeded'), (:n, 'agreement', 'succeeded'),
  (:n, 'transfer_title', 'succeeded'), (:n, 'capture', 'succeeded'), (:n, 'mark_sold', 'succeeded');
UPDATE bench_purchases SET state = 'completed', step = NULL WHERE id = :n;
INSERT INTO restinu_outbox (id, type, schema_version, occurred_at, aggregate_type, aggregate_id,
  data) VALUES (gen_random_uuid(), 'purchase.completed', 1, now(), 'purchase', :n::text, '{}');
COMMIT;
SQL
# The accounts the postings name.
psql "$pg dbname=payments_db" -qAt -c "INSERT INTO ledger_accounts (id, kind) VALUES
  ('escrow', 'escrow'), ('provider_clearing', 'provider_clearing'), ('platform_fees',
  'platform_fees'), ('buyer_funds:bench', 'buyer_funds'), ('seller_payable:bench',
  'seller_payable') ON CONFLICT DO NOTHING" >/dev/null
ref=$(pgbench -n -c "$clients" -j 2 -T "$ref_secs" -f "$work/purchase.sql" "$pg dbname=payments_db" 2>&1 |
  sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)

echo
echo "| run | purchases | completed | purchases/s | p50 | p99 |"
echo "|---|---|---|---|---|---|"
echo "| saga, $purchases due at once (one instance) | $purchases | $done_n | $rate | ${p50} ms | ${p99} ms |"
echo "| saga, one at a time, 50 ms apart | $latency_purchases | $lat_done | – | ${lat_p50} ms | ${lat_p99} ms |"
echo "| reference: the same rows in one transaction each (pgbench, $clients clients) | – | – | $ref | – | – |"
ratio=$(python3 -c "print(f'{float($rate) / float($ref):.3f}')" 2>/dev/null || echo "?")
echo "bench purchase: the saga completes $rate purchases/s, ${ratio}× the one-transaction reference ($ref/s)"
