#!/usr/bin/env bash
# The GPU validation matrix in one command, for a session that has the GPU machine:
#   scripts/gpu-validate.sh [OUTDIR]        (OUTDIR defaults to $OUT, else ./validation-out)
# Runs dist/kvplan (built here by scripts/build-portable.sh and carried to the GPU machine; set
# KVPLAN_BIN to use another binary): device and driver (nvidia-smi), the probe over several models ×
# batch-by-context scenarios × contiguous and paged (block sizes 16, 32, 256), the fused layout,
# the bandwidth comparison, the fragmentation experiment, and the PyTorch StaticCache cross-check
# when python3 has torch. Writes Markdown and JSON per step, summary.md, and status.txt with every
# command's exit code. Measures only: nothing here invents or edits a number.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-validation-out}}
bin=${KVPLAN_BIN:-dist/kvplan}
mkdir -p "$out"
status="$out/status.txt"
: >"$status"
failures=0

# run NAME COMMAND... : output to $out/NAME.(md|json|txt) as the command's --format says; exit code logged.
run() {
  local name=$1 ext=txt
  shift
  case " $* " in *" --format json "*) ext=json ;; *" --format markdown "*) ext=md ;; esac
  local t0=$SECONDS
  "$@" >"$out/$name.$ext" 2>"$out/$name.stderr"
  local rc=$?
  echo "$name rc=$rc $((SECONDS - t0))s: $*" >>"$status"
  [ -s "$out/$name.stderr" ] || rm -f "$out/$name.stderr"
  if [ $rc -ne 0 ]; then failures=$((failures + 1)); fi
  return 0
}

# 0. The machine and the binary.
{
  echo "date (UTC): $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -n) $(uname -r)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,memory.free --format=csv 2>&1
  echo
  nvidia-smi 2>&1
  echo
  echo "binary: $bin"
  ldd "$bin" 2>&1
  "$bin" --version 2>&1
} >"$out/device.txt"
if [ ! -x "$bin" ]; then
  echo "gpu-validate: $bin missing: run scripts/build-portable.sh on the build machine and carry dist/" >&2
  exit 2
fi
# Preflight: the portable binary needs the build machine's glibc (2.36 for a Debian 12 build) and a
# driver for the CUDA runtime it carries (CUDA 13: driver >= 580). Say plainly which one is missing.
if ! "$bin" --version >/dev/null 2>"$out/preflight.stderr"; then
  echo "gpu-validate: $bin does not start here (glibc $(ldd --version 2>/dev/null | head -1 | awk '{print $NF}')):" >&2
  cat "$out/preflight.stderr" >&2
  exit 2
fi
rm -f "$out/preflight.stderr"

# 1. Reachability and the device's own numbers (granule, context overhead).
run smoke "$bin" probe --backend cuda --model llama-2-7b --max-model-len 4096 --block-size 16 1x100
cuda_ok=1
if ! grep -q "^smoke rc=0 " "$status"; then
  cuda_ok=0
  echo "gpu-validate: the CUDA probe does not run here: $(cat "$out/smoke.stderr" 2>/dev/null)" | tee -a "$status" >&2
  if grep -q "cudaErrorInsufficientDriver" "$out/smoke.stderr" 2>/dev/null; then
    echo "gpu-validate: driver $(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null) is older" \
         "than the CUDA runtime in $bin needs (CUDA 13: >= 580)" | tee -a "$status" >&2
  fi
  echo "gpu-validate: skipping the CUDA steps; the PyTorch check still runs" | tee -a "$status" >&2
fi

if [ "$cuda_ok" = 1 ]; then
# 2. The matrix: models × scenarios × policies (contiguous to max-model-len; paged B = 16, 32, 256).
models=(llama-2-7b llama-3-8b qwen2.5-7b mistral-7b-v0.1)
scenarios=(1x4096 8x1000 32x500 16x2048)
for m in "${models[@]}"; do
  for fmt in markdown json; do
    run "matrix-$m" "$bin" probe --backend cuda --model "$m" --max-model-len 4096 --policy contiguous,paged \
      --block-size 16,32,256 --format "$fmt" "${scenarios[@]}"
  done
