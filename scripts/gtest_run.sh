#!/usr/bin/env bash
# Runs a test binary for ctest (the CROSSCOMPILING_EMULATOR of every test target, see
# cmake/RestinuOptions.cmake) and passes its output on with gtest's "[  SKIPPED ]" marks
# renamed. gtest marks a suite's tests skipped when its SetUpTestSuite fails (a server that
# refuses a connection), and CMake's test discovery gives every test a pattern that would count
# them as skipped, that is, passed. Renamed, the binary's failing exit code decides. No test of
# ours is ever skipped on purpose.
set -o pipefail
"$@" 2>&1 | sed -u 's/\[  SKIPPED \]/[ NOT RUN  ]/g'
