#!/usr/bin/env bash
# expect.sh EXIT MATCH NOMATCH COMMAND... : runs COMMAND, checks its exit code is EXIT, that its
# stdout+stderr matches the extended regex MATCH, and (when NOMATCH is non-empty) not NOMATCH.
expected_exit=$1 match=$2 nomatch=$3
shift 3
# These tests check what is said, not the layout: a terminal wide enough that no line is wrapped
# and no table is folded (tests/cli/width.py checks the 80-column layout of every command).
export COLUMNS=${KVPLAN_TEST_COLUMNS:-1000}
output=$("$@" 2>&1)
actual=$?
printf '%s\n' "$output"
if [ "$actual" != "$expected_exit" ]; then
  echo "FAIL: exit code $actual, expected $expected_exit" >&2
  exit 1
fi
if ! printf '%s\n' "$output" | grep -Eq -- "$match"; then
  echo "FAIL: output does not match /$match/" >&2
  exit 1
fi
if [ -n "$nomatch" ] && printf '%s\n' "$output" | grep -Eq -- "$nomatch"; then
  echo "FAIL: output matches /$nomatch/, which it must not" >&2
  exit 1
fi
echo "ok: exit $actual, output matches /$match/"