done

# 3. Variants: one buffer per sequence (fused) and exact reservation; an fp8 cache.
for fmt in markdown json; do
  run fused-llama-3-8b "$bin" probe --backend cuda --model llama-3-8b --max-model-len 4096 --policy contiguous \
    --layout fused --format "$fmt" 1x4096 8x1000 32x500
  run exact-qwen2.5-7b "$bin" probe --backend cuda --model qwen2.5-7b --reserve exact --policy contiguous \
    --format "$fmt" 1x4096 8x1000 32x500 3x77
  run fp8-llama-3-8b "$bin" probe --backend cuda --model llama-3-8b --kv-cache-dtype fp8 --max-model-len 4096 \
    --block-size 16,256 --format "$fmt" 8x1000 32x500
done

# 4. Bandwidth: device-to-device copy against fill-and-verify, same buffers, same run (target >= 50%).
for fmt in markdown json; do
  run bandwidth "$bin" probe --backend cuda --model llama-2-7b --bandwidth --bandwidth-bytes 4GiB --format "$fmt"
done

# 5. Fragmentation: variable-length sequences through one arena, first-fit vs paged, replayed on the GPU.
for fmt in markdown json; do
  run fragmentation "$bin" probe --backend cuda --model llama-3-8b --max-model-len 8192 --churn-requests 5000 \
    --churn-lifetime 32 --arena 8GiB --block-size 16 --format "$fmt"
done

# 6. Ctrl-C on the device: a real SIGINT mid-run; the footprint must return to its baseline.
run interrupt-cuda "$bin" probe --backend cuda --model llama-2-7b --max-model-len 4096 --policy contiguous \
  --interrupt-after 200 32x500
sed -i 's/^interrupt-cuda rc=130 /interrupt-cuda rc=130(expected) /' "$status"
grep -q "^interrupt-cuda rc=130(expected)" "$status" && failures=$((failures - 1))
fi  # cuda_ok

# 7. PyTorch cross-check: a Hugging Face StaticCache-shaped allocation against kvplan's prediction.
if python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
  run torch-llama-3-8b python3 scripts/torch_static_cache_check.py --kvplan "$bin" --model llama-3-8b --batch 4 \
    --max-cache-len 4096 --dtype bf16 --json "$out/torch-llama-3-8b.json"
  run torch-llama-2-7b python3 scripts/torch_static_cache_check.py --kvplan "$bin" --model llama-2-7b --batch 1 \
    --max-cache-len 4096 --dtype fp16 --json "$out/torch-llama-2-7b.json"
else
  echo "torch-check skipped: python3 has no CUDA-enabled torch" >>"$status"
fi

# Summary: every Markdown table in one file, headed by the device.
{
  echo "# kvplan GPU validation"
  echo
  echo '```'
  head -n 3 "$out/device.txt"
  echo '```'
  echo
  for f in "$out"/matrix-*.md "$out"/fused-*.md "$out"/exact-*.md "$out"/fp8-*.md "$out"/bandwidth.md \
           "$out"/fragmentation.md "$out"/torch-*.txt; do
    [ -f "$f" ] || continue
    echo "## $(basename "$f")"
    echo
    cat "$f"
    echo
    err="${f%.*}.stderr"
    if [ -s "$err" ]; then
      echo '```'
      cat "$err"
      echo '```'
      echo
    fi
  done
  echo "## Exit codes"
  echo
  echo '```'
  cat "$status"
  echo '```'
} >"$out/summary.md"
echo "gpu-validate: $failures failing step(s); results in $out (summary.md, status.txt)"
[ "$failures" -eq 0 ]
