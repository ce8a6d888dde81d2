#!/usr/bin/env bash
# Installs the Debian 12 packages kvplan builds with, if any is missing. Safe to run repeatedly.
set -euo pipefail
# libjs-vega: the charting library the HTML reports embed (docs/architecture.md, "HTML reports").
packages=(g++ cmake make libcli11-dev libfmt-dev libyaml-cpp-dev catch2 nlohmann-json3-dev libjs-vega)
if [ "${KVPLAN_WITH_BENCH:-0}" = 1 ]; then packages+=(libbenchmark-dev); fi
# The JSON schema test (tests/json/validate.py) validates with Debian's JSON Schema library.
# The browser test (tests/browser/check_reports.sh) opens every report kind in headless Chromium.
if [ "${KVPLAN_WITH_TESTS:-0}" = 1 ]; then packages+=(python3-jsonschema chromium fonts-dejavu-core); fi
if [ "${KVPLAN_WITH_FUZZ:-0}" = 1 ]; then packages+=(clang libclang-rt-14-dev); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "kvplan: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
