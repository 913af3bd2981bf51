# micropython-test heapsize=100K
# The golden vectors of the wire contract (shared_schema/vectors/), checked by the same code under CPython
# (pytest) and under the real micropython binary with the heap of an ESP32 without PSRAM. Message vectors
# are JSON Lines, read one case at a time so that a lock-sized heap holds only one message at once.
import gc
import json

from shared_schema import messages
from shared_schema.canonical import canonical_bytes
from shared_schema.credentials import (
    CredentialError,
    assurance,
    credential_hash,
    normalize,
    table_hash,
    table_key,
)
from shared_schema.hmac_sha256 import compare_digest, hmac_sha256
from shared_schema.schedule import grant_allows

try:
    from binascii import hexlify, unhexlify
except ImportError:  # pragma: no cover
    from ubinascii import hexlify, unhexlify

# Cases at least this many per file: a generator that silently lost cases would fail here.
MIN_VALID_CASES = 25
MIN_INVALID_CASES = 160


def _vectors_dir():
    parts = __file__.replace("\\", "/").split("/")
    root = "/".join(parts[:-3]) or "."
    return root + "/shared_schema/vectors/"


def _load(name):
    gc.collect()
    with open(_vectors_dir() + name) as f:
        return json.load(f)


def _cases(name):
    """(header, case) for every case of a JSON Lines vector file, one line in memory at a time."""
    with open(_vectors_dir() + name) as f:
        header = json.loads(f.readline())
        while True:
            gc.collect()
            line = f.readline()
            if not line.strip():
                return
            yield header, json.loads(line)


def _wire(case):
    if "wire_hex" in case:
        return unhexlify(case["wire_hex"])
    if "wire_parts" in case:
        return "".join([piece * count for piece, count in case["wire_parts"]]).encode()
    if "value" in case:
        return case["value"]  # not bytes at all
    return case["wire"].encode()


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
    assert canonical_bytes(message) == wire[messages.MAC_HEX_CHARS :], case["name"]
    if all(name in _ENVELOPE_FIELDS for name in message):  # encode() takes only the known envelope fields
        again = messages.encode(
            message["k"], message["d"], message["e"], message["n"], message["p"],
            _key(header, case["direction"]), message["t"], message.get("x"), message.get("c"),
        )
        assert again == wire, case["name"]


def test_valid_messages_decode_and_reencode():
    count = 0
    for header, case in _cases("messages_valid.jsonl"):
        _check_valid(header, case)
        count += 1
    assert count >= MIN_VALID_CASES, count


def test_largest_snapshot_chunk_decodes_within_small_heap():
    vectors = _load("largest_snapshot_chunk.json")
    _check_valid(vectors, vectors["cases"][0])


def test_largest_event_batch_decodes_within_small_heap():
    vectors = _load("largest_event_batch.json")
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
    wire = _wire(case)
    buffer = bytearray(messages.MAX_MESSAGE_BYTES)
    buffer[: len(wire)] = wire
    received = memoryview(buffer)[: len(wire)]
    message, error = messages.decode(received, _key(header, case["direction"]), header["device_id"],
                                     header["epoch"], case["direction"], 0)
    assert error is None and message == case["message"]


def test_encode_refuses_what_the_decoder_would_refuse():
    key = messages.direction_key(b"k" * 32, messages.DOWN)
    ack = {"upto": 1}
    nonce = "0" * 32
    for kind, payload, expires, challenge, error in [
        ("ev_ack", ack, None, None, "missing_field:x"),
        ("ev_ack", ack, 1000, None, "bad_field:x"),
        ("ev_ack", ack, 1601, None, "bad_field:x"),
        ("ev_ack", ack, 1060, "0" * 31, "bad_field:c"),
        ("time", {"now": 1000, "offsets": [[0, 0]], "until": 2000}, 1060, None, "missing_field:c"),
        ("hello", {}, 1060, None, "bad_field:x"),
        ("cmd", {"id": "c", "action": "open_sesame"}, 1060, None, "bad_field:p.action"),
        ("cmd", {"id": "c", "action": "lock", "dur": 5}, 1060, None, "bad_field:p.dur"),
        ("ev_ack", {}, 1060, None, "missing_field:p.upto"),
        ("reboot", {}, 1060, None, "unknown_kind"),
        ("ev_ack", {"upto": 1, "extra": 0.5}, 1060, None, "not_canonical"),
        ("ev_ack", {"upto": 1, "extra": [["0123456789"] * 40] * 10}, 1060, nonce, "too_large"),
        ("ev_ack", {"upto": 1, "extra": [[0] * 100] * 11}, 1060, None, "too_many_values"),
        ("ev_ack", {"upto": 1, "extra": [[[[[0]]]]]}, 1060, None, "too_deep"),
        ("ev_ack", {"upto": 1, "extra": "s" * 65}, 1060, None, "string_too_long"),
        ("ev_ack", {"upto": 1, "extra": 10**16}, 1060, None, "number_too_long"),
    ]:
        try:
            messages.encode(kind, "lock-1", 1, 1, payload, key, 1000, expires, challenge)
        except messages.MessageError as exc:
            assert str(exc) == error, (kind, str(exc), error)
        else:
            raise AssertionError("encode accepted %s, expected %s" % (kind, error))


