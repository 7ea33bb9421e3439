#!/usr/bin/env bash
# clang-tidy over the given files (default: every non-test source) with the build's flags.
# clang cannot read g++'s precompiled headers, so the PCH flags are dropped from a copy of
# compile_commands.json first.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-$root/build/asan}
out=$root/build/tidy
mkdir -p "$out"
sed -E 's# -Winvalid-pch##g; s# -include [^ ]*cmake_pch\.hxx##g; s#-fno-sanitize-recover=undefined##g' \
  "$build/compile_commands.json" >"$out/compile_commands.json"
cd "$root"
if (($# == 0)); then
  mapfile -t files < <(git ls-files 'runtime/src/*.cpp' 'services/*.cpp' 'app/*.cpp' | grep -v _test.cpp)
else
  files=("$@")
fi
clang-tidy -p "$out" --quiet "${files[@]}"
