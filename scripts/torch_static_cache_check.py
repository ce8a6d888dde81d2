#!/usr/bin/env python3
"""Cross-check kvplan's contiguous prediction against PyTorch on a GPU.

Allocates one configuration's KV cache the way Hugging Face transformers' StaticCache does --
for every decoder layer a K and a V tensor of shape [batch, num_kv_heads, max_cache_len, head_dim]
in the model's dtype (sliding-window layers: min(sliding_window, max_cache_len) positions) --
with plain torch.zeros, and compares torch's measured allocation with
`kvplan size --policy contiguous --format json`.

transformers itself is NOT imported: its StaticLayer allocates exactly these zero tensors
(src/transformers/cache_utils.py, StaticLayer / StaticSlidingWindowLayer; older versions build
cache_shape = (max_batch_size, num_key_value_heads, max_cache_len, head_dim) eagerly), and not
importing it keeps the check independent of the installed transformers version. The shapes are
taken from kvplan's own per-layer JSON (kv_heads, head_dim_k/v, token slots), so what is checked is
that those shapes, allocated by torch, cost what kvplan predicts.

Measured: torch.cuda.memory_allocated (sum of the caching allocator's blocks, rounded to 512 B),
torch.cuda.memory_reserved (its segments, rounded to 2 MiB for large ones) and the device's own
free-memory delta (torch.cuda.mem_get_info). Prints one Markdown table; --json writes the numbers.
Exit 0 when memory_allocated is within 512 B per tensor of the prediction, 1 otherwise.
"""
import argparse
import json
import subprocess
import sys

DTYPES = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kvplan", default="dist/kvplan", help="kvplan binary")
    ap.add_argument("--model", required=True, help="kvplan model name, e.g. llama-3-8b")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--max-cache-len", type=int, required=True)
    ap.add_argument("--dtype", default="bf16", choices=sorted(DTYPES))
    ap.add_argument("--json", help="write the numbers here")
    a = ap.parse_args()

    cmd = [a.kvplan, "size", "--model", a.model, "--policy", "contiguous", "--max-model-len", str(a.max_cache_len),
           "--tokens", str(a.max_cache_len), "--batch", str(a.batch), "--kv-cache-dtype", a.dtype, "--format", "json"]
    predicted = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)

    import torch  # imported late so that --help works without torch

    dtype = getattr(torch, DTYPES[a.dtype])
    dev = torch.device("cuda")
    torch.cuda.init()
    torch.zeros(1, device=dev)  # context and allocator up before the baseline
    torch.cuda.synchronize()
    free0, total = torch.cuda.mem_get_info()
    alloc0, reserved0 = torch.cuda.memory_allocated(), torch.cuda.memory_reserved()

    cache, tensors = [], 0
    for layer in predicted["layers"]:
        slots = layer["token_slots_per_sequence"]  # max_cache_len, or the window for sliding layers
        if layer["kind"] not in ("full", "sliding_window") or slots == 0:
            raise SystemExit(f"layer kind {layer['kind']} has no StaticCache equivalent in this check")
        k = torch.zeros((a.batch, layer["kv_heads"], slots, layer["head_dim_k"]), dtype=dtype, device=dev)
        v = torch.zeros((a.batch, layer["kv_heads"], slots, layer["head_dim_v"]), dtype=dtype, device=dev)
        cache.append((k, v))
        tensors += 2
    torch.cuda.synchronize()
    free1, _ = torch.cuda.mem_get_info()
    alloc = torch.cuda.memory_allocated() - alloc0
    reserved = torch.cuda.memory_reserved() - reserved0
    elements = sum(k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in cache)

    want = predicted["bytes_reserved"]
    ok = abs(alloc - want) <= 512 * tensors
    row = {
        "model": a.model, "batch": a.batch, "max_cache_len": a.max_cache_len, "dtype": a.dtype, "tensors": tensors,
        "kvplan_predicted_bytes": want, "tensor_bytes": elements, "torch_memory_allocated": alloc,
        "torch_memory_reserved": reserved, "device_free_delta": free0 - free1, "device_total": total,
        "torch_version": torch.__version__, "cuda": torch.version.cuda, "device": torch.cuda.get_device_name(0),
        "allocated_minus_predicted": alloc - want, "within_512B_per_tensor": ok,
    }
    print("| model | batch × max_cache_len | dtype | tensors | kvplan predicted | tensor bytes | torch allocated |"
          " torch reserved | device free Δ | allocated − predicted | ok |")
    print("|---|---|---|--:|--:|--:|--:|--:|--:|--:|---|")
    print(f"| {a.model} | {a.batch} × {a.max_cache_len} | {a.dtype} | {tensors} | {want:,} | {elements:,} | {alloc:,} |"
          f" {reserved:,} | {free0 - free1:,} | {alloc - want:+,} | {'yes' if ok else 'NO'} |")
    print(f"\n{row['device']}, torch {row['torch_version']} (CUDA {row['cuda']})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(row, f, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
