#!/usr/bin/env bash
# Writes the screenshots in docs/screenshots/ from the current code: each report as kvplan writes
# it, drawn by headless Chromium (Debian's chromium). Run after a change to the reports.
#   scripts/screenshots.sh [KVPLAN]   (default build/kvplan)
set -euo pipefail
cd "$(dirname "$0")/.."
kvplan=${1:-build/kvplan}
out=docs/screenshots
mkdir -p "$out"
shoot() {  # shoot NAME HEIGHT KVPLAN-ARGS...
  local name=$1 height=$2
  shift 2
  local html profile
  html=$(mktemp --suffix=.html)
  profile=$(mktemp -d)
  "$kvplan" "$@" --format html >"$html" || [ $? -eq 1 ]
  chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
    --user-data-dir="$profile" --virtual-time-budget=15000 --window-size=1100,"$height" \
    --screenshot="$out/$name.png" "file://$html" >/dev/null 2>&1
  rm -rf "$html" "$profile"
  echo "$out/$name.png: kvplan $*"
}
shoot fit 1330 fit --model qwen2.5-7b --gpu l40s 32x500 1x16000
shoot max 1750 max --engine vllm --model llama-3.1-8b --gpu l4 --tp 1,2 --context 4096
shoot simulate 1500 simulate --model llama-2-13b --gpu a100-40gb --synthetic sharegpt --requests 1000
