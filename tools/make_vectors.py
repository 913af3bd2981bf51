"""Regenerate shared_schema/vectors/*.json, the golden test vectors of the wire contract.

    .venv/bin/python -m tools.make_vectors

The vectors are data, checked by tests/schema/test_vectors.py under CPython and the real micropython.
Valid messages are produced by shared_schema itself; tests/schema/test_independent.py re-derives every
signature and credential hash with CPython's own hmac and json modules, so a bug in the shared code cannot
quietly bless itself. Review the diff of the JSON files whenever this is re-run: a changed byte is a
protocol change (bump PROTOCOL_VERSION and add a line to docs/PROTOCOL.md's changelog).
"""

import json
from pathlib import Path

from shared_schema import messages as m
from shared_schema.assurance import assurance
from shared_schema.credentials import (
    KIND_FELICA,
    KIND_ISO14443A,
    KIND_PHONE,
    CredentialError,
    credential_hash,
    normalize,
)

OUT = Path(__file__).resolve().parent.parent / "shared_schema" / "vectors"
SECRET = bytes(range(32))
SITE_KEY = bytes(range(100, 132))
DEVICE = "lock-0001"
T0 = 1764115200  # 2025-11-26T00:00:00Z
HASH_A = credential_hash(SITE_KEY, KIND_FELICA, "0102030405060708")
HASH_B = credential_hash(SITE_KEY, KIND_ISO14443A, "04A1B2C3D4E580")
HASH_C = credential_hash(SITE_KEY, KIND_PHONE, "00112233445566778899aabbccddeeff")
ORDERED = sorted([HASH_A, HASH_B, HASH_C])
OFFSETS_TOKYO = [[0, 540]]
OFFSETS_BERLIN = [[1743296400, 120], [1761440400, 60]]


def _write(name: str, data: object) -> None:
    (OUT / name).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _valid(name, kind, counter, payload, direction_last=0, now=T0 + 10, expires=None, device=DEVICE):
    wire = m.encode(kind, device, counter, payload, SECRET, T0, expires)
    return {
        "name": name,
        "direction": m.KINDS[kind][0],
        "last_counter": direction_last,
        "now": now,
        "wire": wire.decode(),
        "message": json.loads(wire),
    }


def _worst_case_snapshot():
    window = [m.ROLE_ADMIN and 127, 1439, 1438]
    entries = []
    for i in range(m.MAX_ENTRIES_PER_CHUNK):
        entries.append([f"{0xFFFFFFFF00 + i:032x}", 1, m.MAX_COUNTER - 1, m.MAX_COUNTER, [window] * 8])
    payload = {"ver": m.MAX_COUNTER, "i": 99998, "of": 99999, "e": entries}
    return _valid("snapshot_chunk_worst_case_size", "snap", m.MAX_COUNTER, payload, device="x" * 32)


def _worst_case_events():
    events = []
    for i in range(m.MAX_EVENTS_PER_BATCH):
        events.append([m.MAX_COUNTER - 40 + i, m.MAX_COUNTER, "remote_unlock", "f" * 32, "r" * 24])
    payload = {"ev": events, "dropped": m.MAX_COUNTER}
    return _valid("event_batch_worst_case_size", "events", m.MAX_COUNTER, payload, device="x" * 32)


def valid_messages() -> list:
    entry_always = [ORDERED[0], m.ROLE_NORMAL, 0, 0, []]
    entry_office = [ORDERED[1], m.ROLE_NORMAL, T0, T0 + 30 * 86400, [[0x1F, 540, 1080]]]
    entry_night = [ORDERED[2], m.ROLE_ADMIN, 0, 0, [[0x7F, 1320, 360]]]
    return [
        _valid("hello", "hello", 1, {"fw": "0.1.0", "pv": 0, "boot": "power_on", "clk": "none",
                                     "sync_age": -1, "mode": "normal", "pending": 0, "dropped": 0}),
        _valid("state", "state", 7, {"door": "closed", "bolt": "locked", "mode": "normal", "pv": 3,
                                     "pending": 2, "dropped": 0}, direction_last=6),
        _valid("perm_ack_needs_snapshot", "perm_ack", 8, {"ver": 3, "ok": False, "err": "base_mismatch",
                                                          "need": "snapshot"}),
        _valid("event_batch", "events", 9, {"ev": [
            [41, T0 + 1, "granted", HASH_A, "ok"],
            [42, T0 + 2, "denied", "", "unknown_credential"],
            [43, 0, "door_open", "", ""]], "dropped": 5}),
        _valid("command_result", "cmd_result", 10, {"id": "c-77", "ok": True}),
        _valid("snapshot_first_chunk", "snap", 100, {"ver": 4, "i": 0, "of": 2,
                                                     "e": [entry_always, entry_office]}, direction_last=99),
        _valid("snapshot_last_chunk", "snap", 101, {"ver": 4, "i": 1, "of": 2, "e": [entry_night]}),
        _valid("empty_snapshot", "snap", 102, {"ver": 5, "i": 0, "of": 1, "e": []}),
        _valid("delta", "delta", 103, {"base": 4, "ver": 6, "add": [entry_night], "del": [ORDERED[0]]}),
        _valid("event_ack", "ev_ack", 104, {"upto": 43}),
        _valid("command_unlock", "cmd", 105, {"id": "c-78", "action": "unlock"}, expires=T0 + 60),
        _valid("time_sync", "time", 106, {"now": T0 + 5, "offsets": OFFSETS_BERLIN}),
        _valid("config", "config", 107, {"mode": "passage", "passage": [[0x1F, 480, 1080]],
                                         "unlock_s": 5, "held_s": 30}),
        _valid("unknown_fields_ignored", "ev_ack", 108, {"upto": 44, "future_field": [1, "x"]}),
        _valid("non_ascii_text", "cmd_result", 11, {"id": "\u00e9\u6249\U0001f511", "ok": False,
                                                    "err": "\u9320"}),
    ]


