#!/usr/bin/env bash
# check_reliability_table.sh DOC BUILD_DIR: every test named (in backquotes, last column) in the
# numbered table of bad inputs in DOC exists in BUILD_DIR's ctest list, every row names one, and
# the table has at least 40 rows (issue 7's acceptance).
set -uo pipefail
doc=$1 build=$2
names=$(ctest --test-dir "$build" -N | sed -n 's/^ *Test *#[0-9]*: //p')
rows=0 bad=0
while IFS= read -r line; do
  [[ $line =~ ^\|\ [0-9]+\ \| ]] || continue
  rows=$((rows + 1))
  column=$(printf '%s\n' "$line" | awk -F'|' '{print $(NF-1)}')
  found=0
  while IFS= read -r name; do
    [ -z "$name" ] && continue
    found=1
    if ! grep -Fxq -- "$name" <<<"$names"; then
      echo "row $rows: no test named '$name'"
      bad=1
    fi
  done < <(grep -o '`[^`]*`' <<<"$column" | tr -d '`')
  [ $found = 1 ] || { echo "row $rows names no test: $line"; bad=1; }
done <"$doc"
echo "$rows rows"
[ "$rows" -ge 40 ] || { echo "the table needs at least 40 rows"; bad=1; }
exit $bad
