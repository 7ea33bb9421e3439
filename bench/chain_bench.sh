#!/usr/bin/env bash
# The blockchain service against a local Ethereum node (issue 21), on throwaway PostgreSQL
# (the shipped durability: fsync and synchronous_commit on, as scripts/stack.sh runs it) and
# anvil (automine, chain id 31337), both on free loopback ports; bench/chain_bench does the
# work (see its header for what each row includes):
# 1. Transfers: TRANSFERS PaymentToken transfers from one signer through TxManager, enqueued in
#    batches of BATCH by CALLERS concurrent callers, sent, found and confirmed (depth 1, with
#    their chain.tx.confirmed events); transfers/s from the first enqueue to the last
#    confirmation, the same with synchronous_commit=off, and the reference: as many pre-signed
#    transfers sent with eth_sendRawTransaction alone (and each sent with its receipt awaited,
#    no database). The ratio is what the durability costs. Each run on a fresh chain.
# 2. The indexer (on a new anvil): a chain of BLOCKS blocks with one share transfer per EVERY
#    blocks (PER_BLOCK of them in one block of PER_BLOCK * EVERY, a deed mint in one of 25
#    times that), indexed from nothing; blocks/s and logs/s, against reading the same headers
#    and logs without a database.
# Stops by itself: the transfers give up after TX_LIMIT seconds (100), the indexer after
# INDEX_LIMIT (170): under 5 minutes in all.
#   TRANSFERS=2000 BATCH=100 CALLERS=4 BLOCKS=10000 EVERY=5 PER_BLOCK=4 \
#     bash bench/chain_bench.sh build/release
set -euo pipefail
build=$(cd "${1:?usage: chain_bench.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$root/scripts/lib.sh"
bench="$build/bench/chain_bench"
anvil="$root/tools/chain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
transfers=${TRANSFERS:-2000}
batch=${BATCH:-100}
callers=${CALLERS:-4}
blocks=${BLOCKS:-10000}
every=${EVERY:-5}
per_block=${PER_BLOCK:-4}
tx_limit=${TX_LIMIT:-100}
index_limit=${INDEX_LIMIT:-170}
[[ -x $bench ]] || { echo "bench chain: $bench is not built (cmake --build ... --target chain_bench)" >&2; exit 1; }
[[ -x $anvil ]] || { echo "bench chain: anvil is missing: run scripts/deps.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/restinu-bench-chain.XXXXXX)
chmod 755 "$work"
anvil_pid=""
pg_started=""
cleanup() {
  if [[ -n $anvil_pid ]]; then
    kill -TERM "$anvil_pid" 2>/dev/null || true
    wait "$anvil_pid" 2>/dev/null || true
  fi
  [[ -n $pg_started ]] && pg_stop "$work/pg" immediate
  rm -rf "$work"
}
trap cleanup EXIT

pg_port=$(free_port)
anvil_port=$(free_port)
rm -f "${TMPDIR:-/tmp}/restinu-ports.$$"
pg_init "$work/pg"
pg_start "$work/pg" "$pg_port"
pg_started=1
url="http://127.0.0.1:$anvil_port"
# start_anvil: a fresh node on the port (anvil gets slower as it runs; each part gets its own).
start_anvil() {
  if [[ -n $anvil_pid ]]; then
    kill -TERM "$anvil_pid" 2>/dev/null || true
    wait "$anvil_pid" 2>/dev/null || true
    anvil_pid=""
  fi
  # --prune-history 20000: every state in memory (the bench's chains are shorter), none on
  # disk; by default anvil writes the states past its 500th under ~/.foundry/anvil/tmp (GBs
  # over 10,000 blocks) and leaves them there. HOME in the work folder all the same.
  mkdir -p "$work/home"
  local args
  read -r -a args <<<"${ANVIL_ARGS:---prune-history 20000}"
  HOME="$work/home" "$anvil" --host 127.0.0.1 --port "$anvil_port" --chain-id 31337 \
    "${args[@]}" </dev/null >>"$work/anvil.log" 2>&1 &
  anvil_pid=$!
  for _ in $(seq 1 200); do
    curl -sf -m 1 -H 'Content-Type: application/json' \
      -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$url" 2>/dev/null |
      grep -q '"0x7a69"' && return 0
    kill -0 "$anvil_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "bench chain: anvil did not start on port $anvil_port" >&2
  tail -n 20 "$work/anvil.log" >&2
  return 1
}
start_anvil
pg="host=127.0.0.1 port=$pg_port user=postgres"

echo "bench chain: transfers through TxManager against anvil $("$anvil" --version | head -n 1 | awk '{print $3}') (automine), PostgreSQL with fsync on"
timeout -k 5 "$tx_limit" "$bench" transfers "$pg" "$url" "$root" "$transfers" "$batch" "$callers" "$((tx_limit - 5))" |
  grep -v '_per_second ' | sed 's/^/  /'
echo "bench chain: the indexer catching up over $blocks blocks"
start_anvil
timeout -k 5 "$index_limit" "$bench" indexer "$pg" "$url" "$root" "$blocks" "$every" "$per_block" "$((index_limit - 5))" |
  grep -v '_per_second ' | sed 's/^/  /'