def _tamper(wire: str, old: str, new: str) -> str:
    assert old in wire, old
    return wire.replace(old, new, 1)


def _resign(kind, counter, payload, expires=None, issued=T0, version=None, device=DEVICE, secret=SECRET):
    message = m.build(kind, device, counter, payload, issued, expires)
    if version is not None:
        message["v"] = version
    return m.sign(message, secret).decode()


def invalid_messages() -> list:
    cmd = m.encode("cmd", DEVICE, 50, {"id": "c-1", "action": "unlock"}, SECRET, T0, T0 + 60).decode()
    ack = m.encode("ev_ack", DEVICE, 51, {"upto": 3}, SECRET, T0).decode()
    hello = m.encode("hello", DEVICE, 5, {"fw": "0.1.0", "pv": 0, "boot": "power_on", "clk": "none",
                                          "sync_age": -1, "mode": "normal", "pending": 0,
                                          "dropped": 0}, SECRET, T0).decode()
    entry = [HASH_A, 0, 0, 0, []]

    def case(name, wire, error, direction=m.DOWN, last=0, now=T0 + 10, wire_hex=None):
        c = {"name": name, "direction": direction, "last_counter": last, "now": now, "expect_error": error}
        if wire_hex is not None:
            c["wire_hex"] = wire_hex
        else:
            c["wire"] = wire
        return c

    return [
        case("oversized", ack + " " * (m.MAX_MESSAGE_BYTES + 1 - len(ack)), "too_large"),
        case("empty", "", "empty"),
        case("truncated", cmd[:-7], "not_json"),
        case("not_json", "unlock please", "not_json"),
        case("invalid_utf8", None, "not_json", wire_hex="7b22763a01ff7d"),
        case("json_array", "[1,2,3]", "not_object"),
        case("missing_version", _tamper(ack, '"v":1', '"vv":1'), "missing_field:v"),
        case("version_as_string", _tamper(ack, '"v":1', '"v":"1"'), "bad_field:v"),
        case("unknown_version", _resign("ev_ack", 51, {"upto": 3}, version=2), "unsupported_version"),
        case("unknown_kind", _tamper(ack, '"k":"ev_ack"', '"k":"reboot"'), "unknown_kind"),
        case("uplink_kind_sent_down", hello, "wrong_direction"),
        case("other_device", _resign("ev_ack", 51, {"upto": 3}, device="lock-0002"), "wrong_device"),
        case("counter_as_string", _tamper(ack, '"n":51', '"n":"51"'), "bad_field:n"),
        case("counter_zero", _tamper(ack, '"n":51', '"n":0'), "bad_field:n"),
        case("counter_float", _tamper(ack, '"n":51', '"n":51.0'), "bad_field:n"),
        case("payload_not_object", _tamper(ack, '"p":{"upto":3}', '"p":[3]'), "bad_field:p"),
        case("payload_wrong_type", _tamper(ack, '"upto":3', '"upto":true'), "bad_field:p.upto"),
        case("payload_missing_field", _tamper(ack, '"upto":3', '"up_to":3'), "missing_field:p.upto"),
        case("signature_missing", _tamper(ack, ',"s":"', ',"z":"'), "missing_field:s"),
        case("signature_not_hex", _tamper(ack, '"s":"', '"s":"xyz'), "bad_field:s"),
        case("bad_signature", _tamper(ack, '"upto":3', '"upto":4'), "bad_signature"),
        case("signed_with_other_secret", _resign("ev_ack", 51, {"upto": 3}, secret=b"\x01" * 32),
             "bad_signature"),
        case("replayed_counter", ack, "replayed", last=51),
        case("old_counter", ack, "replayed", last=60),
        case("expired_command", cmd, "expired", now=T0 + 60),
        case("command_without_expiry", _resign("cmd", 52, {"id": "c-2", "action": "unlock"}),
             "missing_field:x"),
        case("command_expiry_too_far", _resign("cmd", 53, {"id": "c-3", "action": "unlock"},
                                               expires=T0 + m.MAX_COMMAND_LIFETIME_S + 1), "bad_field:x"),
        case("command_unknown_action", _resign("cmd", 54, {"id": "c-4", "action": "explode"},
                                               expires=T0 + 60), "bad_field:p.action"),
        case("command_clock_unknown", cmd, "expiry_unverifiable", now=None),
        case("float_in_unknown_field",
             _tamper(_resign("ev_ack", 55, {"upto": 3, "extra": 2}), '"extra":2', '"extra":1.5'),
             "not_canonical"),
        case("snapshot_unsorted", _resign("snap", 56, {"ver": 2, "i": 0, "of": 1,
                                                       "e": [[ORDERED[1], 0, 0, 0, []],
                                                             [ORDERED[0], 0, 0, 0, []]]}), "bad_field:p.e"),
        case("snapshot_index_past_end", _resign("snap", 57, {"ver": 2, "i": 1, "of": 1, "e": [entry]}),
             "bad_field:p.i"),
        case("snapshot_bad_hash", _resign("snap", 58, {"ver": 2, "i": 0, "of": 1,
                                                       "e": [["ABC", 0, 0, 0, []]]}), "bad_field:p.e"),
        case("snapshot_bad_window", _resign("snap", 59, {"ver": 2, "i": 0, "of": 1,
                                                         "e": [[HASH_A, 0, 0, 0, [[0, 60, 120]]]]}),
             "bad_field:p.e"),
        case("snapshot_too_many_entries", _resign("snap", 60, {"ver": 2, "i": 0, "of": 1, "e": [
            [f"{i:032x}", 0, 0, 0, []] for i in range(m.MAX_ENTRIES_PER_CHUNK + 1)]}), "bad_field:p.e"),
        case("delta_not_forward", _resign("delta", 61, {"base": 6, "ver": 6, "add": [], "del": []}),
             "bad_field:p.ver"),
        case("time_offsets_unordered", _resign("time", 62, {"now": T0, "offsets": [[T0, 60], [T0, 120]]}),
             "bad_field:p.offsets"),
        case("uplink_replayed", hello, "replayed", direction=m.UP, last=5),
    ]


