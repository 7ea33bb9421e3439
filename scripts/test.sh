#!/usr/bin/env bash
# `make test`: every test (unit, integration, end-to-end) against throwaway PostgreSQL and
# Redis on free loopback ports. Exits non-zero on any failure; the servers are always stopped.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$root/build/asan}" && pwd)

dir=$(mktemp -d /tmp/restinu-test.XXXXXX)
chmod 755 "$dir"
cleanup() {
  bash "$root/scripts/testenv.sh" stop "$dir" || true
  rm -rf "$dir"
}
trap cleanup EXIT

bash "$root/scripts/testenv.sh" start "$dir"
# shellcheck disable=SC1091
source "$dir/env.sh"
export RESTINU_BIN="$build/app/restinu"
export RESTINU_ROOT="$root"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

started=$(date +%s)
# The API document passes Redocly's recommended rules with no error and no warning (a warning
# alone does not fail redocly, so the totals are read).
lint=$("$root/tools/api-lint/node_modules/.bin/redocly" lint "$root/api/openapi.yaml" \
  --format=json 2>/dev/null || true)
if ! /usr/bin/python3 -c 'import json,sys; t=json.loads(sys.argv[1])["totals"]; sys.exit(t["errors"] + t["warnings"] > 0)' "$lint"; then
  "$root/tools/api-lint/node_modules/.bin/redocly" lint "$root/api/openapi.yaml" --format=stylish >&2 || true
  echo "make test: api/openapi.yaml fails the lint (Redocly, recommended rules)" >&2
  exit 1
fi
echo "make test: api/openapi.yaml passes the lint with no error and no warning"
# One test at a time: some tests restart the shared PostgreSQL or Redis on purpose.
ctest --test-dir "$build" --output-on-failure --timeout 600 --no-tests=error \
  ${CTEST_ARGS:-}
echo "make test: all tests passed in $(($(date +%s) - started)) s"
