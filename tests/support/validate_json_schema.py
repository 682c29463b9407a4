"""Validates a JSON document against a JSON Schema (draft-07), offline.

usage: validate_json_schema.py SCHEMA DOCUMENT
Exit 0 when valid; 1 with one line per violation (JSON pointer: message) when not;
3 when the jsonschema package is missing (run scripts/setup-test-deps.sh).
"""
import json
import sys

try:
    from jsonschema import Draft7Validator
except ImportError:
    print("python jsonschema is not installed; run scripts/setup-test-deps.sh", file=sys.stderr)
    sys.exit(3)

with open(sys.argv[1], encoding="utf-8") as f:
    schema = json.load(f)
with open(sys.argv[2], encoding="utf-8") as f:
    document = json.load(f)

Draft7Validator.check_schema(schema)
validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
for error in errors[:50]:
    pointer = "/" + "/".join(str(p) for p in error.absolute_path)
    print(f"{pointer}: {error.message}")
sys.exit(1 if errors else 0)
