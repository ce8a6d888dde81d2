#!/usr/bin/env bash
# Installs the Debian 12 packages kvplan builds with, if any is missing. Safe to run repeatedly.
# Says what it installs; without root and without sudo it says what to install instead.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
# libjs-vega: the charting library the HTML reports embed (docs/architecture.md, "HTML reports").
packages=(g++ cmake make libcli11-dev libfmt-dev libyaml-cpp-dev catch2 nlohmann-json3-dev libjs-vega)
if [ "${KVPLAN_WITH_BENCH:-0}" = 1 ]; then packages+=(libbenchmark-dev); fi
# The JSON schema test (tests/json/validate.py) validates with Debian's JSON Schema library; the
# browser test (tests/browser/check_reports.sh) opens every report kind in headless Chromium.
if [ "${KVPLAN_WITH_TESTS:-0}" = 1 ]; then packages+=(python3-jsonschema chromium fonts-dejavu-core); fi
if [ "${KVPLAN_WITH_FUZZ:-0}" = 1 ]; then packages+=(clang libclang-rt-14-dev); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    kvplan_step "these Debian packages are missing: ${missing[*]}"
    kvplan_step "this user is not root and sudo is not installed: run this script as root, or have an" \
                "administrator run: apt-get install ${missing[*]}"
    exit 1
  fi
  sudo="sudo"
fi
kvplan_step "installing ${#missing[@]} Debian package(s) with ${sudo:-apt-get as root}${sudo:+ apt-get}: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
kvplan_step "  apt-get update"
if ! $sudo apt-get update -qq >"$log" 2>&1; then
  cat "$log" >&2
  kvplan_step "apt-get update failed (output above): check the network or the apt sources"
  exit 1
fi
kvplan_step "  apt-get install (a few minutes on a fresh machine)"
if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  kvplan_step "apt-get install failed (output above); the packages kvplan needs: ${missing[*]}"
  exit 1
fi
rm -f "$log"
kvplan_step "  installed"
