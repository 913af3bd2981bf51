# Prepares a lock's data dir as the cloud's sync would leave it, on MicroPython: a `time` bound to the lock's
# challenge (its clock trusted from then on, the floor persisted) and a snapshot of the given entries.
#
#   micropython tests/firmware/sim_seed_lock.py SPEC.json     (run from the repo root)
#
# SPEC.json: {"config": {...the lock's config.json...}, "data_dir": ..., "now": unix, "until": unix,
# "ver": 1, "g": 1, "entries": [[table_hash_hex, role, from, until, windows], ...] (sorted)}.
# A lock started afterwards on this data dir with its RTC at or after `now` trusts its clock at boot (docs/
# FIRMWARE.md "Clock and trust"). Used by the end-to-end tests until the MQTT sync delivers these messages.
import asyncio
import json
import sys

if "." not in sys.path:
    sys.path.append(".")

# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
from tests.firmware import fwenv, fwhw  # noqa: F401

from core.app import LockApp


def main(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    hw = fwhw.FakeHardware(spec["data_dir"], now=spec["now"])
    app = LockApp(hw, spec["config"])
    app.new_challenge()  # the challenge the time answers, as in the sync
    error = app.apply_time(spec["now"], [[0, 0]], spec["until"])
    payload = {"ver": spec["ver"], "g": spec.get("g", 1), "i": 0, "of": 1, "e": spec["entries"]}
    ack = asyncio.run(app.apply_snapshot(payload, True))
    print("seed: time", error, "perm_ack", ack)
    return 0 if error is None and ack and ack["ok"] else 1


sys.exit(main(sys.argv[1]))