def credentials() -> dict:
    cases = []
    for kind, identifier in [
        (KIND_FELICA, "0102030405060708"),
        (KIND_FELICA, "01:2E:4C:D2:3A:4B:5C:6D"),
        (KIND_ISO14443A, "04A1B2C3D4E580"),
        (KIND_ISO14443A, "de ad be ef"),
        (KIND_ISO14443A, "04-11-22-33-44-55-66-77-88-99"),
        (KIND_ISO14443A, "3fa1b2c3"),
        (KIND_FELICA, "02fe001122334455"),
        (KIND_PHONE, "00112233445566778899aabbccddeeff"),
    ]:
        normalized = normalize(kind, identifier)
        cases.append({"kind": kind, "identifier": identifier, "normalized_hex": normalized.hex(),
                      "hash": credential_hash(SITE_KEY, kind, identifier),
                      "assurance": assurance(kind, normalized)})
    invalid = []
    for kind, identifier in [
        ("magstripe", "0102030405060708"),
        (KIND_FELICA, "01020304"),
        (KIND_FELICA, "0102030405060708090a"),
        (KIND_FELICA, "0000000000000000"),
        (KIND_ISO14443A, "08a1b2c3"),
        (KIND_ISO14443A, "88a1b2c3d4e5f6"),
        (KIND_ISO14443A, "0102030405"),
        (KIND_ISO14443A, "ffffffff"),
        (KIND_ISO14443A, "0xdeadbeef"),
        (KIND_ISO14443A, "abc"),
        (KIND_ISO14443A, ""),
        (KIND_PHONE, "0011223344556677"),
    ]:
        try:
            normalize(kind, identifier)
        except CredentialError as exc:
            invalid.append({"kind": kind, "identifier": identifier, "error": str(exc)})
        else:
            raise AssertionError(f"{kind} {identifier} should be refused")
    return {"site_key_hex": SITE_KEY.hex(), "cases": cases, "invalid": invalid}


