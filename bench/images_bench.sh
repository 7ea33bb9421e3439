#!/usr/bin/env bash
# Property photos, both halves (docs/images.md), on this 2-core box:
# 1. Processing: bench/image_bench makes a 12-megapixel camera-like JPEG (4000 x 3000, Q 90,
#    EXIF) and runs images::process on it (a stripped original plus 320 and 1280 px wide WebP
#    and JPEG renditions, as an upload gets them) on 2 threads (the cores) and on 1, against
#    vipsthumbnail (libvips-tools) making the same four renditions of the same file as 2
#    parallel workers (and 1). Photos/s of each, the ratio (our overhead) and the peak RSS.
# 2. Serving: PostgreSQL, Redis, the user and property services and the gateway, all with the
#    shipped defaults (threads = cores, the `media` rate policy: 6,000 a minute per caller);
#    PHOTOS photos uploaded through the gateway as their listing's owner, as an agent would;
#    then wrk (CONNECTIONS connections) fetching their 1280 and 320 px WebP renditions through
#    GET /api/v1/images/{name}, as many callers behind a load balancer (the gateway trusts
#    127.0.0.1's X-Forwarded-For; each request comes from one of ADDRESSES addresses). The
#    reference: nginx (as many workers as the gateway has threads) serving the same files from
#    a plain folder with the same Cache-Control, ETag on, sendfile on. The two are measured in
#    alternating slices; requests/s, p50/p99, the ratio gateway/nginx, and the 429s apart.
#    Then an upper bound: the same gateway with the media limit off.
#   SLICE=5 ROUNDS=3 PHOTOS=24 WRK_SLICE=4s WRK_ROUNDS=3 CONNECTIONS=64 bash bench/images_bench.sh build/release
set -euo pipefail
build=$(cd "${1:?usage: images_bench.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$root/scripts/lib.sh"
bin="$build/app/restinu"
img="$build/bench/image_bench"
slice=${SLICE:-5}
rounds=${ROUNDS:-3}
photos=${PHOTOS:-24}
wrk_slice=${WRK_SLICE:-4s}
wrk_rounds=${WRK_ROUNDS:-3}
connections=${CONNECTIONS:-64}
wrk_threads=${WRK_THREADS:-2}
addresses=${ADDRESSES:-50000}
cores=$(nproc)
for tool in vipsthumbnail wrk nginx curl psql; do
  command -v "$tool" >/dev/null || { echo "bench images: $tool is not installed" >&2; exit 1; }
done
[[ -x $img ]] || { echo "bench images: $img is not built (cmake --build ... --target image_bench)" >&2; exit 1; }

work=$(mktemp -d /tmp/restinu-bench-images.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  bash "$root/scripts/testenv.sh" stop "$work/env" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# ---- 1. processing ---------------------------------------------------------------------------
echo "bench images: processing a 12 MP JPEG on $cores cores, ${rounds} alternating rounds of ${slice}s per side"
"$img" sample "$work/photo.jpg" 1
"$img" run "$work/photo.jpg" "$work/process" "$slice" "$rounds" | sed 's/^/  /'
rm -rf "$work/process"

# ---- 2. serving ------------------------------------------------------------------------------
bash "$root/scripts/testenv.sh" start "$work/env" >/dev/null
# shellcheck disable=SC1091
source "$work/env/env.sh"
export RESTINU_PG__URL="host=127.0.0.1 port=$RESTINU_TEST_PG_PORT user=postgres"
export RESTINU_REDIS__PORT=$RESTINU_TEST_REDIS_PORT
export RESTINU_LOG__ACCESS=false RESTINU_LOG__LEVEL=warn
"$bin" migrate user --create-database >/dev/null 2>&1
"$bin" migrate property --create-database >/dev/null 2>&1
# A few accounts and listings; their owners sign in with the seed's password.
"$bin" seed --listings 20 --users 20 >/dev/null 2>&1

user_port=$(free_port)
prop_port=$(free_port)
gw_port=$(free_port)
gw_admin=$(free_port)
RESTINU_HTTP__PORT=$user_port "$bin" user >"$work/user.log" 2>&1 &
pids+=($!)
mkdir -p "$work/store"
RESTINU_HTTP__PORT=$prop_port RESTINU_PROPERTY__IMAGES__DIR="$work/store" \
  "$bin" property >"$work/property.log" 2>&1 &
pids+=($!)
wait_http "$user_port" /readyz "$work"
wait_http "$prop_port" /readyz "$work"

# The shipped gateway configuration (built-in routes and rate policies), this run's
# upstreams, and the load balancer in front of it trusted to say who the client is.
gateway_yaml() {  # extra YAML lines under gateway:
  cat <<YAML
gateway:
  upstreams:
    user: [127.0.0.1:$user_port]
    property: [127.0.0.1:$prop_port]
    notification: [127.0.0.1:$(free_port)]
    payment: [127.0.0.1:$(free_port)]
    blockchain: [127.0.0.1:$(free_port)]
  trusted_proxies: [127.0.0.1]
$1
YAML
}
gateway_yaml "" >"$work/gateway.yaml"
RESTINU_HTTP__PORT=$gw_port RESTINU_HTTP__ADMIN_PORT=$gw_admin \
  "$bin" gateway --config "$work/gateway.yaml" >"$work/gateway.log" 2>&1 &
pids+=($!)
wait_http "$gw_port" /healthz "$work"

# The photos: PHOTOS different camera-like JPEGs (3000 x 2250: renditions as a 12 MP photo's,
# made faster), uploaded through the gateway by the owner of one listing.
read -r listing owner <<<"$(psql "$RESTINU_PG__URL dbname=properties_db" -tAF ' ' \
  -c "SELECT id, owner_id FROM properties ORDER BY id LIMIT 1")"
email=$(psql "$RESTINU_PG__URL dbname=users_db" -tAc "SELECT email FROM users WHERE id = '$owner'")
token=$(curl -fsS -H 'Content-Type: application/json' -H 'X-Forwarded-For: 10.255.0.1' \
  -d "{\"email\":\"$email\",\"password\":\"seed passphrase 2026\"}" \
  "http://127.0.0.1:$gw_port/api/v1/auth/login" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[[ -n $token ]] || { echo "bench images: the listing's owner could not sign in" >&2; exit 1; }
mkdir -p "$work/photos"
seq 2 $((photos + 1)) | xargs -P "$cores" -I{} "$img" sample "$work/photos/{}.jpg" {} 3000 2250
started=$(date +%s.%N)
for f in "$work"/photos/*.jpg; do
  curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: image/jpeg' \
    --data-binary "@$f" "http://127.0.0.1:$gw_port/api/v1/properties/$listing/images" |
    grep -o '/api/v1/images/[0-9a-f]\{64\}-\(1280\|320\)\.webp' >>"$work/urls" ||
    { echo "bench images: the upload of $f failed" >&2; tail -n 5 "$work"/*.log >&2; exit 1; }
done
uploaded=$(date +%s.%N)
got=$(wc -l <"$work/urls")
[[ $got -eq $((photos * 2)) ]] || { echo "bench images: $got rendition URLs, wanted $((photos * 2))" >&2; exit 1; }

# The reference's folder: the same files, by name.
mkdir -p "$work/plain"
while read -r url; do
  name=${url##*/}
  cp "$work/store/${name:0:2}/$name" "$work/plain/$name"
done <"$work/urls"
chmod -R a+rX "$work/plain"
sizes=$(find "$work/plain" -name '*-1280.webp' -printf '%s\n' | sort -n |
  awk '{v[NR] = $1} END {printf "%.0f-%.0f kB", v[1] / 1000, v[NR] / 1000}')
sizes_small=$(find "$work/plain" -name '*-320.webp' -printf '%s\n' | sort -n |
  awk '{v[NR] = $1} END {printf "%.0f-%.0f kB", v[1] / 1000, v[NR] / 1000}')

ng_port=$(free_port)
nginx_run "$work" nginx "$cores" "  include /etc/nginx/mime.types;
  sendfile on;
  tcp_nopush on;
  server {
    listen 127.0.0.1:$ng_port;
    location /api/v1/images/ {
      alias $work/plain/;
      etag on;
      add_header Cache-Control \"public, max-age=31536000, immutable\";
    }
  }"
pids+=("$NGINX_PID")
first=$(head -n 1 "$work/urls")
wait_http "$ng_port" "$first" "$work"

# Both answer the same bytes with the same caching headers.
for port in "$gw_port" "$ng_port"; do
  head=$(curl -fsS -D - -o "$work/check-$port" -H 'X-Forwarded-For: 10.255.0.2' "http://127.0.0.1:$port$first")
  if ! grep -qi '^cache-control: public, max-age=31536000, immutable' <<<"$head" ||
    ! grep -qi '^etag:' <<<"$head"; then
    echo "bench images: port $port answers without the caching headers:" >&2
    echo "$head" >&2
    exit 1
  fi
done
cmp -s "$work/check-$gw_port" "$work/check-$ng_port" ||
  { echo "bench images: the gateway and nginx answer different bytes" >&2; exit 1; }

# Callers: each request is one of ADDRESSES clients (X-Forwarded-For, as the load balancer
# sets it) fetching one of the renditions.
cat >"$work/images.lua" <<'LUA'
local paths, addresses = {}, 50000
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  addresses = tonumber(args[2])
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end
function request()
  local n = math.random(addresses)
  local ip = "10." .. math.floor(n / 65536) % 256 .. "." .. math.floor(n / 256) % 256 .. "." .. n % 256
  return wrk.format("GET", paths[math.random(#paths)], {["X-Forwarded-For"] = ip})
end
LUA

run_slice() {  # duration port -> "requests seconds p50_ms p99_ms non2xx"
  local out
  out=$(wrk -t"$wrk_threads" -c"$connections" -d"$1" --latency -s "$work/images.lua" \
    "http://127.0.0.1:$2" -- "$work/urls" "$addresses")
  awk 'function ms(p) {
         if (p ~ /us$/) {sub(/us$/, "", p); return p / 1000}
         if (p ~ /ms$/) {sub(/ms$/, "", p); return p}
         if (p ~ /s$/) {sub(/s$/, "", p); return p * 1000}
         return p }
       /requests in/ {n = $1; s = $4; sub(/s,$/, "", s)}
       $1 == "50%" {p50 = ms($2)} $1 == "99%" {p99 = ms($2)}
       /Non-2xx or 3xx responses/ {bad = $NF}
       END {print n, s, p50, p99, bad + 0}' <<<"$out"
}
limited() {
  curl -fsS "http://127.0.0.1:$gw_admin/metrics" |
    awk 'index($0, "restinu_gateway_rate_limited_total{") == 1 {s += $NF} END {print s + 0}'
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# compare LABEL_GW LABEL_NG: alternating slices of the gateway and nginx; prints the rows.
compare() {
  local gw_n=0 gw_s=0 ng_n=0 ng_s=0 gw_bad=0 ng_bad=0 gw_p50s=() gw_p99s=() ng_p50s=() ng_p99s=()
  local l0 l1 r n s p50 p99 bad
  wrk -t1 -c4 -d2s -s "$work/images.lua" "http://127.0.0.1:$gw_port" -- "$work/urls" "$addresses" >/dev/null
  wrk -t1 -c4 -d2s -s "$work/images.lua" "http://127.0.0.1:$ng_port" -- "$work/urls" "$addresses" >/dev/null
  l0=$(limited)
  for r in $(seq 1 "$wrk_rounds"); do
    read -r n s p50 p99 bad <<<"$(run_slice "$wrk_slice" "$gw_port")"
    gw_n=$((gw_n + n)) gw_bad=$((gw_bad + bad)); gw_s=$(awk -v a="$gw_s" -v b="$s" 'BEGIN {print a + b}')
    gw_p50s+=("$p50") gw_p99s+=("$p99")
    local gw_rate_r; gw_rate_r=$(awk -v n="$n" -v s="$s" 'BEGIN {printf "%.0f", n / s}')
    read -r n s p50 p99 bad <<<"$(run_slice "$wrk_slice" "$ng_port")"
    ng_n=$((ng_n + n)) ng_bad=$((ng_bad + bad)); ng_s=$(awk -v a="$ng_s" -v b="$s" 'BEGIN {print a + b}')
    ng_p50s+=("$p50") ng_p99s+=("$p99")
    printf '  round %d: gateway %6s req/s, nginx %6.0f req/s\n' "$r" "$gw_rate_r" \
      "$(awk -v n="$n" -v s="$s" 'BEGIN {print n / s}')"
  done
  l1=$(limited)
  local gw_rate ng_rate
  gw_rate=$(awk -v n="$gw_n" -v s="$gw_s" 'BEGIN {printf "%.0f", n / s}')
  ng_rate=$(awk -v n="$ng_n" -v s="$ng_s" 'BEGIN {printf "%.0f", n / s}')
  # wrk counts the answers that are not 2xx/3xx; the gateway's metrics say how many were 429.
  printf '  %-52s %7s req/s   p50 %6.2f ms   p99 %6.2f ms   non-2xx %d (429s by the gateway: %d)\n' \
    "$1" "$gw_rate" "$(median "${gw_p50s[@]}")" "$(median "${gw_p99s[@]}")" "$gw_bad" $((l1 - l0))
  printf '  %-52s %7s req/s   p50 %6.2f ms   p99 %6.2f ms   non-2xx %d\n' "$2" \
    "$ng_rate" "$(median "${ng_p50s[@]}")" "$(median "${ng_p99s[@]}")" "$ng_bad"
  printf '  ratio gateway/nginx: %sx (p50/p99: median of the rounds)\n' \
    "$(awk -v a="$gw_rate" -v b="$ng_rate" 'BEGIN {printf "%.2f", a / b}')"
}

echo "bench images: serving renditions, wrk -t$wrk_threads -c$connections, $wrk_rounds alternating rounds of $wrk_slice per side"
awk -v p="$photos" -v s="$started" -v e="$uploaded" -v a="$sizes" -v b="$sizes_small" -v n="$addresses" 'BEGIN {
  printf "  %d photos uploaded through the gateway in %.1f s; %d URLs: 1280 px WebP %s, 320 px WebP %s\n", p, e - s, 2 * p, a, b
  printf "  realistic: %s callers behind a load balancer (X-Forwarded-For), shipped limits (media: 6,000/min per caller)\n", n }'
compare "restinu gateway -> property ($cores threads each)" "nginx, files from a folder ($cores workers)"

# Upper bound: the same gateway with the media rate policy off (no Redis round trip).
kill -TERM "${pids[2]}" 2>/dev/null || true
wait "${pids[2]}" 2>/dev/null || true
gateway_yaml "  rate_policies: {media: {limit: 0}}" >"$work/gateway.yaml"
RESTINU_HTTP__PORT=$gw_port RESTINU_HTTP__ADMIN_PORT=$gw_admin \
  "$bin" gateway --config "$work/gateway.yaml" >>"$work/gateway.log" 2>&1 &
pids[2]=$!
wait_http "$gw_port" /healthz "$work"
echo "bench images: upper bound, the media rate limit off (the same callers and files)"
compare "restinu gateway -> property, no rate limit" "nginx, files from a folder ($cores workers)"
