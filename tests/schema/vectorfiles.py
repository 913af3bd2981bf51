# Reading the golden vector files (shared_schema/vectors/) on CPython and on a lock-sized MicroPython heap.
#
# The buffers are the caller's, allocated before the contract's code is compiled from source into the heap:
# after that, a 100 KB heap is too fragmented to offer 4 KB in one piece (a lock runs the same code frozen
# into flash or from .mpy, and allocates its receive and transmit buffers once at boot).
import gc
import json
from binascii import unhexlify


def _vectors_dir():
    parts = __file__.replace("\\", "/").split("/")
    root = "/".join(parts[:-3]) or "."
    return root + "/shared_schema/vectors/"


def load(name):
    """A JSON vector file, parsed from the stream (no copy of its text in memory)."""
    gc.collect()
    with open(_vectors_dir() + name) as f:
        return json.load(f)


def _parse(view):
    # MicroPython's json reads a memoryview in place; CPython's wants bytes.
    try:
        return json.loads(view)
    except TypeError:
        return json.loads(bytes(view))


def cases(name, line_buffer):
    """(header, case) for every case of a JSON Lines vector file, each line read into line_buffer."""
    view = memoryview(line_buffer)
    header = None
    offset = 0
    with open(_vectors_dir() + name, "rb") as f:
        while True:
            gc.collect()
            f.seek(offset)
            length = f.readinto(line_buffer)
            if not length:
                return
            end = line_buffer.find(b"\n", 0, length)
            assert end > 0, "line longer than the line buffer at %d" % offset
            offset += end + 1
            item = _parse(view[:end])
            if header is None:
                header = item
            else:
                yield header, item


def wire(case, wire_buffer):
    """The case's message bytes written into wire_buffer (a memoryview of them is returned), or its
    "value" when that is not bytes at all (the not_bytes vectors)."""
    if "value" in case:
        return case["value"]
    if "wire_hex" in case:
        data = unhexlify(case["wire_hex"])
        wire_buffer[: len(data)] = data
        return memoryview(wire_buffer)[: len(data)]
    parts = case["wire_parts"] if "wire_parts" in case else [[case["wire"], 1]]
    end = 0
    for piece, count in parts:
        piece = piece.encode()
        for _ in range(count):
            wire_buffer[end : end + len(piece)] = piece
            end += len(piece)
    return memoryview(wire_buffer)[:end]
