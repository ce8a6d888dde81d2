#!/usr/bin/env python3
"""Every command's JSON output against its schema (docs/json/*.schema.json, docs/json.md).

validate.py KVPLAN SOURCE_DIR GGUF_DIR TMP_DIR: runs each line of tests/json/commands.txt with
--format json and validates the output with a JSON Schema draft-07 validator (Debian's
python3-jsonschema). It also checks that every JSON-printing command and every schema file is
exercised, and that the validator rejects a document with an unknown, a missing or a mistyped
field, so that a schema that accepts anything cannot pass.
"""
import copy
import json
import os
import re
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("json.schemas: the python3-jsonschema package is missing (scripts/install-deps.sh installs it "
             "with KVPLAN_WITH_TESTS=1, as scripts/test.sh does)")

kvplan, source, gguf, tmp = sys.argv[1:5]
sys.path.insert(0, os.path.join(source, "tests", "json"))
from commands import read_commands  # noqa: E402
schema_dir = os.path.join(source, "docs", "json")
schemas = {}
for name in sorted(os.listdir(schema_dir)):
    if name.endswith(".schema.json"):
        with open(os.path.join(schema_dir, name)) as f:
            schema = json.load(f)
        jsonschema.Draft7Validator.check_schema(schema)
        schemas[name[: -len(".schema.json")]] = schema

failures = []
first_doc = {}
used_commands = set()
lines = read_commands(source, gguf, tmp)
for number, name, args in lines:
    where = f"commands.txt:{number} ({' '.join(args)[:90]})"
    used_commands.add(args[0])
    if name not in schemas:
        failures.append(f"{where}: no schema docs/json/{name}.schema.json")
        continue
    run = subprocess.run([kvplan, *args, "--format", "json"], capture_output=True, text=True)
    if run.returncode not in (0, 1):
        failures.append(f"{where}: exit {run.returncode}: {run.stderr.strip()[:300]}")
        continue
    try:
        doc = json.loads(run.stdout)
    except json.JSONDecodeError as e:
        failures.append(f"{where}: standard output is not one JSON document ({e}): {run.stdout[:120]!r}")
        continue
    if doc.get("schema") != name or doc.get("schema_version") != 1:
        failures.append(f"{where}: schema {doc.get('schema')!r} version {doc.get('schema_version')!r}, "
                        f"expected {name!r} version 1")
    for error in jsonschema.Draft7Validator(schemas[name]).iter_errors(doc):
        path = "/".join(str(p) for p in error.absolute_path)
        failures.append(f"{where}: at /{path}: {error.message[:200]}")
    first_doc.setdefault(name, doc)

# Every command that prints JSON is exercised (import writes YAML and refuses --format json).
help_text = subprocess.run([kvplan, "--help"], capture_output=True, text=True).stdout
commands = set(re.findall(r"^  ([a-z]+) {2,}", help_text.split("Subcommands:")[-1], re.M))
for c in sorted(commands - used_commands - {"import"}):
    failures.append(f"command '{c}' prints JSON but tests/json/commands.txt never asks it")
for name in sorted(set(schemas) - set(first_doc)):
    failures.append(f"docs/json/{name}.schema.json is never exercised by tests/json/commands.txt")


# The schemas must be able to fail: an unknown field, a missing one and a mistyped one are refused.
def rejected(schema, doc):
    return not jsonschema.Draft7Validator(schema).is_valid(doc)


for name, doc in first_doc.items():
    extra = copy.deepcopy(doc)
    extra["not_a_field"] = 1
    missing = copy.deepcopy(doc)
    del missing["schema_version"]
    ints = [k for k, v in doc.items() if isinstance(v, int) and not isinstance(v, bool) and k != "schema_version"]
    cases = [("an unknown field", extra), ("a missing schema_version", missing)]
    if ints:
        mistyped = copy.deepcopy(doc)
        mistyped[ints[0]] = str(doc[ints[0]])
        cases.append(("a string for " + ints[0], mistyped))
    for label, bad in cases:
        if not rejected(schemas[name], bad):
            failures.append(f"docs/json/{name}.schema.json accepts {label}")

for f in failures:
    print("FAIL:", f)
print(f"{len(lines)} outputs against {len(schemas)} schemas: {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
