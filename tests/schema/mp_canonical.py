# Runs on MicroPython (started by test_canonical_differential.py): reads one JSON value per line of the
# file given as argument, writes the canonical encoding of each (shared_schema.canonical) as one line.
import sys

sys.path.insert(0, ".")
import json  # noqa: E402

from shared_schema.canonical import CanonicalError, canonical_bytes  # noqa: E402

with open(sys.argv[1]) as cases:
    for line in cases:
        try:
            print(canonical_bytes(json.loads(line)).decode())
        except CanonicalError as exc:
            print("!CanonicalError", exc)
