# Runs on MicroPython (started by tools/bench_schema.py): the wire contract's costs on a lock-sized heap.
# Times are per message (mean over ROUNDS); "alloc" is what one call allocates with the GC off (an upper
# bound of its peak heap); "import" is the heap that importing shared_schema.messages keeps (from source).
import gc
import sys
import time

gc.collect()
_RECEIVED = bytearray(4096)  # a lock's receive and transmit buffers, allocated at boot
_SENT = bytearray(4096)

sys.path.insert(0, ".")
import json  # noqa: E402


def _import_messages():
    gc.collect()
    before = gc.mem_free()
    from shared_schema import messages

    gc.collect()
    return messages, before - gc.mem_free()


messages, _IMPORT_HEAP = _import_messages()
from binascii import unhexlify  # noqa: E402

from shared_schema.credentials import credential_hash_bytes, normalize  # noqa: E402
from shared_schema.hmac_sha256 import HmacKey  # noqa: E402

ROUNDS = 50


def _measure(call):
    """(microseconds per call, bytes one call allocates or -1 if more than the free heap, its result)."""
    result = call()
    gc.collect()
    gc.disable()
    before = gc.mem_free()
    try:
        call()
        allocated = before - gc.mem_free()
    except MemoryError:
        allocated = -1
    gc.enable()
    gc.collect()
    start = time.ticks_us()
    for _ in range(ROUNDS):
        call()
    return time.ticks_diff(time.ticks_us(), start) / ROUNDS, allocated, result


def _report(label, size, measured):
    elapsed, allocated, result = measured
    allocated = "%6d B" % allocated if allocated >= 0 else "> free heap"  # noqa: UP031
    print("%-50s %5d bytes %9.0f us %12s alloc  -> %s"  # noqa: UP031 (MicroPython)
          % (label, size, elapsed, allocated, result))


def _largest(name):
    gc.collect()
    with open("shared_schema/vectors/" + name) as f:
        vectors = json.load(f)
    case = vectors["cases"][0]
    end = 0
    for piece, count in case["wire_parts"]:
        piece = piece.encode()
        for _ in range(count):
            _RECEIVED[end : end + len(piece)] = piece
            end += len(piece)
    return vectors, case, end


def _bench_decode(name):
    vectors, case, end = _largest(name)
    key = messages.direction_key(unhexlify(vectors["secret_hex"]), case["direction"])
    device, epoch, direction = vectors["device_id"], vectors["epoch"], case["direction"]
    message = case["message"]
    vectors = case = None
    wire = memoryview(_RECEIVED)[:end]

    def decode():
        return messages.decode(wire, key, device, epoch, direction, 0)[1]

    _report("decode + verify " + name, end, _measure(decode))

    def encode():
        return messages.encode_into(_SENT, message["k"], message["d"], message["e"], message["n"],
                                    message["p"], key, message["t"], message.get("x"), message.get("c"))

    _report("encode_into (same message)", end, _measure(encode))


def _bench_refusals():
    key = messages.direction_key(b"s" * 32, messages.DOWN)
    end = len(_RECEIVED)
    view = memoryview(_RECEIVED)

    def body(head, filler, tail):
        # MAC || head, filler repeated, tail: exactly 4096 bytes.
        at = 64 + len(head)
        _RECEIVED[64:at] = head
        while at < end - len(tail):
            piece = filler[: end - len(tail) - at]
            _RECEIVED[at : at + len(piece)] = piece
            at += len(piece)
        _RECEIVED[at:end] = tail

    def sign(valid):
        _RECEIVED[:64] = messages.mac_hex(key, view[64:end]) if valid else b"0" * 64

    def decode():
        return messages.decode(view, key, "lock-1", 1, messages.DOWN, 0)[1]

    body(b'{"n":', b"7", b"}")
    sign(False)
    _report("refuse a forged 4 KB message", end, _measure(decode))
    sign(True)
    _report("refuse a signed 4,000-digit number (17th digit)", end, _measure(decode))
    body(b'{"n":["', b'abcdefghijklmn","', b"s" * 65 + b'"]}')
    sign(True)
    _report("refuse a signed 4 KB body at its end (pre-scan)", end, _measure(decode))
    body(b'{"n":1', b" ", b"}")
    sign(True)
    _report("refuse a signed 4 KB non-canonical body", end, _measure(decode))
    body(b'{"n":[', b" ", b"}")
    sign(True)
    _report("refuse a signed 4 KB non-JSON body", end, _measure(decode))


def _bench_credential_hash():
    normalized = normalize("felica", b"\x01\x02\x03\x04\x05\x06\x07\x08")
    padded_once = HmacKey(b"k" * 32)
    for label, key in (("credential hash, key bytes", b"k" * 32), ("credential hash, HmacKey", padded_once)):
        _report(label, 9, _measure(lambda: len(credential_hash_bytes(key, normalized))))  # noqa: B023


print("import shared_schema.messages (from source): %d bytes of heap" % _IMPORT_HEAP)  # noqa: UP031
_bench_decode("largest_snapshot_chunk.json")
_bench_decode("largest_event_batch.json")
_bench_refusals()
_bench_credential_hash()
