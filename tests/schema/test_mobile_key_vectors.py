"""shared_schema/vectors/mobile_keys.json, the reference for a phone app: its derivations recomputed here
with the standard library's hmac (none of shared_schema's code), and every presentation in it decided by the
lock's own code (core.mobilekey, imported under CPython) with the reason the file names."""

import hashlib
import hmac
import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "shared_schema" / "vectors" / "mobile_keys.json").read_text())


def _mac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def test_the_derivations_follow_the_protocol_text() -> None:
    lock, key, derived = VECTORS["lock"], VECTORS["key"], VECTORS["derived"]
    device_id = lock["device_id"].encode()
    key_id, secret = bytes.fromhex(key["key_id_hex"]), bytes.fromhex(key["secret_hex"])
    k_mobile = _mac(bytes.fromhex(lock["device_secret_hex"]), b"openakerun/v2/mobile")
    k_door = _mac(secret, b"door/" + device_id)[:16]
    pad = _mac(k_mobile, b"wrap" + key_id)[:16]
    wrap = bytes(a ^ b for a, b in zip(k_door, pad, strict=True))
    body = f"{lock['device_id']} {lock['generations'][0]} {wrap.hex()} {key['common']}".encode()
    answer = _mac(k_door, bytes.fromhex(lock["challenge_hex"]) + device_id + key_id)[:16]
    assert derived == {
        "k_mobile_hex": k_mobile.hex(), "k_door_hex": k_door.hex(), "wrap_hex": wrap.hex(),
        "ticket_body": body.decode(), "mac_hex": _mac(k_mobile, body)[:16].hex(), "answer_hex": answer.hex(),
    }
    good = VECTORS["presentations"][0]
    assert good["expect"] is None
    head = f"{lock['challenge_hex']} {answer.hex()} {derived['mac_hex']} "
    assert good["presentation"] == head + body.decode()
    common = json.loads(key["common"])
    assert common["k"] == key["key_id_hex"] and common["v"] == 1
    assert json.dumps(common, sort_keys=True, separators=(",", ":")) == key["common"]  # canonical


def _lock_exchange() -> Any:
    for path in (str(ROOT / "firmware"), str(ROOT / "tests" / "firmware" / "cpython")):
        if path not in sys.path:
            sys.path.append(path)
    from core.mobilekey import PhoneExchange  # the lock's code, with the micropython.const stand-in

    from shared_schema.mobilekeys import mobile_key

    lock = VECTORS["lock"]
    exchange = PhoneExchange(lock["device_id"].encode(), lambda: 1000, lambda a, b: a - b)
    challenges = exchange.challenges
    challenges.issue()
    challenges.current[:] = lock["spent_challenge_hex"].encode()
    challenges._spend()  # answered already
    challenges.issue()
    challenges.current[:] = lock["challenge_hex"].encode()  # the current one
    k_mobile = mobile_key(bytes.fromhex(lock["device_secret_hex"]))
    return exchange, lambda g: k_mobile if g in lock["generations"] else None


@pytest.mark.parametrize("case", VECTORS["presentations"], ids=lambda case: case["name"])
def test_the_lock_decides_each_presentation_as_the_file_says(case: dict[str, Any]) -> None:
    exchange, keys = _lock_exchange()
    assert exchange.feed("S", case["presentation"].encode()) is None
    result = exchange.check(keys)
    assert result.reason == case["expect"]
    if case["expect"] is None:
        assert result.key_id.hex() == VECTORS["key"]["key_id_hex"] and result.windows == [[31, 540, 1080]]
