#!/usr/bin/env bash
# Lighthouse scores of the web app's search page, served by the gateway of the whole stack (as
# `make run` starts it) with 500,000 demo listings: performance and accessibility, each with its
# ratio to the target, and the key metrics (FCP, LCP, TBT, CLS, Speed Index, bytes transferred).
# Rows: the search page with no filter (/) and a filtered search (Pune, ₹50 lakh to ₹5 crore),
# each on mobile (Lighthouse's default and the standard score: a mid-range phone on slow 4G,
# simulated throttling) and then desktop (--preset=desktop). Then what to act on: the failing
# performance audits, largest estimated savings first, and the failing accessibility audits with
# their elements. Targets: performance >= 90, accessibility >= 95 (a bench reports, it does not
# fail on a score: it exits non-zero only when the tooling does).
#   bash bench/lighthouse_bench.sh build/release/app/restinu
#   RESTINU_LIGHTHOUSE_DIR=/tmp/lh-stack bash bench/lighthouse_bench.sh build/release/app/restinu
# Environment:
#   LISTINGS                demo listings seeded into a fresh stack (default 500000)
#   RUNS                    Lighthouse runs per row, the median kept (default 3)
#   RESTINU_LIGHTHOUSE_DIR  the stack's folder, kept between runs so the listings are seeded once
#                           (default: a throwaway folder, deleted at the end)
#   RESTINU_LIGHTHOUSE_OUT  where the reports go, HTML and JSON (default /tmp/restinu-lighthouse)
#   RESTINU_CHROMIUM        the browser (default /usr/bin/chromium)
#   RESTINU_STACK_TIMEOUT   seconds to wait for the stack to come up (default 1200: seeding
#                           500,000 listings takes minutes)
#   SKIP_WEB_BUILD=1        serve web/dist as it is instead of building it first
#   TOP                     failing performance audits printed per row (default 8)
set -euo pipefail
bin=$(realpath "${1:?usage: lighthouse_bench.sh path/to/restinu}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
lh=$here/lighthouse
listings=${LISTINGS:-500000}
runs=${RUNS:-3}
out=${RESTINU_LIGHTHOUSE_OUT:-/tmp/restinu-lighthouse}
chromium=${RESTINU_CHROMIUM:-/usr/bin/chromium}
timeout=${RESTINU_STACK_TIMEOUT:-1200}
[[ -x $bin ]] || { echo "bench lighthouse: $bin is not an executable" >&2; exit 2; }
[[ -x $chromium ]] || { echo "bench lighthouse: no browser at $chromium (set RESTINU_CHROMIUM)" >&2; exit 2; }

# Lighthouse, pinned by bench/lighthouse/package-lock.json, installed when the lock changed.
if [[ ! -f $lh/node_modules/.installed || $lh/package-lock.json -nt $lh/node_modules/.installed ]]; then
  echo "bench lighthouse: installing Lighthouse (npm ci in bench/lighthouse)"
  (cd "$lh" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$lh/node_modules/.installed"
fi
if [[ ${SKIP_WEB_BUILD:-0} != 1 ]]; then
  echo "bench lighthouse: building the web app"
  if [[ ! -d $root/web/node_modules ]]; then
    (cd "$root/web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  if ! build_log=$(cd "$root/web" && npm run --silent build 2>&1); then
    printf '%s\n' "$build_log" >&2
    echo "bench lighthouse: npm run build failed" >&2
    exit 1
  fi
fi
[[ -f $root/web/dist/index.html ]] || { echo "bench lighthouse: no web/dist (unset SKIP_WEB_BUILD)" >&2; exit 2; }

keep=${RESTINU_LIGHTHOUSE_DIR:-}
# shellcheck source=../scripts/stack_bg.sh
source "$root/scripts/stack_bg.sh"
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # Kept when RESTINU_LIGHTHOUSE_DIR names it: the next run skips seeding.
  stack_bg_finish "bench lighthouse" "$status" "$([[ -n $keep ]] && echo 1 || echo 0)"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The stack's folder. PostgreSQL runs as the postgres user and keeps its data in it, so that
# user must reach it (stack.sh would otherwise put the data in a /var/tmp folder it shares
# with `make run`).
if [[ -n $keep ]]; then
  mkdir -p "$keep"
  run=$(cd "$keep" && pwd)
else
  run=$(mktemp -d "${TMPDIR:-/tmp}/restinu-lighthouse-stack.XXXX")
fi
chmod 755 "$run"
STACK_BG_RUN=$run  # cleaned up from here on, whatever happens next
if [[ $(id -u) -eq 0 ]] && ! runuser -u postgres -- test -x "$run" 2>/dev/null; then
  echo "bench lighthouse: the postgres user cannot reach $run; choose a folder under /tmp" >&2
  exit 2
fi
log=$run/stack.log

port=$(stack_bg_port) || { echo "bench lighthouse: no free port" >&2; exit 2; }
# Outside this script's process tree, with a watchdog (scripts/stack_bg.sh).
echo "bench lighthouse: starting the stack on 127.0.0.1:$port ($listings listings; folder $run; log $log)"
started=$SECONDS
stack_bg_start "$bin" "$run" "$port" RESTINU_DEMO_LISTINGS="$listings"
stack_bg_wait "$timeout" "bench lighthouse" || exit 1
pg_port=$(sed -n 's/^stack: PostgreSQL on 127.0.0.1:\([0-9]*\).*/\1/p' "$log" | head -1)
count=$(psql "host=127.0.0.1 port=$pg_port user=postgres dbname=properties_db" -tAc \
  "SELECT count(*) FROM properties" 2>/dev/null || echo "?")
seeded=$(grep -a '^seed: .*listings' "$log" | tail -1 || true)
echo "bench lighthouse: the stack is up after $((SECONDS - started)) s, $count listings${seeded:+ (this run seeded them: $seeded)}"
if [[ $count =~ ^[0-9]+$ ]] && ((count < listings * 9 / 10)); then
  echo "bench lighthouse: warning: fewer listings than LISTINGS=$listings; the folder $run was seeded" \
    "with another number (delete it to seed again)" >&2
fi

# Rows: label, URL path. The filter uses the API's names and units (prices in paise).
pages=(
  "search /"
  "search-pune /?city=Pune&min_price=500000000&max_price=5000000000"
)
mkdir -p "$out"
base="http://127.0.0.1:$port"
# Check each page, and make the search it makes once (the caches are cold after a start): that
# first answer's time is printed, since a search nobody made for a while costs that much (the
# facet counts come from PostgreSQL); Lighthouse then measures the page as most visitors of a
# popular search get it, from the cache.
for row in "${pages[@]}"; do
  read -r _ path <<<"$row"
  curl -fsS -o /dev/null "$base$path"
  query=${path#/}; query=${query#\?}
  api="/api/v1/properties?${query:+$query&}limit=24&facets=type,listing_type,bedrooms,city"
  cold=$(curl -sS -m 60 -o /dev/null -w '%{http_code} in %{time_total} s' "$base$api" || echo "failed")
  warm=$(curl -sS -m 60 -o /dev/null -w '%{http_code} in %{time_total} s' "$base$api" || echo "failed")
  echo "bench lighthouse: the page's search $api: first (cold) $cold, then (cached) $warm"
done

summary_args=()
echo "bench lighthouse: Lighthouse $(cd "$lh" && npx --no-install lighthouse --version), $runs run(s) per row," \
  "reports in $out"
for row in "${pages[@]}"; do
  read -r label path <<<"$row"
  for form in mobile desktop; do
    prefix=$out/$label-$form
    rm -f "$prefix".report.* "$prefix"-run*.report.*
    preset=()
    [[ $form == desktop ]] && preset=(--preset=desktop)
    for n in $(seq 1 "$runs"); do
      printf '  %s %s run %s: ' "$label" "$form" "$n"
      t0=$SECONDS
      if ! (cd "$lh" && CHROME_PATH=$chromium npx --no-install lighthouse "$base$path" "${preset[@]}" \
        --chrome-flags="--headless=new --no-sandbox" --only-categories=performance,accessibility \
        --output=json --output=html --output-path="$prefix-run$n" --quiet) >"$prefix-run$n.log" 2>&1; then
        echo "failed"
        tail -n 20 "$prefix-run$n.log" >&2
        exit 1
      fi
      echo "$((SECONDS - t0)) s"
    done
    summary_args+=("$path" "$form" "$prefix")
  done
done
echo
echo "bench lighthouse: $base (stack with $count listings)"
(cd "$lh" && TOP=${TOP:-8} node summary.mjs "${summary_args[@]}")
echo
echo "bench lighthouse: reports (HTML and JSON, the median run as <row>.report.*): $out"
