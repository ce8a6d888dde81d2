#!/usr/bin/env bash
# README command 1: install what is missing, build, and run kvplan's main job on its defaults
# (a fit comparison of 32x500 against 1x16000). Extra arguments go to kvplan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DKVPLAN_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target kvplan >/dev/null
exec build/kvplan "$@"
