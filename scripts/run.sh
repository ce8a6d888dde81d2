#!/usr/bin/env bash
# README command 1: install what is missing, build, and run kvplan's main job on its defaults
# (a fit comparison of 32x500 against 1x16000). Extra arguments go to kvplan. The steps are
# reported on stderr; kvplan's own output is all that goes to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
kvplan_step "[1/3] checking the Debian packages kvplan builds with"
scripts/install-deps.sh
kvplan_step "[2/3] configuring (cmake, Release, build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DKVPLAN_BUILD_TESTS=OFF >/dev/null
kvplan_step "[3/3] building kvplan"
kvplan_build build --target kvplan
kvplan_step "running build/kvplan $*"
exec build/kvplan "$@"
