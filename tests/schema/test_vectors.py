# micropython-test heapsize=100K
# The golden vectors of the wire contract (shared_schema/vectors/*.json), checked by the same code under
# CPython (pytest) and under the real micropython binary with the heap of an ESP32 without PSRAM.
import gc
import json

from shared_schema import messages
from shared_schema.assurance import assurance
from shared_schema.canonical import canonical_bytes
from shared_schema.credentials import CredentialError, credential_hash, normalize
from shared_schema.hmac_sha256 import compare_digest, hmac_sha256
from shared_schema.schedule import grant_allows

try:
    from binascii import hexlify, unhexlify
except ImportError:  # pragma: no cover
    from ubinascii import hexlify, unhexlify


def _vectors_dir():
    parts = __file__.replace("\\", "/").split("/")
    root = "/".join(parts[:-3]) or "."
    return root + "/shared_schema/vectors/"


def _load(name):
    gc.collect()
    with open(_vectors_dir() + name) as f:
        return json.load(f)


def _wire(case):
    if "wire_hex" in case:
        return unhexlify(case["wire_hex"])
    return case["wire"].encode()


def _decode(vectors, case):
    return messages.decode(
        _wire(case),
        unhexlify(vectors["secret_hex"]),
        vectors["device_id"],
        case["direction"],
        case["last_counter"],
        case["now"],
    )


def _check_valid_file(name):
    vectors = _load(name)
    assert vectors["cases"], name
    for case in vectors["cases"]:
        message, error = _decode(vectors, case)
        assert error is None, (case["name"], error)
        assert message == case["message"], case["name"]
        # The wire form is the canonical form: re-encoding what was decoded gives the same bytes.
        assert canonical_bytes(message) == _wire(case), case["name"]
        assert len(_wire(case)) <= messages.MAX_MESSAGE_BYTES, case["name"]
        unsigned = messages.build(
            message["k"], message["d"], message["n"], message["p"], message["t"], message.get("x")
        )
        assert messages.sign(unsigned, unhexlify(vectors["secret_hex"])) == _wire(case), case["name"]
        message = None
        gc.collect()


def test_hmac_sha256_matches_rfc4231():
    for case in _load("hmac_sha256.json")["cases"]:
        mac = hmac_sha256(unhexlify(case["key_hex"]), unhexlify(case["data_hex"]))
        assert hexlify(mac).decode() == case["mac"], case["mac"]


def test_compare_digest():
    assert compare_digest(b"abc", b"abc")
    assert not compare_digest(b"abc", b"abd")
    assert not compare_digest(b"abc", b"ab")
    assert compare_digest(b"", b"")


def test_valid_messages_decode_and_reencode():
    _check_valid_file("messages_valid.json")


def test_largest_snapshot_chunk_decodes_within_small_heap():
    _check_valid_file("largest_snapshot_chunk.json")


def test_largest_event_batch_decodes_within_small_heap():
    _check_valid_file("largest_event_batch.json")


def test_invalid_messages_get_their_specific_error():
    vectors = _load("messages_invalid.json")
    assert len(vectors["cases"]) >= 30
    for case in vectors["cases"]:
        result = _decode(vectors, case)
        assert result == (None, case["expect_error"]), (case["name"], result)


def test_every_truncation_and_byte_flip_is_refused_without_exception():
    vectors = _load("messages_valid.json")
    secret = unhexlify(vectors["secret_hex"])
    case = vectors["cases"][0]
    wire = _wire(case)
    for cut in range(len(wire)):
        message, error = messages.decode(wire[:cut], secret, vectors["device_id"], case["direction"], 0, 0)
        assert message is None and error, cut
    seed = 12345
    for _ in range(300):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        position = seed % len(wire)
        flipped = bytearray(wire)
        flipped[position] ^= 1 << (seed >> 16) % 8
        device, direction = vectors["device_id"], case["direction"]
        message, error = messages.decode(bytes(flipped), secret, device, direction, 0, 0)
        assert (message is None) != (error is None)
        # A flip that still decodes can only be one that leaves the signed content equal (never here).
        assert message is None, (position, bytes(flipped))


def test_decoder_refuses_non_bytes():
    assert messages.decode(None, b"k" * 32, "lock-1", messages.DOWN, 0, 0) == (None, "not_bytes")
    assert messages.decode("{}", b"k" * 32, "lock-1", messages.DOWN, 0, 0) == (None, "not_bytes")


def test_encode_refuses_what_the_decoder_would_refuse():
    secret = b"k" * 32
    for kind, payload, expires, error in [
        ("cmd", {"id": "c", "action": "unlock"}, None, "missing_field:x"),
        ("cmd", {"id": "c", "action": "open_sesame"}, 1060, "bad_field:p.action"),
        ("ev_ack", {}, None, "missing_field:p.upto"),
        ("reboot", {}, None, "unknown_kind"),
        ("ev_ack", {"upto": 1, "extra": 0.5}, None, "not_canonical"),
    ]:
        try:
            messages.encode(kind, "lock-1", 1, payload, secret, 1000, expires)
        except messages.MessageError as exc:
            assert str(exc) == error, (kind, str(exc))
        else:
            raise AssertionError("encode accepted " + kind)


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
