#!/usr/bin/env python3
"""Drafts docs/json/*.schema.json from the outputs of tests/json/commands.txt.

draft_schemas.py KVPLAN GGUF_DIR: runs every line, merges the outputs of each schema and writes a
draft-07 schema in which every object's fields are typed, the fields present in every output are
required and no other field is allowed. Use it when a report gains or loses a field, then read the
diff of docs/json/ before committing it: the schemas are the contract (docs/json.md), and a
changed or removed field means a new schema_version. A field seen only as null is typed
null-or-string (so far every such field is a message, e.g. "refusal").
"""
import json
import os
import shlex
import subprocess
import sys

kvplan, gguf = sys.argv[1:3]
source = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
subs = {"GGUF": gguf, "FIXTURES": os.path.join(source, "tests", "fixtures"),
        "EXAMPLES": os.path.join(source, "examples"), "TMP": "/tmp"}
docs = {}
with open(os.path.join(source, "tests", "json", "commands.txt")) as f:
    for line in f:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for key, value in subs.items():
            line = line.replace("${" + key + "}", value)
        name, *args = shlex.split(line)
        run = subprocess.run([kvplan, *args, "--format", "json"], capture_output=True, text=True, check=False)
        if run.returncode not in (0, 1):
            sys.exit(f"{line}: exit {run.returncode}: {run.stderr.strip()}")
        docs.setdefault(name, []).append(json.loads(run.stdout))


def json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    return "array" if isinstance(v, list) else "object"


def infer(values, path):
    types = {json_type(v) for v in values}
    if "number" in types:
        types.discard("integer")
    if types == {"null"}:
        print(f"{path}: only null seen; typed null or string", file=sys.stderr)
        types = {"null", "string"}
    names = sorted(types)
    schema = {"type": names[0] if len(names) == 1 else names}
    objects = [v for v in values if isinstance(v, dict)]
    if objects:
        keys = sorted({k for o in objects for k in o})
        schema["properties"] = {k: infer([o[k] for o in objects if k in o], f"{path}.{k}") for k in keys}
        schema["required"] = [k for k in keys if all(k in o for o in objects)]
        schema["additionalProperties"] = False
    items = [x for v in values if isinstance(v, list) for x in v]
    if items:
        schema["items"] = infer(items, path + "[]")
    return schema


for name, outputs in docs.items():
    schema = {"$schema": "http://json-schema.org/draft-07/schema#",
              "$id": f"https://github.com/kvplan/kvplan/docs/json/{name}.schema.json",
              "title": f"kvplan {name}, schema version 1 (docs/json.md)"}
    schema.update(infer(outputs, name))
    schema["properties"]["schema"] = {"const": name}
    schema["properties"]["schema_version"] = {"const": 1}
    with open(os.path.join(source, "docs", "json", f"{name}.schema.json"), "w") as out:
        json.dump(schema, out, indent=2)
        out.write("\n")
