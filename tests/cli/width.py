#!/usr/bin/env python3
"""Every command's table output fits 80 columns (issue 13's acceptance).

width.py KVPLAN SOURCE_DIR GGUF_DIR TMP_DIR: runs each line of tests/json/commands.txt in the
table format with COLUMNS=80, and size, fit, explain and max for every shipped model, and fails on
any line wider than 80 columns (counted in code points, as a terminal shows them). It also checks
that COLUMNS is obeyed (a narrower terminal gets narrower lines), so the check is not vacuous.
"""
import os
import subprocess
import sys

kvplan, source, gguf, tmp = sys.argv[1:5]
sys.path.insert(0, os.path.join(source, "tests", "json"))
from commands import read_commands  # noqa: E402
runs = [args for _, _, args in read_commands(source, gguf, tmp)]
models = subprocess.run([kvplan, "models", "--format", "csv"], capture_output=True, text=True).stdout.splitlines()[1:]
for model in [m.split(",")[0] for m in models]:
    runs += [["size", "--model", model, "--tokens", "8192", "--engine", "vllm"], ["fit", "--model", model],
             ["explain", "--model", model], ["max", "--model", model, "--engine", "vllm"]]
runs += [["models"], ["gpus"], ["--help"], ["fit", "--help"]]


def widest(args, columns):
    env = dict(os.environ, COLUMNS=str(columns))
    run = subprocess.run([kvplan, *args], capture_output=True, text=True, env=env)
    if run.returncode not in (0, 1):
        return None, f"exit {run.returncode}: {run.stderr.strip()[:200]}"
    lines = run.stdout.splitlines()
    if not lines:
        return 0, None
    longest = max(lines, key=len)
    return len(longest), longest


failures = []
for args in runs:
    width, line = widest(args, 80)
    if width is None:
        failures.append(f"kvplan {' '.join(args)[:100]}: {line}")
    elif width > 80:
        failures.append(f"kvplan {' '.join(args)[:100]}: a line of {width} columns: {line[:120]!r}")
narrow, _ = widest(["fit"], 60)
if narrow is None or narrow > 60:
    failures.append(f"COLUMNS=60 is not obeyed: kvplan fit printed a line of {narrow} columns")
for line in failures:
    print("FAIL " + line)
print(f"width: {len(runs)} runs at COLUMNS=80, {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
