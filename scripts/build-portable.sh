#!/usr/bin/env bash
# Builds one self-contained kvplan into dist/kvplan for a machine that has none of our Debian
# packages (the GPU machine): static yaml-cpp, header-only fmt, static libstdc++/libgcc and, when
# the CUDA toolkit is here, the static CUDA runtime (cudart_static loads the driver's libcuda at
# run time). Then checks with ldd that the binary needs nothing but the C library family.
#   KVPLAN_CUDA=AUTO|ON|OFF (default AUTO)   scripts/build-portable.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cuda=${KVPLAN_CUDA:-AUTO}
cmake -S . -B build-portable -DCMAKE_BUILD_TYPE=Release -DKVPLAN_PORTABLE=ON -DKVPLAN_BUILD_TESTS=OFF \
      -DKVPLAN_CUDA="$cuda" | grep -E "^-- kvplan" || true
cmake --build build-portable -j"$(nproc)" --target kvplan >/dev/null
mkdir -p dist
cp build-portable/kvplan dist/kvplan
strip dist/kvplan
# Allowed: the C library family, the dynamic loader and the vDSO. Anything else is a failure.
allowed='^(linux-vdso\.so\.1|/lib64/ld-linux-x86-64\.so\.2|ld-linux-[a-z0-9-]+\.so\.[0-9]+|lib(c|m|pthread|dl|rt)\.so\.[0-9]+)$'
bad=$(ldd dist/kvplan | awk '{print $1}' | grep -Ev "$allowed" || true)
echo "dist/kvplan: $(du -h dist/kvplan | cut -f1), needs:"
ldd dist/kvplan | sed 's/^/  /'
if [ -n "$bad" ]; then
  echo "build-portable: dist/kvplan needs libraries a bare machine may lack: $bad" >&2
  exit 1
fi
# The C library it was linked against sets the oldest glibc it runs with (here: the build machine's).
glibc=$(objdump -T dist/kvplan | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
echo "dist/kvplan: needs ${glibc/GLIBC_/glibc >= } on the target machine"
# Which probe backends are in: the CUDA one answers "unavailable" on a machine without a driver,
# a build without it says so.
if dist/kvplan probe --model gpt2 --backend cuda --max-model-len 16 1x1 2>&1 | grep -q "built without CUDA"; then
  echo "dist/kvplan: built WITHOUT the CUDA probe backend (no CUDA toolkit/nvcc found)"
else
  echo "dist/kvplan: CUDA probe backend built in (static cudart)"
fi
dist/kvplan --version
