#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*_fuzz.cpp) with clang into build-fuzz and runs each one for
# SECONDS_PER_TARGET seconds (default 5: the bounded run CI does) from its seed corpus
# tests/fuzz-corpus/<name>/. Any finding fails the script: a crash, a sanitizer report (ASan,
# UBSan, LeakSanitizer), an exception other than kvplan::Error, a timeout (> 10 s on one input),
# RSS over 2 GiB or one allocation over 512 MiB. The input that triggered it is saved as
# fuzz-findings/<name>-crash-*, -leak-*, -timeout-*, -oom-*; replay it with
#   build-fuzz/fuzz/kvplan_<name>_fuzz fuzz-findings/<file>
# Long runs (docs/reliability.md): scripts/fuzz.sh 3600, or KVPLAN_FUZZ_TARGETS="trace gguf"
# to run some targets only; inputs that found new coverage accumulate in build-fuzz/corpus/<name>.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-5}"
KVPLAN_WITH_FUZZ=1 scripts/install-deps.sh
if [ -n "${KVPLAN_FUZZ_TARGETS:-}" ]; then
  read -r -a names <<<"$KVPLAN_FUZZ_TARGETS"
else
  names=()
  for src in fuzz/*_fuzz.cpp; do n="$(basename "$src" .cpp)"; names+=("${n%_fuzz}"); done
fi
targets=()
for n in "${names[@]}"; do targets+=("kvplan_${n}_fuzz"); done
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKVPLAN_FUZZ=ON -DKVPLAN_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]}"
mkdir -p fuzz-findings
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
failed=()
for n in "${names[@]}"; do
  seeds="tests/fuzz-corpus/$n"
  work="build-fuzz/corpus/$n"
  mkdir -p "$work"
  log="build-fuzz/fuzz-$n.log"
  start=$(date +%s)
  # The work corpus comes first, so new inputs go there and the checked-in seeds stay as they are.
  if build-fuzz/fuzz/kvplan_"$n"_fuzz "$work" "$seeds" -max_total_time="$seconds" -timeout=10 \
       -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=65536 -print_final_stats=1 \
       -artifact_prefix="fuzz-findings/$n-" >"$log" 2>&1; then
    echo "fuzz $n: clean, $(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$') inputs in $(( $(date +%s) - start )) s"
  else
    echo "fuzz $n: FINDING (log: $log)" >&2
    grep -E 'ERROR|runtime error|terminate|Test unit written' "$log" | head -5 >&2 || true
    failed+=("$n")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}; inputs saved under fuzz-findings/" >&2
  exit 1
fi
