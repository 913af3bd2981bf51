# micropython-test heapsize=100K
# What decoding hostile input costs a lock's heap, on the real MicroPython with an ESP32-sized heap:
# a burst of forged messages leaves the heap as it was, refusing a forged or oversized-number message
# allocates nothing in proportion to it, the pre-scan refuses before json.loads ever runs, and running out
# of heap anywhere in decode() is internal_error, never a misleading code.
import gc

gc.collect()
# The lock's receive buffer, allocated before the code is compiled into the heap (see vectorfiles.py).
_RECEIVED = bytearray(4096)

from shared_schema import messages  # noqa: E402

KEY = messages.direction_key(b"s" * 32, messages.DOWN)
DEVICE = "lock-1"
EPOCH = 1
BURST = 60
# Room for the forged content after the MAC.
_BODY_ROOM = len(_RECEIVED) - messages.MAC_HEX_CHARS


def _put(buffer, at, data):
    buffer[at : at + len(data)] = data
    return at + len(data)


def _put_digits(buffer, at, number, width):
    # The decimal digits of `number`, zero-padded to `width`, written without allocating a string.
    for i in range(width - 1, -1, -1):
        buffer[at + i] = 0x30 + number % 10
        number //= 10
    return at + width


def _unique_keys(serial):
    # About 450 bytes: an object of 24 keys and string values never seen before (they differ per serial).
    at = _put(_RECEIVED, messages.MAC_HEX_CHARS, b"{")
    for field in range(24):
        if field:
            at = _put(_RECEIVED, at, b",")
        at = _put(_RECEIVED, at, b'"k')
        at = _put_digits(_RECEIVED, at, serial * 100 + field, 6)
        at = _put(_RECEIVED, at, b'":"v')
        at = _put_digits(_RECEIVED, at, serial * 100 + field, 6)
        at = _put(_RECEIVED, at, b'"')
    return _put(_RECEIVED, at, b"}")


def _long_number(digits):
    at = _put(_RECEIVED, messages.MAC_HEX_CHARS, b'{"n":')
    for i in range(digits):
        _RECEIVED[at + i] = 0x31 + i % 9
    return _put(_RECEIVED, at + digits, b"}")


def _deep(levels):
    at = messages.MAC_HEX_CHARS
    for i in range(levels):
        _RECEIVED[at + i] = 0x5B  # [
    at += levels
    for i in range(levels):
        _RECEIVED[at + i] = 0x5D  # ]
    return at + levels


def _sealed(end, valid_mac):
    """The message in _RECEIVED[:end], with a correct MAC or a forged one (hex, but not the MAC)."""
    body = memoryview(_RECEIVED)[messages.MAC_HEX_CHARS : end]
    if valid_mac:
        _RECEIVED[: messages.MAC_HEX_CHARS] = messages.mac_hex(KEY, body)
    else:
        for i in range(messages.MAC_HEX_CHARS):
            _RECEIVED[i] = 0x30 + i % 10
    return memoryview(_RECEIVED)[:end]


def _decode(message):
    return messages.decode(message, KEY, DEVICE, EPOCH, messages.DOWN, 0)


def _burst(rounds, serial_from):
    # Every kind of hostile message, forged and correctly MAC'd, each refused; returns how many.
    refused = 0
    for serial in range(serial_from, serial_from + rounds):
        for valid_mac in (False, True):
            for end in (_unique_keys(serial), _long_number(3900), _deep(1900)):
                message, error = _decode(_sealed(end, valid_mac))
                assert message is None and error, error
                refused += 1
    return refused


def test_a_burst_of_forged_messages_leaves_the_heap_as_it_was():
    _burst(2, 0)  # warm-up: first-call caches (method lookups, the strict JSON path) are not a leak
    gc.collect()
    before = gc.mem_free()
    refused = _burst(BURST, 1000)
    gc.collect()
    after = gc.mem_free()
    assert refused == BURST * 6
    # Tolerance 0: everything decode() allocates is garbage once it returns, and MicroPython's json does
    # not intern keys or strings (unique ones would otherwise pile up as qstrs). Measured: equal.
    assert after == before, (before, after)