def test_freshness_vectors():
    cases = _load("freshness.json")["cases"]
    assert len(cases) >= 20
    for case in cases:
        error = messages.freshness_error(case["message"], case["now"], case["trusted"], case["nonce"],
                                         case["nonce_age_s"], case["resync"])
        assert error == case["expect"], (case["name"], error)


def test_key_derivation_and_table_hashes():
    vectors = _load("keys.json")
    for case in vectors["secrets"]:
        secret = unhexlify(case["secret_hex"])
        assert hexlify(messages.direction_key_bytes(secret, messages.UP)).decode() == case["k_up_hex"]
        assert hexlify(messages.direction_key_bytes(secret, messages.DOWN)).decode() == case["k_down_hex"]
        k_up = unhexlify(case["k_up_hex"])
        assert messages.direction_key(secret, messages.UP).mac(b"x") == hmac_sha256(k_up, b"x")
        k_table = table_key(secret)
        assert k_table.mac(b"x") == hmac_sha256(unhexlify(case["k_table_hex"]), b"x")
        for pair in case["table_hashes"]:
            assert table_hash(k_table, pair["cred_id"]) == pair["table_hash"]


def test_rekey_wrapping():
    vectors = _load("keys.json")
    for case in vectors["rekey"]:
        k_down = messages.direction_key(unhexlify(case["secret_hex"]), messages.DOWN)
        new_secret = unhexlify(case["new_secret_hex"])
        assert messages.wrap_secret(new_secret, k_down, case["counter"]) == case["wrapped"]
        assert messages.unwrap_secret(case["wrapped"], k_down, case["counter"]) == new_secret
        # The pad is bound to the message's counter: another counter yields another secret.
        assert messages.unwrap_secret(case["wrapped"], k_down, case["counter"] + 1) != new_secret


def test_rekey_message_carries_the_new_secret():
    wrapping = _load("keys.json")["rekey"][0]
    for header, case in _cases("messages_valid.jsonl"):
        if case["message"]["k"] == "rekey":
            message = _decode(header, case)[0]
            k_down = _key(header, messages.DOWN)
            secret = messages.unwrap_secret(message["p"]["wrapped"], k_down, message["n"])
            assert hexlify(secret).decode() == wrapping["new_secret_hex"]
            return
    raise AssertionError("no rekey vector")


def test_entry_sort_key_is_the_wire_order():
    for _header, case in _cases("messages_valid.jsonl"):
        payload = case["message"]["p"]
        entries = payload.get("e") if case["message"]["k"] == "snap" else payload.get("add")
        if case["message"]["k"] in ("snap", "delta") and len(entries) > 1:
            assert sorted(reversed(entries), key=messages.entry_sort_key) == entries, case["name"]


def test_hmac_sha256_matches_rfc4231():
    for case in _load("hmac_sha256.json")["cases"]:
        mac = hmac_sha256(unhexlify(case["key_hex"]), unhexlify(case["data_hex"]))
        assert hexlify(mac).decode() == case["mac"], case["mac"]


def test_compare_digest():
    assert compare_digest(b"abc", b"abc")
    assert not compare_digest(b"abc", b"abd")
    assert not compare_digest(b"abc", b"ab")
    assert compare_digest(b"", b"")
    assert compare_digest(memoryview(b"xabc")[1:], b"abc")


def test_credential_hashes_and_normalization():
    vectors = _load("credentials.json")
    site_key = unhexlify(vectors["site_key_hex"])
    for case in vectors["cases"]:
        normalized = normalize(case["kind"], case["identifier"])
        assert hexlify(normalized).decode() == case["normalized_hex"], case
        assert credential_hash(site_key, case["kind"], case["identifier"]) == case["hash"], case
        assert assurance(case["kind"], normalized) == case["assurance"], case


def test_unusable_credentials_get_their_specific_error():
    vectors = _load("credentials.json")
    for case in vectors["invalid"]:
        try:
            normalize(case["kind"], case["identifier"])
        except CredentialError as exc:
            assert str(exc) == case["error"], (case, str(exc))
        else:
            raise AssertionError("accepted " + case["identifier"])


def test_schedule_vectors():
    for case in _load("schedules.json")["cases"]:
        allowed = grant_allows(
            case["valid_from"], case["valid_until"], case["windows"], case["utc"], case["offsets"]
        )
        assert allowed == case["expect"], case["name"]


def test_topics():
    assert messages.topic("lock-0001", messages.UP) == "locks/lock-0001/up"
    assert messages.topic("lock-0001", messages.DOWN) == "locks/lock-0001/down"
    assert messages.topic("lock-0001", messages.STATUS) == "locks/lock-0001/status"


def test_precomputed_hmac_key_gives_the_same_credential_hash():
    from shared_schema.credentials import credential_hash_bytes
    from shared_schema.hmac_sha256 import HmacKey

    vectors = _load("credentials.json")
    site_key = unhexlify(vectors["site_key_hex"])
    padded_once = HmacKey(site_key)
    for case in vectors["cases"]:
        normalized = unhexlify(case["normalized_hex"])
        assert hexlify(credential_hash_bytes(padded_once, normalized)).decode() == case["hash"]
        assert credential_hash_bytes(padded_once, normalized) == credential_hash_bytes(site_key, normalized)
