#!/usr/bin/env bash
# Runs every benchmark against a release build; each prints its result and its ratio to the
# reference it names. Bounded in time (each load run stops by itself).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:-$here/../build/release}" && pwd)
bash "$here/http_bench.sh" "$build/app/restinu"
bash "$here/gateway_bench.sh" "$build/app/restinu"
bash "$here/parse_bench.sh" "$build"
bash "$here/events_bench.sh" "$build"
bash "$here/login_bench.sh" "$build/app/restinu"
bash "$here/search_bench.sh" "$build"
bash "$here/mixed_bench.sh" "$build/app/restinu"
bash "$here/purchase_bench.sh" "$build/app/restinu"
bash "$here/live_bench.sh" "$build/app/restinu"
bash "$here/images_bench.sh" "$build"
bash "$here/chain_bench.sh" "$build"
bash "$here/static_bench.sh" "$build/app/restinu"
bash "$here/lighthouse_bench.sh" "$build/app/restinu"
