#!/usr/bin/env bash
# One HTTP/1.1 message parsed by the one-pass parser for whole plain messages and by Beast's
# parser (the reference); prints ns per message and the speed-up.
#   bash bench/parse_bench.sh build/release [ITERATIONS]
set -euo pipefail
build=$(cd "${1:?usage: parse_bench.sh BUILD_DIR [ITERATIONS]}" && pwd)
"$build/bench/parse_bench" "${2:-100000}"
