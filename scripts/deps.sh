#!/usr/bin/env bash
# Installs what the build, `make run` and `make test` need on Debian 12, and nothing else.
# Idempotent: packages already present are skipped, so a second run costs about a second.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ccache git curl ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libpq-dev libhiredis-dev libsodium-dev libssl-dev libgoogle-perftools-dev
  libspdlog-dev libfmt-dev libyaml-cpp-dev libjwt-dev
  python3 python3-jwt python3-cryptography
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql postgresql-15-postgis-3 redis-server
  wrk nginx-light procps iproute2
  libcurl4-openssl-dev  # SMTP and third-party HTTPS (rt::Curl)
  python3-aiosmtpd  # the SMTP server of make run and the tests
  libhpdf-dev poppler-utils  # purchase agreements (PDF) and their text in the tests
  prometheus  # promtool checks the /metrics exposition in the tests
  libvips-dev libvips-tools  # property images: decode, strip, resize (and vipsthumbnail for the bench)
  libsecp256k1-dev libcrypto++-dev  # Ethereum transactions: signatures and Keccak-256
  chromium  # the web app's browser tests (Playwright drives it; its own download cannot work)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js and npm for the API linter and the test S3 server, from Debian unless the machine
# has them.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

# Folders with npm packages pinned by their package-lock.json: the API linter
# (tools/api-lint), the S3-compatible server of the tests (tools/s3rver), the Solidity
# toolchain with the anvil node (tools/chain) and the web app (web: React, Vite, MapLibre).
NPM_FOLDERS=(tools/api-lint tools/s3rver tools/chain web)

# Installs each folder's packages with npm ci, only when its lock file changed since the last
# install.
npm_packages() {
  local root name dir
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  for name in "${NPM_FOLDERS[@]}"; do
    dir=$root/$name
    if [[ ! -f $dir/node_modules/.installed ||
      $dir/package-lock.json -nt $dir/node_modules/.installed ]]; then
      echo "deps: installing the npm packages of $name"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
      touch "$dir/node_modules/.installed"
    fi
  done
}

if ((${#missing[@]} == 0)); then
  npm_packages
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  SUDO=(sudo)
fi

echo "deps: installing ${#missing[@]} missing package(s): ${missing[*]}"
# The server packages would start system-wide PostgreSQL, Redis and nginx on install; the
# stack runs project-local instances only, so a temporary policy-rc.d (exit 101) stops
# invoke-rc.d from starting them. One that already exists is left alone.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 755 "$policy"
  own_policy=1
fi
remove_policy() { [[ -n $own_policy ]] && "${SUDO[@]}" rm -f "$policy"; return 0; }
trap remove_policy EXIT
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
npm_packages
