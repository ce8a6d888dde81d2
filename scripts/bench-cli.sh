#!/usr/bin/env bash
# Wall time of whole kvplan invocations (process start and spec loading included).
# Usage: scripts/bench-cli.sh [RUNS]   — prints mean and median per command in milliseconds.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target kvplan >/dev/null
bench() {
  local label=$1
  shift
  local times=()
  for _ in $(seq 5); do "$@" >/dev/null || true; done  # warm the page cache
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null || true
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v label="$label" -v n="$runs" '
    { v[NR] = $1; sum += $1 }
    END { printf "%-48s runs %d  mean %.2f ms  median %.2f ms  max %.2f ms\n", label, n, sum / n / 1000,
          v[int((n + 1) / 2)] / 1000, v[n] / 1000 }'
}
bench "kvplan fit (defaults: qwen2.5-7b, l40s, 2 scen.)" build/kvplan fit
bench "kvplan fit llama-2-70b h100 4 scenarios" build/kvplan fit --model llama-2-70b --gpu h100-sxm 1x4096 8x2048 32x500 1x16000
bench "kvplan size llama-2-7b --tokens 4096 --format json" build/kvplan size --model llama-2-7b --tokens 4096 --format json
bench "kvplan models (parses every shipped spec)" build/kvplan models
