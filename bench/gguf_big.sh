#!/usr/bin/env bash
# bench/gguf_big.sh KVPLAN MAKE_GGUF_DIR: times `kvplan size --model` on a 40 GiB GGUF file whose
# tensor data is a hole (a sparse file), to show that only the header, metadata and tensor infos
# are read. Usage: bench/gguf_big.sh build/kvplan /tmp/kvplan-big
set -euo pipefail
kvplan=$1 dir=$2
mkdir -p "$dir"
python3 - "$dir/big.gguf" <<'PY'
import struct, sys
# llama-like: 80 layers, 8 KV heads of 128, 8192 wide, q4_K weights; ~40 GiB of tensor data.
def s(x): b = x.encode(); return struct.pack('<Q', len(b)) + b
kv = []
def u32(k, v): kv.append(s(k) + struct.pack('<II', 4, v))
kv.append(s('general.architecture') + struct.pack('<I', 8) + s('llama'))
for k, v in [('llama.block_count', 80), ('llama.context_length', 131072), ('llama.embedding_length', 8192),
             ('llama.feed_forward_length', 28672), ('llama.attention.head_count', 64),
             ('llama.attention.head_count_kv', 8), ('llama.vocab_size', 128256)]:
    u32(k, v)
tensors = []
def t(name, dims, typ, size):
    tensors.append((name, dims, typ, size))
QK = lambda n: n // 256 * 144  # q4_K
t('token_embd.weight', [8192, 128256], 12, QK(8192 * 128256))
for i in range(80):
    for n, d in [('attn_q', [8192, 8192]), ('attn_k', [8192, 1024]), ('attn_v', [8192, 1024]),
                 ('attn_output', [8192, 8192]), ('ffn_gate', [8192, 28672]), ('ffn_up', [8192, 28672]),
                 ('ffn_down', [28672, 8192])]:
        t(f'blk.{i}.{n}.weight', d, 12, QK(d[0] * d[1]))
    t(f'blk.{i}.attn_norm.weight', [8192], 0, 8192 * 4)
    t(f'blk.{i}.ffn_norm.weight', [8192], 0, 8192 * 4)
t('output.weight', [8192, 128256], 12, QK(8192 * 128256))
out = b'GGUF' + struct.pack('<IQQ', 3, len(tensors), len(kv)) + b''.join(kv)
off = 0
for name, dims, typ, size in tensors:
    out += s(name) + struct.pack('<I', len(dims)) + b''.join(struct.pack('<Q', d) for d in dims)
    out += struct.pack('<IQ', typ, off)
    off += (size + 31) // 32 * 32
out += b'\0' * ((32 - len(out) % 32) % 32)
with open(sys.argv[1], 'wb') as f:
    f.write(out)
    f.truncate(len(out) + off)  # the data: a hole, never written
PY
ls -ls "$dir/big.gguf"
for i in 1 2 3; do /usr/bin/time -f "%e s wall, %M KiB max RSS" "$kvplan" size --model "$dir/big.gguf" >/dev/null; done
"$kvplan" fit --engine llamacpp --model "$dir/big.gguf" --gpu h100-sxm -c 32768 -np 4 -ctk q8_0 | head -8
