#!/usr/bin/env python3
"""Every command's CSV and TSV output against its documented column set (docs/csv.md).

check_csv.py KVPLAN SOURCE_DIR GGUF_DIR TMP_DIR: runs each line of tests/json/commands.txt with
--format csv (and the first of each kind with --format tsv), reads the output with Python's csv
module and checks: the header is the documented columns in order (snake_case), every record has
every column, each value has its documented type (an integer, a number, true/false), and only
columns documented "or empty" are ever empty, so that each command's answer is in its records.
It also checks that every documented set is exercised and that the checker rejects a mistyped
value, an empty required field and a wrong header, so that it cannot pass everything.
"""
import csv
import io
import os
import re
import subprocess
import sys

kvplan, source, gguf, tmp = sys.argv[1:5]
sys.path.insert(0, os.path.join(source, "tests", "json"))
from commands import read_commands  # noqa: E402

# docs/csv.md: "## NAME" then a table "| column | type | meaning |"; "*plan columns*" expands.
sets = {}
current = None
with open(os.path.join(source, "docs", "csv.md")) as f:
    for line in f:
        m = re.match(r"^## (\S+)( columns)?$", line.strip())
        if m:
            current = m.group(1) + (" columns" if m.group(2) else "")
            sets[current] = []
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if current is None or len(cells) < 2 or cells[0] in ("column", "---") or not line.startswith("|"):
            continue
        if cells[0] == "*plan columns*":
            sets[current].extend(sets["plan columns"])
        else:
            sets[current].append((cells[0], cells[1]))
plan_columns = sets.pop("plan columns")
TYPES = {"integer", "number", "boolean", "text"}
failures = []
for name, columns in sets.items():
    for column, kind in columns:
        base = kind.replace(" or empty", "")
        if base not in TYPES:
            failures.append(f"docs/csv.md, {name}: column {column} has type {kind!r}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", column):
            failures.append(f"docs/csv.md, {name}: column {column!r} is not snake_case")


def value_ok(value, kind):
    if value == "":
        return kind.endswith(" or empty")
    base = kind.replace(" or empty", "")
    if base == "integer":
        return re.fullmatch(r"-?[0-9]+", value) is not None
    if base == "number":
        try:
            float(value)
            return True
        except ValueError:
            return False
    if base == "boolean":
        return value in ("true", "false")
    return True


def check(text, delimiter, columns, where):
    """Problems with one output, as strings."""
    problems = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter,
                        quoting=csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL)
    rows = list(reader)
    if not rows:
        return [f"{where}: no output"]
    header, records = rows[0], rows[1:]
    expected = [c for c, _ in columns]
    if header != expected:
        return [f"{where}: header {header} is not the documented {expected}"]
    if not records:
        problems.append(f"{where}: no record")
    for i, record in enumerate(records, 2):
        if len(record) != len(columns):
            problems.append(f"{where}: line {i} has {len(record)} fields for {len(columns)} columns")
            continue
        for value, (column, kind) in zip(record, columns):
            if not value_ok(value, kind):
                problems.append(f"{where}: line {i}, {column} = {value!r} is not {kind}")
    return problems


lines = read_commands(source, gguf, tmp)
seen = set()
for number, name, args in lines:
    where = f"commands.txt:{number} ({' '.join(args)[:80]})"
    if name not in sets:
        failures.append(f"{where}: no column set '## {name}' in docs/csv.md")
        continue
    formats = [("csv", ",")] + ([("tsv", "\t")] if name not in seen else [])
    seen.add(name)
    for fmt, delimiter in formats:
        run = subprocess.run([kvplan, *args, "--format", fmt], capture_output=True, text=True)
        if run.returncode not in (0, 1):
            failures.append(f"{where} --format {fmt}: exit {run.returncode}: {run.stderr.strip()[:300]}")
            continue
        failures += check(run.stdout, delimiter, sets[name], f"{where} --format {fmt}")
for name in sorted(set(sets) - seen):
    failures.append(f"docs/csv.md: '## {name}' is never exercised by tests/json/commands.txt")

# The checker must be able to fail.
demo = [("a", "integer"), ("b", "boolean"), ("c", "text or empty")]
for text, what in [("a,b,c\nx,true,\n", "a mistyped integer"), ("a,b,c\n1,,z\n", "an empty boolean"),
                   ("a,c,b\n1,,true\n", "a wrong header"), ("a,b,c\n1,true\n", "a short record"),
                   ("a,b,c\n", "no record")]:
    if not check(text, ",", demo, "demo"):
        failures.append(f"the checker accepted {what}")
if check("a,b,c\n-1,false,\n", ",", demo, "demo"):
    failures.append("the checker refused a good record")

for line in failures:
    print("FAIL " + line)
print(f"csv.columns: {len(lines)} commands, {len(sets)} column sets, {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
