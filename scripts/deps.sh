#!/usr/bin/env bash
# Installs what the build, `make run` and `make test` need on Debian 12, and nothing else.
# Idempotent: packages already present are skipped, so a second run costs about a second.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ccache git curl ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libpq-dev libhiredis-dev libsodium-dev libssl-dev
  libspdlog-dev libfmt-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql postgresql-15-postgis-3 redis-server
  wrk nginx-light procps iproute2
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  SUDO=(sudo)
fi

echo "deps: installing ${#missing[@]} missing package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
# The server packages start system-wide daemons on install; we never use those (the stack
# runs project-local instances), so keep policy-rc.d from starting them.
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
