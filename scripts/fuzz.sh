#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*_fuzz.cpp) with clang into build-fuzz and runs them.
#
#   scripts/fuzz.sh --ci        CI: each target a fixed number of inputs (fuzz/ci-runs.txt) from a
#                               fixed seed, starting from the committed corpus tests/fuzz-corpus/<name>
#                               only. The same commit runs the same inputs on every machine: a
#                               finding is a bug in the change, never the luck of the draw.
#   scripts/fuzz.sh SECONDS     exploration: random seeds, SECONDS per target, new inputs kept in
#                               build-fuzz/corpus/<name> for the next run.
#   scripts/fuzz.sh --grow SECONDS
#                               exploration, then the inputs that add coverage are merged (minimised
#                               by libFuzzer's -merge=1) into tests/fuzz-corpus/<name>, to commit.
#
# Any finding fails the script: a crash, a sanitizer report (ASan, UBSan, LeakSanitizer), an
# exception other than kvplan::Error, a timeout (> 10 s on one input), RSS over 2 GiB or one
# allocation over 512 MiB. The input is saved as fuzz-findings/<name>-crash-* (-leak-, -timeout-,
# -oom-); replay it with build-fuzz/fuzz/kvplan_<name>_fuzz fuzz-findings/<file>, and commit it to
# tests/fuzz-corpus/<name>/ with the fix so that every CI run replays it.
# KVPLAN_FUZZ_TARGETS="trace gguf" runs some targets only.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=explore
grow=0
case "${1:-}" in
  --ci) mode=ci ;;
  --grow) grow=1; shift ;;
  "") echo "usage: scripts/fuzz.sh --ci | SECONDS | --grow SECONDS" >&2; exit 2 ;;
esac
seconds=0
if [ "$mode" = explore ]; then
  seconds="${1:-}"
  if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "scripts/fuzz.sh: SECONDS must be a whole number of seconds, got '${1:-}'" >&2
    exit 2
  fi
fi
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
limits=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=65536 -print_final_stats=1)
ci_runs() {  # the fixed input count of target $1 (fuzz/ci-runs.txt: "name runs" per line)
  local runs
  runs="$(awk -v n="$1" '$1 == n { print $2 }' fuzz/ci-runs.txt)"
  if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
    echo "scripts/fuzz.sh: fuzz/ci-runs.txt has no input count for target '$1'" >&2
    exit 2
  fi
  echo "$runs"
}
failed=()
for n in "${names[@]}"; do
  seeds="tests/fuzz-corpus/$n"
  log="build-fuzz/fuzz-$n.log"
  start=$(date +%s)
  if [ "$mode" = ci ]; then
    # A fresh work folder each time, so a local build-fuzz/corpus cannot change what CI runs, and
    # -reload=0: libFuzzer otherwise rereads the corpus on a timer, and two runs of a seed differ.
    work="build-fuzz/ci-corpus/$n"
    rm -rf "$work" && mkdir -p "$work"
    run_args=("$work" "$seeds" -seed=1 -runs="$(ci_runs "$n")" -reload=0)
  else
    # The work corpus comes first, so new inputs go there and the committed seeds stay as they are.
    work="build-fuzz/corpus/$n"
    mkdir -p "$work"
    run_args=("$work" "$seeds" -max_total_time="$seconds")
  fi
  if build-fuzz/fuzz/kvplan_"$n"_fuzz "${run_args[@]}" "${limits[@]}" \
       -artifact_prefix="fuzz-findings/$n-" >"$log" 2>&1; then
    echo "fuzz $n: clean, $(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$') inputs in $(( $(date +%s) - start )) s"
  else
    echo "fuzz $n: FINDING (log: $log)" >&2
    grep -E 'ERROR|runtime error|terminate|Test unit written' "$log" | head -5 >&2 || true
    failed+=("$n")
    continue
  fi
  if [ "$grow" = 1 ]; then
    before=$(find "$seeds" -type f | wc -l)
    build-fuzz/fuzz/kvplan_"$n"_fuzz -merge=1 "$seeds" "$work" "${limits[@]}" >"build-fuzz/merge-$n.log" 2>&1
    echo "fuzz $n: corpus $before -> $(find "$seeds" -type f | wc -l) files in $seeds"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}; inputs saved under fuzz-findings/" >&2
  exit 1
fi