def _allocated(end, valid_mac):
    # Bytes allocated by one decode() of the message in _RECEIVED[:end], with the GC off so that nothing
    # is reclaimed during the call (an upper bound of its peak heap).
    message = _sealed(end, valid_mac)
    gc.collect()
    gc.disable()
    before = gc.mem_free()
    error = _decode(message)[1]
    allocated = before - gc.mem_free()
    gc.enable()
    return allocated, error


def test_refusals_before_parsing_allocate_nothing_in_proportion_to_the_message():
    # A forged MAC (step 2) and the pre-scan (step 3) cost the same for 4 KB as for 100 bytes.
    small_forged = _allocated(_long_number(30), False)
    large_forged = _allocated(_long_number(3900), False)
    assert small_forged[1] == large_forged[1] == "bad_signature"
    assert large_forged[0] == small_forged[0], (small_forged, large_forged)
    small_number = _allocated(_long_number(17), True)
    large_number = _allocated(_long_number(3900), True)
    assert small_number[1] == large_number[1] == "number_too_long"
    assert large_number[0] == small_number[0], (small_number, large_number)
    shallow = _allocated(_deep(7), True)
    deep = _allocated(_deep(1900), True)
    assert shallow[1] == deep[1] == "too_deep"
    assert deep[0] == shallow[0], (shallow, deep)
    # And it is small: a few hash objects and memoryviews (about 800 bytes measured), under a 4 KB message.
    assert large_forged[0] < 1024 and large_number[0] < 1024, (large_forged, large_number)


class _NoParser:
    def loads(self, text):
        raise AssertionError("json.loads ran on a message the pre-scan should have refused")


class _OutOfHeap:
    def loads(self, text):
        raise MemoryError()


def _with_json(stand_in, message):
    real = messages.json
    messages.json = stand_in
    try:
        return _decode(message)
    finally:
        messages.json = real


def test_a_signed_3900_digit_number_is_refused_by_the_pre_scan_without_json_loads():
    result = _with_json(_NoParser(), _sealed(_long_number(3900), True))
    assert result == (None, "number_too_long"), result


def test_memory_error_in_json_loads_is_internal_error_not_not_json():
    result = _with_json(_OutOfHeap(), _sealed(_unique_keys(7), True))
    assert result == (None, "internal_error"), result


def test_running_out_of_heap_anywhere_in_decode_is_internal_error():
    entries = [["%032x" % n, 0, 0, 0, [[127, 480, 1080]]] for n in range(12)]
    payload = {"ver": 2, "g": 1, "i": 0, "of": 1, "e": entries}
    length = messages.encode_into(_RECEIVED, "snap", DEVICE, EPOCH, 9, payload, KEY, 1000, 1060)
    wire = memoryview(_RECEIVED)[:length]
    assert _decode(wire)[1] is None
    outcomes = {"ok": 0, "internal_error": 0}
    other = None
    # Fill the heap to the last small block (largest blocks first, chained so that no list has to grow),
    # then give back one block at a time, smallest first: decode() runs out of heap at every point of its
    # work in turn, until it has enough.
    hog = None
    gc.collect()
    for size in (4096, 1024, 256, 64, 16):
        try:
            while True:
                hog = (bytearray(size), hog)
        except MemoryError:
            pass
    while hog is not None and outcomes["ok"] < 3:
        hog = hog[1]
        error = _decode(wire)[1]
        if error is None:
            outcomes["ok"] += 1
        elif error == "internal_error":
            outcomes["internal_error"] += 1
        else:
            other = error
            break
    hog = None
    gc.collect()
    assert other is None, other
    assert outcomes["internal_error"] > 10 and outcomes["ok"] == 3, outcomes
