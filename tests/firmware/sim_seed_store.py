# Writes a permission snapshot into a lock's data dir with the core's own PermStore, on MicroPython.
#
#   micropython tests/firmware/sim_seed_store.py SNAPSHOT.json     (run from the repo root)
#
# SNAPSHOT.json: {"data_dir": ..., "ver": 1, "g": 1, "entries": [[table_hash_hex, role, from, until,
# windows], ...]} (entries keyed by the lock's table hashes and sorted, as the cloud sends them).
# test_sim_end_to_end.py uses it before starting the simulated lock: the messaging layer that delivers
# snapshots over MQTT is not part of this firmware yet, so the store is prepared through the data dir,
# exactly as the lock will later find it on flash.
import json
import sys

for path in ("firmware", "."):
    if path not in sys.path:
        sys.path.append(path)

from core.permstore import RESULT_APPLIED, PermStore  # noqa: E402


def main(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    store = PermStore(spec["data_dir"])
    result = store.snapshot_chunk(spec["ver"], spec.get("g", 1), 0, 1, spec["entries"])
    store.close()
    print("seed:", result, "version", store.version)
    return 0 if result == RESULT_APPLIED else 1


sys.exit(main(sys.argv[1]))
