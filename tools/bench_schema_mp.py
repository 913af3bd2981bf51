# Runs on MicroPython (started by tools/bench_schema.py): decode and encode timings of the wire contract.
import gc
import json
import sys
import time

sys.path.insert(0, ".")
from binascii import unhexlify  # noqa: E402

from shared_schema import messages  # noqa: E402
from shared_schema.credentials import credential_hash_bytes, normalize  # noqa: E402
from shared_schema.hmac_sha256 import HmacKey  # noqa: E402

ROUNDS = 50


def _case(name):
    with open("shared_schema/vectors/" + name) as f:
        vectors = json.load(f)
    return vectors, vectors["cases"][0]


def _bench_decode(name):
    vectors, case = _case(name)
    secret = unhexlify(vectors["secret_hex"])
    wire = case["wire"].encode()
    device, direction = vectors["device_id"], case["direction"]
    vectors = case = None
    gc.collect()
    free_before = gc.mem_free()
    start = time.ticks_us()
    for _ in range(ROUNDS):
        error = messages.decode(wire, secret, device, direction, 0, 10)[1]
        assert error is None
    elapsed = time.ticks_diff(time.ticks_us(), start) / ROUNDS
    print(
        "decode %-28s %5d bytes  %8.0f us/message  heap free before %d"  # noqa: UP031 (MicroPython)
        % (name, len(wire), elapsed, free_before)
    )


def _bench_credential_hash():
    normalized = normalize("felica", b"\x01\x02\x03\x04\x05\x06\x07\x08")
    padded_once = HmacKey(b"k" * 32)
    hashers = (
        ("key bytes", lambda n: credential_hash_bytes(b"k" * 32, n)),
        ("HmacKey", lambda n: credential_hash_bytes(padded_once, n)),
    )
    for label, hash_once in hashers:
        gc.collect()
        gc.disable()  # so that mem_free() falls by exactly what one hash allocates
        before = gc.mem_free()
        hash_once(normalized)
        allocated = before - gc.mem_free()
        gc.enable()
        start = time.ticks_us()
        for _ in range(1000):
            hash_once(normalized)
        elapsed = time.ticks_diff(time.ticks_us(), start) / 1000
        print(
            "credential hash, %-13s %8.1f us/hash  %4d bytes allocated/hash"  # noqa: UP031 (MicroPython)
            % (label, elapsed, allocated)
        )


_bench_decode("messages_valid.json")
_bench_decode("largest_snapshot_chunk.json")
_bench_decode("largest_event_batch.json")
_bench_credential_hash()