def hmac_rfc4231() -> list:
    # RFC 4231 section 4 test cases (the truncated-output case 5 is left out).
    return [
        {"key_hex": "0b" * 20, "data_hex": b"Hi There".hex(),
         "mac": "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"key_hex": b"Jefe".hex(), "data_hex": b"what do ya want for nothing?".hex(),
         "mac": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {"key_hex": "aa" * 20, "data_hex": "dd" * 50,
         "mac": "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {"key_hex": "0102030405060708090a0b0c0d0e0f10111213141516171819", "data_hex": "cd" * 50,
         "mac": "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {"key_hex": "aa" * 131,
         "data_hex": b"Test Using Larger Than Block-Size Key - Hash Key First".hex(),
         "mac": "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {"key_hex": "aa" * 131,
         "data_hex": (b"This is a test using a larger than block-size key and a larger than block-size "
                      b"data. The key needs to be hashed before being used by the HMAC algorithm.").hex(),
         "mac": "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    ]


def schedules() -> list:
    monday_0900_tokyo = 1764547200 + 9 * 3600 - 9 * 3600  # 2025-12-01 is a Monday; 09:00 JST = 00:00Z
    office = [[0x1F, 540, 1080]]  # Mon-Fri 09:00-18:00
    night = [[0x10, 1320, 360]]  # Friday 22:00 -> Saturday 06:00
    cases = []

    def add(name, windows, offsets, utc, expect, valid_from=0, valid_until=0):
        cases.append({"name": name, "windows": windows, "offsets": offsets, "utc": utc, "expect": expect,
                      "valid_from": valid_from, "valid_until": valid_until})

    add("office_monday_0900_opens", office, OFFSETS_TOKYO, monday_0900_tokyo, True)
    add("office_monday_0859_closed", office, OFFSETS_TOKYO, monday_0900_tokyo - 60, False)
    add("office_monday_1759_open", office, OFFSETS_TOKYO, monday_0900_tokyo + 9 * 3600 - 60, True)
    add("office_monday_1800_closed", office, OFFSETS_TOKYO, monday_0900_tokyo + 9 * 3600, False)
    add("office_saturday_closed", office, OFFSETS_TOKYO, monday_0900_tokyo + 5 * 86400, False)
    friday_2200 = monday_0900_tokyo + 4 * 86400 + 13 * 3600
    add("night_friday_2200_opens", night, OFFSETS_TOKYO, friday_2200, True)
    add("night_friday_2159_closed", night, OFFSETS_TOKYO, friday_2200 - 60, False)
    add("night_saturday_0559_open", night, OFFSETS_TOKYO, friday_2200 + 8 * 3600 - 60, True)
    add("night_saturday_0600_closed", night, OFFSETS_TOKYO, friday_2200 + 8 * 3600, False)
    add("night_saturday_2300_closed", night, OFFSETS_TOKYO, friday_2200 + 25 * 3600, False)
    add("night_friday_0100_closed", night, OFFSETS_TOKYO, friday_2200 - 21 * 3600, False)
    add("sunday_to_monday_wraps", [[0x40, 1380, 60]], OFFSETS_TOKYO, monday_0900_tokyo - 30600, True)
    add("no_windows_any_time", [], OFFSETS_TOKYO, 5, True)
    add("validity_from_inclusive", [], OFFSETS_TOKYO, T0, True, valid_from=T0)
    add("validity_before_from", [], OFFSETS_TOKYO, T0 - 1, False, valid_from=T0)
    add("validity_until_exclusive", [], OFFSETS_TOKYO, T0 + 100, False, valid_until=T0 + 100)
    add("validity_until_last_second", [], OFFSETS_TOKYO, T0 + 99, True, valid_until=T0 + 100)
    # Berlin, 2026-03-29 01:00Z the offset goes from +60 to +120: 07:30Z is 08:30 before, 09:30 after.
    berlin = [[1761440400, 60], [1774746000, 120]]
    mon_0730z_winter = 1774251000  # Monday 2026-03-23 07:30Z = 08:30 CET
    add("offset_winter_before_nine", [[0x1F, 540, 600]], berlin, mon_0730z_winter, False)
    add("offset_summer_after_nine", [[0x1F, 540, 600]], berlin, mon_0730z_winter + 7 * 86400, True)
    return cases


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    common = {"secret_hex": SECRET.hex(), "device_id": DEVICE}
    _write("messages_valid.json", dict(common, cases=valid_messages()))
    _write("messages_invalid.json", dict(common, cases=invalid_messages()))
    # The largest messages the contract allows, one per file: the heap test decodes each under 100K.
    _write("largest_snapshot_chunk.json", dict(common, device_id="x" * 32, cases=[_worst_case_snapshot()]))
    _write("largest_event_batch.json", dict(common, device_id="x" * 32, cases=[_worst_case_events()]))
    _write("credentials.json", credentials())
    _write("hmac_sha256.json", {"source": "RFC 4231 section 4", "cases": hmac_rfc4231()})
    _write("schedules.json", {"cases": schedules()})
    print("wrote", ", ".join(sorted(p.name for p in OUT.glob("*.json"))))


if __name__ == "__main__":
    main()
