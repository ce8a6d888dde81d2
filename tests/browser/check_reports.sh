#!/usr/bin/env bash
# The HTML reports in a real browser: each report kind is written by kvplan, opened in headless
# Chromium (Debian's chromium), and must finish drawing with no script error, no console.error,
# no request the page's content security policy blocked, and at least one data mark in every chart
# (the page checks itself and records the result on <body>; we read the DOM Chromium dumps).
# A screenshot of each is kept in OUT for people to look at.
#   check_reports.sh KVPLAN OUT
set -uo pipefail
kvplan=$1
out=$2
mkdir -p "$out"
chromium=$(command -v chromium || true)
if [ -z "$chromium" ]; then
  echo "chromium is not installed (KVPLAN_WITH_TESTS=1 scripts/install-deps.sh installs it)"
  # CI sets KVPLAN_REQUIRE_BROWSER: there a missing browser fails instead of skipping.
  [ "${KVPLAN_REQUIRE_BROWSER:-0}" = 1 ] && exit 1
  exit 77
fi

# Flags of a closed-network sandbox: no background connections, no first-run work, no GPU.
flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars
       --virtual-time-budget=15000)

browse() {  # browse FILE ARGS...: Chromium on FILE with a fresh profile
  local profile
  profile=$(mktemp -d)
  timeout 120 "$chromium" "${flags[@]}" --user-data-dir="$profile" "${@:2}" "file://$1" 2>"$profile.log"
  local rc=$?
  rm -rf "$profile" "$profile.log"
  return $rc
}

failed=0
check() {  # check NAME CHARTS KVPLAN-ARGS...
  local name=$1 charts=$2
  shift 2
  local html="$out/$name.html"
  "$kvplan" "$@" --format html >"$html"
  local rc=$?
  if [ $rc -gt 1 ]; then
    echo "FAIL $name: kvplan $* exited $rc"; failed=1; return
  fi
  local dom
  dom=$(browse "$html" --dump-dom)
  # Chromium failing to start is not the report's fault: one more try, then the test fails.
  [ -z "$dom" ] && dom=$(browse "$html" --dump-dom)
  printf '%s\n' "$dom" >"$out/$name.dom.html"
  local body
  body=$(printf '%s\n' "$dom" | grep -o '<body[^>]*>' | head -1)
  if ! printf '%s' "$body" | grep -q 'data-kvplan-render="ok"'; then
    echo "FAIL $name: $body"; failed=1; return
  fi
  if ! printf '%s' "$body" | grep -q "data-kvplan-charts=\"$charts\""; then
    echo "FAIL $name: expected $charts charts: $body"; failed=1; return
  fi
  local drawn
  drawn=$(printf '%s\n' "$dom" | grep -o 'data-items="[1-9][0-9]*"' | wc -l)
  if [ "$drawn" -ne "$charts" ]; then
    echo "FAIL $name: $drawn of $charts charts drew data marks"; failed=1; return
  fi
  browse "$html" --window-size=1100,1800 --screenshot="$out/$name.png" >/dev/null
  echo "ok   $name: $charts charts drawn ($(printf '%s\n' "$dom" | grep -o 'data-items="[0-9]*"' | tr -dc '0-9 \n' | xargs) marks); screenshot $out/$name.png"
}

# The page's own check must be able to fail: a console error, and charts left without data.
must_fail() {  # must_fail NAME SED-SCRIPT: the fit report, altered, must not pass
  local html="$out/tampered-$1.html"
  sed "$2" "$out/fit.html" >"$html"
  local body
  body=$(browse "$html" --dump-dom | grep -o '<body[^>]*>' | head -1)
  if [ -z "$body" ] || printf '%s' "$body" | grep -q 'data-kvplan-render="ok"'; then
    echo "FAIL tampered $1: the page's check passed it: $body"; failed=1
  else
    echo "ok   tampered $1 is caught: $body"
  fi
}

check fit 2 fit --model qwen2.5-7b --gpu l40s 32x500 1x16000
check fit-engine 2 fit --engine vllm --model llama-3.1-8b --gpu h100-sxm 64x2000 8x32000
check max 3 max --engine sglang --model llama-3.1-8b --gpu l4 --tp 1,2
check simulate 1 simulate --model llama-2-13b --gpu a100-40gb --synthetic sharegpt --requests 500
check probe 1 probe --backend host --model gpt2 2x256 1x1024
# --plot: every chart as SVG and PNG, drawn by the same page in this browser.
plot() {  # plot EXT: kvplan fit --plot $out/plot.EXT must write both charts as real images
  rm -f "$out"/plot-*."$1"
  if ! "$kvplan" fit --model qwen2.5-7b --gpu l40s --plot "$out/plot.$1" >/dev/null 2>"$out/plot-$1.log"; then
    echo "FAIL --plot $1: $(cat "$out/plot-$1.log")"; failed=1; return
  fi
  for chart in memory-vs-context budget-by-engine; do
    local f="$out/plot-$chart.$1"
    if [ "$1" = svg ] && head -c 4 "$f" 2>/dev/null | grep -q '<svg' && grep -q '</svg>' "$f"; then continue; fi
    if [ "$1" = png ] && [ "$(head -c 8 "$f" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then continue; fi
    echo "FAIL --plot $1: $f is not a $1 image"; failed=1; return
  done
  echo "ok   --plot $1: both charts written ($(du -ch "$out"/plot-*."$1" | tail -1 | cut -f1))"
}
plot svg
plot png

must_fail console-error 's#</body>#<script>console.error("injected by the test")</script></body>#'
must_fail empty-charts '/id="kvplan-charts"/s/"values":\[/"values":[],"unused":[/g'
must_fail network '/id="kvplan-charts"/s#</script>#</script><img src="http://127.0.0.1:9/x.png">#'
exit $failed
