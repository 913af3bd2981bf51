# The lock's own answer for the cloud's property tests: "the firmware's decision on the compiled table equals
# who-can-enter". Runs on the real MicroPython and imports under CPython.
#
# A case (JSON object):
#   entries  the lock's table as the cloud compiles it: wire entries [table_hash, role, valid_from,
#            valid_until, windows], sorted (docs/PROTOCOL.md); written with the firmware's own store writer
#   table    optional name of that table: a case with the same name reuses the store built for it (and may
#            leave out `entries`); without it, a case with the same entries as the previous one reuses it
#   lookup   the table hash to decide on (32 hex chars): no K_table needed here
#   now      Unix seconds, or null for a lock whose clock is not trusted
#   offsets  UTC-offset table [[start_utc, minutes], ...]; until: its horizon (null: none)
#   mode     normal | passage | lockdown
# answer: {"granted": bool, "reason": str} from core.decision (or {"error": code} when the store refuses the
# entries, e.g. entries_not_sorted); a case's "id" is echoed.
#
#   micropython -X heapsize=4M tests/firmware/lock_oracle.py < cases.jsonl     (one answer per line)
#   from tests.firmware.lock_oracle import Oracle; Oracle().decide(case)       (CPython, or MicroPython)
# ruff: noqa: I001, E402  (the firmware's import path is set up before its modules are imported)
import binascii
import json
import os
import sys


def _root():
    parts = __file__.replace("\\", "/").split("/")
    return "/".join(parts[:-3]) or "."


def _add_paths():
    root = _root()
    paths = [root, root + "/firmware"]
    if sys.implementation.name != "micropython":
        paths.append(root + "/tests/firmware/cpython")  # the `micropython.const` stand-in
    for path in paths:
        if path not in sys.path:
            sys.path.append(path)


_add_paths()

from core.decision import decide
from core.permformat import hash_bytes
from core.permstore import RESULT_APPLIED, PermStore
from shared_schema.vocabulary import MAX_ENTRIES_PER_CHUNK


class Oracle:
    """Builds stores with the firmware's writer in a temporary directory and decides with core.decision."""

    def __init__(self):
        self._dir = "/tmp/lock_oracle_" + binascii.hexlify(os.urandom(6)).decode()
        os.mkdir(self._dir)
        self._store = None
        self._table = None
        self._error = None

    def _load(self, case):
        entries = case.get("entries")
        table = case.get("table") or json.dumps(entries)
        if table == self._table:
            return
        if self._store is not None:
            self._store.close()
        for name in os.listdir(self._dir):
            os.remove(self._dir + "/" + name)
        self._store = PermStore(self._dir)
        self._table = table
        self._error = None
        count = (len(entries) + MAX_ENTRIES_PER_CHUNK - 1) // MAX_ENTRIES_PER_CHUNK or 1
        result = None
        for i in range(count):
            chunk = entries[i * MAX_ENTRIES_PER_CHUNK : (i + 1) * MAX_ENTRIES_PER_CHUNK]
            result = self._store.snapshot_chunk(1, 1, i, count, chunk)
        if result != RESULT_APPLIED:
            self._error = result

    def decide(self, case):
        self._load(case)
        answer = {}
        if "id" in case:
            answer["id"] = case["id"]
        key = hash_bytes(case.get("lookup"))
        if self._error is not None or key is None:
            answer["error"] = self._error or "bad_lookup"
            return answer
        now, offsets, until = case.get("now"), case.get("offsets") or [[0, 0]], case.get("until")
        verdict = decide(self._store, key, now, offsets, until, case.get("mode", "normal"))
        answer["granted"], answer["reason"] = verdict.granted, verdict.reason
        return answer

    def close(self):
        if self._store is not None:
            self._store.close()
            self._store = None
        for name in os.listdir(self._dir):
            os.remove(self._dir + "/" + name)
        os.rmdir(self._dir)


def decide_case(case):
    """One case, one store (for a single question; batches reuse an Oracle)."""
    oracle = Oracle()
    try:
        return oracle.decide(case)
    finally:
        oracle.close()


def main():
    oracle = Oracle()
    try:
        while True:
            line = sys.stdin.readline()
            if not line:
                break
            if line.strip():
                print(json.dumps(oracle.decide(json.loads(line))))
    finally:
        oracle.close()


if __name__ == "__main__":
    main()
