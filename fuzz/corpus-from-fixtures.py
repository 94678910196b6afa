#!/usr/bin/env python3
"""Fills fuzz/corpus/<target>/ (not committed) from the shared fixtures, the demo artifact and
the committed seeds, one file per input. Usage: fuzz/corpus-from-fixtures.py [FIXTURES_DIR]"""

import glob
import hashlib
import json
import os
import shutil
import sys

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
FIXTURES = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "fixtures")
TARGETS = ["delivery_response", "emulator_delivery", "artifact_load", "jsonlogic"]


def put(target, data):
    if isinstance(data, (dict, list)):
        data = json.dumps(data, separators=(",", ":")).encode()
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(FUZZ, "corpus", target, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def conditions(node):
    """Every object and array inside a json-logic condition, the condition first."""
    if isinstance(node, (dict, list)):
        yield node
        for child in node.values() if isinstance(node, dict) else node:
            yield from conditions(child)


for target in TARGETS:
    os.makedirs(os.path.join(FUZZ, "corpus", target), exist_ok=True)
    for seed in glob.glob(os.path.join(FUZZ, "seeds", target, "*")):
        shutil.copy(seed, os.path.join(FUZZ, "corpus", target))

artifacts = glob.glob(os.path.join(FIXTURES, "artifacts", "*.json"))
artifacts += glob.glob(os.path.join(FIXTURES, "target-sdk-testing", "artifacts", "*.json"))
artifacts.append(os.path.join(ROOT, "assets", "demo", "rules.json"))
for path in artifacts + glob.glob(os.path.join(FIXTURES, "artifacts", "*.bin")):
    put("artifact_load", read(path))
for path in artifacts:
    rules = json.loads(read(path)).get("rules", {})
    for kind in ("mboxes", "views"):
        for rule_list in rules.get(kind, {}).values():
            for rule in rule_list:
                for condition in conditions(rule.get("condition")):
                    put("jsonlogic", condition)

for path in glob.glob(os.path.join(FIXTURES, "delivery-api", "samples", "*.json")):
    put("delivery_response", read(path))
for path in glob.glob(os.path.join(FIXTURES, "target-sdk-testing", "models", "*.json")):
    for test in json.loads(read(path)).get("test", {}).values():
        if isinstance(test.get("output"), dict):
            put("delivery_response", test["output"])
        request = test.get("input", {}).get("request")
        if isinstance(request, dict):
            put("emulator_delivery", request)

for target in TARGETS:
    print(target, len(os.listdir(os.path.join(FUZZ, "corpus", target))))
