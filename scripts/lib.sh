# Shared by the set-up scripts (sourced): one line per step on stderr, and the build's own
# progress count: rewritten in place on a terminal, every tenth of the way in a pipe or CI log.
kvplan_step() { printf 'kvplan: %s\n' "$*" >&2; }

# kvplan_build DIR [cmake --build args...]: builds, showing "[ 45%] ..." as the build goes; on a
# failure the whole compiler output is shown.
kvplan_build() {
  local dir=$1
  shift
  local log
  log=$(mktemp)
  local tty=0
  [ -t 2 ] && tty=1
  local last=-10
  set +e
  cmake --build "$dir" -j"$(nproc)" "$@" 2>&1 | tee "$log" | while IFS= read -r line; do
    if [[ $line =~ ^\[\ *([0-9]+)%\] ]]; then
      local pct=${BASH_REMATCH[1]}
      if [ $tty = 1 ]; then
        local msg
        msg=$(printf 'kvplan:   building [%3d%%] %s' "$pct" "${line#*] }")
        printf '\r\033[K%s' "${msg:0:$((${COLUMNS:-80} - 1))}" >&2
      elif [ $((pct - last)) -ge 10 ] || [ "$pct" = 100 ] && [ "$pct" != "$last" ]; then
        printf 'kvplan:   building [%3d%%]\n' "$pct" >&2
        last=$pct
      fi
    fi
  done
  local rc=${PIPESTATUS[0]}
  set -e
  [ $tty = 1 ] && printf '\r\033[K' >&2
  if [ "$rc" -ne 0 ]; then
    cat "$log" >&2
    rm -f "$log"
    kvplan_step "the build failed (output above)"
    return "$rc"
  fi
  rm -f "$log"
}
