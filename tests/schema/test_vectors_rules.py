# micropython-test heapsize=100K
# The golden vectors of the contract's rules beside the message vectors (test_vectors.py): freshness, keys,
# table hashes, rekey wrapping, what encode() refuses, entry order, HMAC, credentials, schedules. Checked by
# the same code under CPython (pytest) and under the real micropython binary.
import gc

gc.collect()
_BUFFER = bytearray(4096)  # allocated before the code is compiled into the heap (see vectorfiles.py)

from binascii import hexlify, unhexlify  # noqa: E402

from shared_schema import messages  # noqa: E402
from shared_schema.assurance import assurance  # noqa: E402
from shared_schema.credentials import (  # noqa: E402
    CredentialError,
    credential_hash,
    normalize,
    table_hash,
    table_key,
)
from shared_schema.hmac_sha256 import compare_digest, hmac_sha256  # noqa: E402
from shared_schema.schedule import grant_allows  # noqa: E402
from tests.schema.vectorfiles import cases, load  # noqa: E402

_load = load


def _valid_messages(kinds):
    # (header, case) of the valid message vectors of these kinds.
    for header, case in cases("messages_valid.jsonl", _BUFFER):
        if case["message"]["k"] in kinds:
            yield header, case


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


def test_wire_hash_length_is_the_credentials_one():
    from shared_schema.credentials import HASH_HEX_CHARS
    from shared_schema.vocabulary import CRED_HEX_CHARS

    assert CRED_HEX_CHARS == HASH_HEX_CHARS


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
            messages.encode_into(_BUFFER, kind, "lock-1", 1, 1, payload, key, 1000, expires, challenge)
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


def test_rekey_message_carries_the_new_secret():
    wrapping = _load("keys.json")["rekey"][0]
    found = 0
    for header, case in _valid_messages(("rekey",)):
        k_down = messages.direction_key(unhexlify(header["secret_hex"]), messages.DOWN)
        message, error = messages.decode(case["wire"].encode(), k_down, header["device_id"], header["epoch"],
                                         messages.DOWN, 0)
        assert error is None, error
        secret = messages.unwrap_secret(message["p"]["wrapped"], k_down, message["n"])
        assert hexlify(secret).decode() == wrapping["new_secret_hex"]
        found += 1
    assert found


def test_entry_sort_key_is_the_wire_order():
    checked = 0
    for _header, case in _valid_messages(("snap", "delta")):
        payload = case["message"]["p"]
        entries = payload["e"] if case["message"]["k"] == "snap" else payload["add"]
        if len(entries) > 1:
            assert sorted(reversed(entries), key=messages.entry_sort_key) == entries, case["name"]
            checked += 1
    assert checked >= 3, checked


def test_only_a_resync_hello_resets_the_uplink_counter():
    hello = {"k": "hello", "n": 3, "p": {"resync": True}}
    assert messages.is_counter_reset(hello, 40)
    assert messages.is_counter_reset(hello, 3)
    assert not messages.is_counter_reset(hello, 2)  # above the last: an ordinary hello
    assert not messages.is_counter_reset(hello, None)
    assert not messages.is_counter_reset({"k": "hello", "n": 3, "p": {"resync": False}}, 40)
    assert not messages.is_counter_reset({"k": "state", "n": 3, "p": {"resync": True}}, 40)
