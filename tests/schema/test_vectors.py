# micropython-test heapsize=100K
# The golden message vectors of the wire contract (shared_schema/vectors/), checked by the same code under
# CPython (pytest) and under the real micropython binary with the heap of an ESP32 without PSRAM. They are
# JSON Lines, read one case at a time so that a lock-sized heap holds only one message at once. Freshness,
# keys, rekey, encode's refusals, HMAC, credentials, schedules: test_vectors_rules.py (two files, so that
# each compiles into that heap from source).
import gc

gc.collect()
# Allocated once, before the contract's code is compiled into the heap (see vectorfiles.py).
_LINE = bytearray(4096)  # one line of a JSON Lines vector file; once parsed, one encoded message
_WIRE = bytearray(4096 + 64)  # one received message (the oversized vectors are a little over 4096)

from binascii import unhexlify  # noqa: E402

from shared_schema import messages  # noqa: E402
from shared_schema.canonical import is_canonical  # noqa: E402
from tests.schema import vectorfiles  # noqa: E402

# Cases at least this many per file: a generator that silently lost cases would fail here.
MIN_VALID_CASES = 25
MIN_INVALID_CASES = 160


def _cases(name):
    return vectorfiles.cases(name, _LINE)


def _wire(case):
    return vectorfiles.wire(case, _WIRE)


def _key(header, direction):
    return messages.direction_key(unhexlify(header["secret_hex"]), direction)


def _decode(header, case):
    return messages.decode(
        _wire(case),
        _key(header, case["direction"]),
        header["device_id"],
        header["epoch"],
        case["direction"],
        case["last_counter"],
    )


_ENVELOPE_FIELDS = ("v", "k", "d", "e", "n", "t", "x", "c", "p")


def _check_valid(header, case):
    wire = _wire(case)
    message, error = _decode(header, case)
    assert error is None, (case["name"], error)
    assert message == case["message"], case["name"]
    assert len(wire) <= messages.MAX_MESSAGE_BYTES, case["name"]
    # The wire form is the canonical form: re-encoding what was decoded gives the same bytes.
    assert is_canonical(message, wire[messages.MAC_HEX_CHARS :]), case["name"]
    if all(name in _ENVELOPE_FIELDS for name in message):  # encode() takes only the known envelope fields
        length = messages.encode_into(
            _LINE, message["k"], message["d"], message["e"], message["n"], message["p"],
            _key(header, case["direction"]), message["t"], message.get("x"), message.get("c"),
        )
        assert memoryview(_LINE)[:length] == wire, case["name"]


def test_valid_messages_decode_and_reencode():
    count = 0
    for header, case in _cases("messages_valid.jsonl"):
        _check_valid(header, case)
        count += 1
    assert count >= MIN_VALID_CASES, count


def test_largest_snapshot_chunk_decodes_within_small_heap():
    vectors = vectorfiles.load("largest_snapshot_chunk.json")
    _check_valid(vectors, vectors["cases"][0])


def test_largest_event_batch_decodes_within_small_heap():
    vectors = vectorfiles.load("largest_event_batch.json")
    _check_valid(vectors, vectors["cases"][0])


def test_invalid_messages_get_their_specific_error():
    count = 0
    for header, case in _cases("messages_invalid.jsonl"):
        result = _decode(header, case)
        assert result == (None, case["expect_error"]), (case["name"], result)
        count += 1
    assert count >= MIN_INVALID_CASES, count


def test_every_error_code_of_steps_1_to_8_has_a_vector():
    codes = {}
    for _header, case in _cases("messages_invalid.jsonl"):
        codes[case["expect_error"].split(":")[0]] = True
    for code in ("not_bytes", "too_short", "too_large", "bad_signature", "not_ascii", "too_deep",
                 "number_too_long", "string_too_long", "too_many_values", "not_json", "not_object",
                 "not_canonical", "missing_field", "bad_field", "unsupported_version", "unknown_kind",
                 "wrong_direction", "wrong_device", "wrong_epoch", "replayed"):
        assert code in codes, code


def test_every_truncation_and_byte_flip_is_refused_without_exception():
    header, case = next(_cases("messages_valid.jsonl"))
    wire = _wire(case)
    key = _key(header, case["direction"])
    device, epoch, direction = header["device_id"], header["epoch"], case["direction"]
    for cut in range(len(wire)):
        message, error = messages.decode(wire[:cut], key, device, epoch, direction, 0)
        assert message is None and error, cut
    seed = 12345
    for _ in range(300):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        position = seed % len(wire)
        flipped = bytearray(wire)
        flipped[position] ^= 1 << (seed >> 16) % 8
        message, error = messages.decode(flipped, key, device, epoch, direction, 0)
        # Every flip lands in the MAC or the BODY it covers: always refused, never an exception.
        assert message is None and error == "bad_signature", (position, error)


def test_decoder_accepts_a_memoryview_of_a_larger_buffer():
    header, case = next(_cases("messages_valid.jsonl"))
    received = _wire(case)  # a memoryview of the start of _WIRE, as a lock's receive buffer
    assert len(received) < len(_WIRE)
    message, error = messages.decode(received, _key(header, case["direction"]), header["device_id"],
                                     header["epoch"], case["direction"], 0)
    assert error is None and message == case["message"]
    assert messages.decode(bytes(received), _key(header, case["direction"]), header["device_id"],
                           header["epoch"], case["direction"], 0) == (message, None)
