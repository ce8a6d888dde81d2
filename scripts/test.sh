#!/usr/bin/env bash
# README command 2: install what is missing, build, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
kvplan_step "[1/4] checking the Debian packages kvplan and its tests build with"
KVPLAN_WITH_TESTS=1 scripts/install-deps.sh
kvplan_step "[2/4] configuring (cmake, Release, build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DKVPLAN_BUILD_TESTS=ON >/dev/null
kvplan_step "[3/4] building kvplan and the tests"
kvplan_build build
kvplan_step "[4/4] running the tests (ctest)"
ctest --test-dir build --output-on-failure -j"$(nproc)"
