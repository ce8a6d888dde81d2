#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer comes with
# ASan on Linux), in its own build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
KVPLAN_WITH_TESTS=1 scripts/install-deps.sh
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKVPLAN_BUILD_TESTS=ON -DKVPLAN_SANITIZE=address,undefined >/dev/null
cmake --build build-asan -j"$(nproc)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$(nproc)"
