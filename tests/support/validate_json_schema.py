"""Validates a JSON document against a JSON Schema (draft-07), offline.

usage: validate_json_schema.py SCHEMA DOCUMENT
Exit 0 when valid; 1 with one line per violation (JSON pointer: message) when not;
3 when the jsonschema package is missing (run scripts/setup-test-deps.sh).

usage: validate_json_schema.py --serve SCHEMA
Reads one JSON document per line from stdin and answers each with one line, a JSON
array of its violations (empty: valid), so that a test process validates many
documents with one interpreter.
"""
import json
import sys

try:
    from jsonschema import Draft7Validator
except ImportError:
    print("python jsonschema is not installed; run scripts/setup-test-deps.sh", file=sys.stderr)
    sys.exit(3)

serve = sys.argv[1] == "--serve"
schema_path = sys.argv[2] if serve else sys.argv[1]
with open(schema_path, encoding="utf-8") as f:
    schema = json.load(f)
Draft7Validator.check_schema(schema)
validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def violations(document):
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return [
        "/" + "/".join(str(p) for p in error.absolute_path) + f": {error.message}"
        for error in errors[:50]
    ]


if serve:
    for line in sys.stdin:
        print(json.dumps(violations(json.loads(line))), flush=True)
    sys.exit(0)

with open(sys.argv[2], encoding="utf-8") as f:
    document = json.load(f)
found = violations(document)
for violation in found:
    print(violation)
sys.exit(1 if found else 0)
