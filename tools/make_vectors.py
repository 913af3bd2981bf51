"""Regenerate shared_schema/vectors/*, the golden test vectors of the wire contract (docs/PROTOCOL.md).

    .venv/bin/python -m tools.make_vectors

The vectors are data, checked by tests/schema/test_vectors.py under CPython and the real micropython.
Valid messages are produced by shared_schema itself; tests/schema/test_independent.py re-derives every MAC,
key, table hash, wrapped secret and canonical form with CPython's own hmac and json modules, so a bug in the
shared code cannot quietly bless itself. Review the diff whenever this is re-run: a changed byte is a
protocol change (bump PROTOCOL_VERSION and add a line to docs/PROTOCOL.md's changelog).

Message vectors are JSON Lines (a header line, then one case per line) so that a lock-sized heap can read
them one case at a time. A case's message bytes are in "wire" (ASCII text), "wire_parts" (a long ASCII wire
as [[piece, count], ...]: the pieces, each repeated count times, concatenated), "wire_hex" (bytes that are not
printable ASCII) or "value" (something that is not bytes at all, for not_bytes).
"""

import json
from pathlib import Path
from typing import Any

from shared_schema import messages as m
from shared_schema import mobilekeyfile
from shared_schema import mobilekeys as mk
from shared_schema.assurance import assurance
from shared_schema.canonical import canonical_bytes
from shared_schema.credentials import (
    KIND_FELICA,
    KIND_ISO14443A,
    KIND_PHONE,
    CredentialError,
    credential_hash,
    normalize,
    table_hash,
    table_key,
)
from shared_schema.hmac_sha256 import hmac_sha256
from shared_schema.vocabulary import MAX_DEPTH, MAX_NUMBER_DIGITS, MAX_STRING_CHARS, MAX_VALUES

OUT = Path(__file__).resolve().parent.parent / "shared_schema" / "vectors"
# Longer wires are stored as "wire_parts": pieces of at most this many characters, or runs of a repeated
# unit, so that a lock-sized heap never needs a large block to read a vector (see test_vectors.py).
WIRE_PIECE_CHARS = 512
MAX_UNIT_CHARS = 160
SECRET = bytes(range(32))
NEW_SECRET = bytes(range(200, 232))
SITE_KEY = bytes(range(100, 132))
DEVICE = "lock-0001"
EPOCH = 3
T0 = 1796083200  # 2026-12-01T00:00:00Z
X0 = T0 + 60
NONCE = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
K_UP = m.direction_key(SECRET, m.UP)
K_DOWN = m.direction_key(SECRET, m.DOWN)
K_TABLE = table_key(SECRET)
CRED_A = credential_hash(SITE_KEY, KIND_FELICA, "0102030405060708")
CRED_B = credential_hash(SITE_KEY, KIND_ISO14443A, "04A1B2C3D4E580")
CRED_C = credential_hash(SITE_KEY, KIND_PHONE, "00112233445566778899aabbccddeeff")
# What snap/delta carry: the per-lock table hashes of the credential ids, in wire order.
TABLE = sorted(table_hash(K_TABLE, cred) for cred in (CRED_A, CRED_B, CRED_C))
OFFSETS_TOKYO = [[0, 540]]
OFFSETS_BERLIN = [[1774746000, 120], [1792890000, 60]]
NIGHT = [0x7F, 1320, 360]
OFFICE = [0x1F, 540, 1080]

Case = dict[str, Any]


def _key(direction: str) -> Any:
    return K_UP if direction == m.UP else K_DOWN


def _direction(kind: str) -> str:
    return str(m.KINDS[kind][0]) if kind in m.KINDS else m.DOWN


def _json(data: object) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def _json_lines(header: dict, cases: list[Case]) -> str:
    lines = [json.dumps(item, sort_keys=True, separators=(",", ":")) for item in [header, *cases]]
    return "".join(line + "\n" for line in lines)


def _header(device: str = DEVICE) -> dict:
    return {"secret_hex": SECRET.hex(), "device_id": device, "epoch": EPOCH}


def _hello(**changes: Any) -> dict:
    payload = {"fw": "2.0.0", "pv": 4, "kg": 1, "cv": 2, "boot": "power_on", "clk": "rtc", "trusted": True,
               "sync_age": 120, "mode": "normal", "pending": 0, "dropped": 0, "nonce": NONCE,
               "resync": False, "store": "ok"}
    payload.update(changes)
    return payload


_DROP = object()  # an envelope value that removes the field


def _message(kind: str, counter: int, payload: dict, **envelope: Any) -> dict:
    """A message object with the vectors' defaults: downlinks expire 60 s after T0, `time` carries c."""
    down = _direction(kind) == m.DOWN
    message = m.build(kind, DEVICE, EPOCH, counter, payload, T0, X0 if down else None,
                      NONCE if kind == "time" else None)
    for name, value in envelope.items():
        if value is _DROP:
            message.pop(name, None)
        else:
            message[name] = value
    return message


# --- valid messages ----------------------------------------------------------------------------


def _valid(name: str, kind: str, counter: int, payload: dict, last: int | None = 0, device: str = DEVICE,
           expires: int | None = None, challenge: str | None = None, issued: int = T0) -> Case:
    direction = _direction(kind)
    if direction == m.DOWN and expires is None:
        expires = issued + 60
    if kind == "time" and challenge is None:
        challenge = NONCE
    wire = m.encode(kind, device, EPOCH, counter, payload, _key(direction), issued, expires, challenge)
    return dict({"name": name, "direction": direction, "last_counter": last,
                 "message": json.loads(wire[m.MAC_HEX_CHARS:])}, **_wire(wire))


def _unknown_fields(kind: str, counter: int, payload: dict, extra_payload: dict, extra_envelope: dict,
                    name: str) -> Case:
    # encode() takes only the known envelope fields; unknown ones are added to the object and sealed.
    message = _message(kind, counter, dict(payload, **extra_payload), **extra_envelope)
    body = canonical_bytes(message)
    direction = _direction(kind)
    return dict({"name": name, "direction": direction, "last_counter": 0, "message": message},
                **_wire(m.seal(body, _key(direction))))


def _count_values(value: Any) -> int:
    # The pre-scan's count for a canonical BODY: every object, array, string (keys too), number, literal.
    if isinstance(value, dict):
        return 1 + sum(1 + _count_values(item) for item in value.values())
    if isinstance(value, list):
        return 1 + sum(_count_values(item) for item in value)
    return 1


def _at_the_limits() -> list[Case]:
    """Messages exactly at the pre-scan's limits (one more would be refused: see the invalid vectors)."""
    base = {"upto": 9}
    deep: Any = [0]
    for _ in range(MAX_DEPTH - 3):  # envelope {, p {, then lists: depth MAX_DEPTH in all
        deep = [deep]
    cases = [
        _unknown_fields("ev_ack", 60, base, {"deep": deep}, {}, "depth_at_limit"),
        _unknown_fields("ev_ack", 61, base, {"s" * MAX_STRING_CHARS: "\\" * (MAX_STRING_CHARS // 2)}, {},
                        "strings_at_limit"),
        _unknown_fields("ev_ack", 62, base, {"big": -(10**MAX_NUMBER_DIGITS - 1)}, {}, "digits_at_limit"),
    ]
    # Spread over lists of 64: a parsed list of 1,000 items needs one 8 KB block on a 64-bit heap (4 KB on
    # an ESP32), which a lock-sized heap may not have in one piece (decode() then answers internal_error).
    message = _message("ev_ack", 63, dict(base, many=[]))
    spare = MAX_VALUES - _count_values(message)
    lists = spare // 65
    message["p"]["many"] = [[0] * 64 for _ in range(lists)] + [[0] * (spare - 65 * lists - 1)]
    assert _count_values(message) == MAX_VALUES
    cases.append(_unknown_fields("ev_ack", 63, base, {"many": message["p"]["many"]}, {}, "values_at_limit"))
    return cases


def valid_messages() -> list[Case]:
    always = [TABLE[0], m.ROLE_NORMAL, 0, 0, []]
    # One credential with two entries (a guest pass and a night shift): the exact union of two grants.
    guest = [TABLE[1], m.ROLE_NORMAL, T0, T0 + 7 * 86400, []]
    night = [TABLE[1], m.ROLE_NORMAL, 0, 0, [NIGHT]]
    office = [TABLE[1], m.ROLE_NORMAL, 0, 0, [NIGHT, OFFICE]]  # [NIGHT] is a prefix: it sorts first
    admin = [TABLE[2], m.ROLE_ADMIN, 0, 0, [OFFICE]]
    eight = [[TABLE[0], m.ROLE_NORMAL, 0, T0 + day * 86400, []]
             for day in range(1, m.MAX_ENTRIES_PER_CRED + 1)]
    events = [[41, T0 + 1, "granted", CRED_A, "ok"], [42, T0 + 2, "denied", "", "unknown_credential"],
              [44, 0, "door_open", "", ""], [45, T0 + 9, "denied", CRED_B, "outside_schedule"]]
    rekey = {"gen": 2, "wrapped": m.wrap_secret(NEW_SECRET, K_DOWN, 110)}
    return [
        _valid("hello", "hello", 1, _hello(bat=87, heap=41234, rssi=-67)),
        _valid("hello_first_boot_clock_untrusted", "hello", 2, _hello(
            pv=0, kg=0, cv=0, clk="none", trusted=False, sync_age=-1, store="missing"), issued=0),
        # The cloud decodes a hello without the replay check (last_counter None): a resync's counter reset.
        _valid("hello_resync_counter_reset", "hello", 3, _hello(resync=True, trusted=False, clk="ntp",
                                                                  boot="watchdog"), last=None),
        _valid("state", "state", 7, {"door": "closed", "bolt": "locked", "mode": "normal", "pv": 4,
                                     "pending": 2, "dropped": 0}, last=6),
        _valid("perm_ack", "perm_ack", 8, {"ver": 4, "ok": True}),
        _valid("perm_ack_needs_snapshot", "perm_ack", 9, {"ver": 4, "ok": False, "err": "base_mismatch",
                                                          "need": "snapshot"}),
        _valid("cfg_ack", "cfg_ack", 10, {"ver": 2, "ok": True}),
        _valid("event_batch", "events", 11, {"ev": events, "dropped": 5}),
        _valid("command_result", "cmd_result", 12, {"id": "c-77", "ok": True}),
        _valid("command_result_refused", "cmd_result", 13, {"id": "c-78", "ok": False, "err": "lockdown"}),
        _valid("time_sync", "time", 100, {"now": T0 + 5, "offsets": OFFSETS_BERLIN, "until": T0 + 90 * 86400},
               last=99),
        _valid("snapshot_first_chunk", "snap", 101, {"ver": 4, "g": 1, "i": 0, "of": 2,
                                                     "e": [always, night, office, guest]}, challenge=NONCE),
        _valid("snapshot_last_chunk", "snap", 102, {"ver": 4, "g": 1, "i": 1, "of": 2, "e": [admin]},
               challenge=NONCE),
        _valid("snapshot_eight_entries_for_one_credential", "snap", 103,
               {"ver": 5, "g": 1, "i": 0, "of": 1, "e": eight}),
        _valid("empty_snapshot", "snap", 104, {"ver": 6, "g": 1, "i": 0, "of": 1, "e": []}),
        _valid("delta", "delta", 105, {"base": 6, "ver": 7, "g": 1, "add": [night, guest],
                                       "del": [TABLE[0]]}),
        _valid("event_ack", "ev_ack", 106, {"upto": 45}),
        _valid("command_unlock_for_a_while", "cmd", 107, {"id": "c-79", "action": "unlock", "dur": 900}),
        _valid("command_lock", "cmd", 108, {"id": "c-80", "action": "lock"}, expires=T0 + 1),
        _valid("config_longest_lifetime", "config", 109, {
            "ver": 3, "mode": "passage", "passage": [[0x1F, 480, 1080]], "unlock_s": 5, "held_s": 30,
        }, expires=T0 + m.MAX_DOWNLINK_LIFETIME_S),
        _valid("rekey", "rekey", 110, rekey),
        _unknown_fields("ev_ack", 111, {"upto": 46}, {"future_field": [1, "x", None, {"y": True}]},
                        {"zz": "later", "c": NONCE}, "unknown_fields_ignored"),
        _unknown_fields("hello", 14, _hello(), {"note": "\u00e9\u6249\U0001f511\u0000\u007f"}, {"c": NONCE},
                        "non_ascii_text_escaped_in_unknown_field"),
        *_at_the_limits(),
    ]


# --- the largest messages --------------------------------------------------------------------


def worst_case_snapshot() -> Case:
    # Every entry at its longest: 16-digit validity, 8 four-digit windows; two credentials of 8 entries.
    window = [127, 1439, 1438]
    entries = []
    for cred in ("e" * 32, "f" * 32):
        for k in range(m.MAX_ENTRIES_PER_CRED):
            entries.append([cred, 1, m.MAX_COUNTER - 100 + k, m.MAX_COUNTER, [window] * 8])
    payload = {"ver": m.MAX_COUNTER, "g": m.MAX_COUNTER, "i": m.MAX_CHUNKS - 1, "of": m.MAX_CHUNKS,
               "e": entries}
    return _valid("snapshot_chunk_worst_case_size", "snap", m.MAX_COUNTER, payload, device="x" * 32,
                  issued=m.MAX_COUNTER - 600, expires=m.MAX_COUNTER, challenge="f" * 32)


def worst_case_events() -> Case:
    events = []
    for i in range(m.MAX_EVENTS_PER_BATCH):
        events.append([m.MAX_COUNTER - 40 + i, m.MAX_COUNTER, "remote_unlock", "f" * 32, "r" * 24])
    payload = {"ev": events, "dropped": m.MAX_COUNTER}
    return _valid("event_batch_worst_case_size", "events", m.MAX_COUNTER, payload, device="x" * 32,
                  issued=m.MAX_COUNTER)


# --- invalid messages --------------------------------------------------------------------------


def _runs(text: str) -> list[list]:
    """[[piece, count], ...] whose concatenation (each piece repeated count times) is `text`: a unit of up
    to MAX_UNIT_CHARS repeated over at least 128 characters becomes one pair, other text pieces of at most
    WIRE_PIECE_CHARS."""
    parts: list[list] = []

    def literal(end: int) -> None:
        for start in range(literal_from, end, WIRE_PIECE_CHARS):
            parts.append([text[start : min(end, start + WIRE_PIECE_CHARS)], 1])

    literal_from = i = 0
    while i < len(text):
        best = (1, 1)
        for size in range(1, MAX_UNIT_CHARS + 1):
            unit, count = text[i : i + size], 1
            while text[i + count * size : i + (count + 1) * size] == unit:
                count += 1
            if count * size >= 128 and count * size > best[0] * best[1]:
                best = (size, count)
        if best[1] == 1:
            i += 1
            continue
        literal(i)
        parts.append([text[i : i + best[0]], best[1]])
        i += best[0] * best[1]
        literal_from = i
    literal(len(text))
    return parts


def _wire(wire: bytes) -> dict:
    if not all(0x20 <= byte <= 0x7E for byte in wire):
        return {"wire_hex": wire.hex()}
    if len(wire) > WIRE_PIECE_CHARS:
        return {"wire_parts": _runs(wire.decode())}
    return {"wire": wire.decode()}


def _case(name: str, error: str, wire: bytes | None = None, direction: str = m.DOWN, last: int | None = 0,
          value: object = None) -> Case:
    case: Case = {"name": name, "direction": direction, "last_counter": last, "expect_error": error}
    if wire is None:
        case["value"] = value
    else:
        case.update(_wire(wire))
    return case


def _sealed(message: dict, direction: str | None = None) -> bytes:
    direction = direction or _direction(str(message.get("k")))
    return m.seal(canonical_bytes(message), _key(direction))


def _edited(message: dict, old: str, new: str, direction: str | None = None) -> bytes:
    """The canonical BODY of `message` with `old` replaced by `new` once, sealed under a valid MAC."""
    body = canonical_bytes(message).decode()
    assert body.count(old) >= 1, (old, body)
    edited = body.replace(old, new, 1).encode("ascii")
    return m.seal(edited, _key(direction or _direction(str(message["k"]))))


def _raw(body: bytes, direction: str = m.DOWN) -> bytes:
    return m.seal(body, _key(direction))


def _steps_1_to_5() -> list[Case]:
    ack = _message("ev_ack", 51, {"upto": 3})
    wire = _sealed(ack)
    body = canonical_bytes(ack)
    other = m.direction_key(b"\x01" * 32, m.DOWN)
    deep_forged = body[:-1] + b',"z":' + b"[" * 1900 + b"]" * 1900 + b"}"
    return [
        _case("not_bytes_text", "not_bytes", value=wire.decode()),
        _case("not_bytes_number", "not_bytes", value=7),
        _case("empty", "too_short", b""),
        _case("mac_and_one_byte", "too_short", wire[:65]),
        _case("oversized", "too_large", wire[:-1] + b" " * (m.MAX_MESSAGE_BYTES - len(wire) + 1) + b"}"),
        _case("body_tampered", "bad_signature", wire.replace(b'"upto":3', b'"upto":4')),
        _case("mac_of_other_secret", "bad_signature", m.seal(body, other)),
        _case("uplink_key_reflected_down", "bad_signature", m.seal(body, K_UP)),
        _case("mac_uppercase_hex", "bad_signature", wire[:64].upper() + body),
        _case("mac_one_char_short", "bad_signature", wire[1:]),
        _case("byte_appended_after_mac", "bad_signature", wire + b" "),
        _case("mac_not_hex", "bad_signature", b"z" * 64 + body),
        # Step 3: the pre-scan (every case below carries a valid MAC).
        _case("raw_utf8_in_string", "not_ascii", _raw(body.replace(b'"ev_ack"', b'"ev_ack\xc3\xa9"'))),
        _case("nul_byte", "not_ascii", _raw(body[:-1] + b',"z":"\x00"}')),
        _case("del_byte", "not_ascii", _raw(body[:-1] + b',"z":"\x7f"}')),
        _case("tab_as_whitespace", "not_ascii", _raw(body.replace(b":", b":\t", 1))),
        _case("newline_at_end", "not_ascii", _raw(body + b"\n")),
        _case("overlong_utf8_slash", "not_ascii", _raw(body[:-1] + b',"z":"\xc0\xaf"}')),
        _case("not_ascii_wins_over_later_limits", "not_ascii",
              _raw(body[:-1] + b',"z":"\xff","y":' + b"9" * 40 + b"}")),
        _case("seven_levels", "too_deep", _raw(body[:-1] + b',"z":[[[[[[0]]]]]]}')),
        _case("nineteen_hundred_brackets", "too_deep", _raw(deep_forged)),
        _case("brackets_inside_strings_do_not_count", "number_too_long",
              _raw(body[:-1] + b',"z":"[[[[[[[[{{{{{{{\\"[[[[[","y":12345678901234567}')),
        _case("seventeen_digits", "number_too_long", _raw(body[:-1] + b',"z":12345678901234567}')),
        _case("counter_of_seventeen_digits", "number_too_long",
              _edited(ack, '"n":51', '"n":10000000000000051')),
        _case("negative_seventeen_digits", "number_too_long", _raw(body[:-1] + b',"z":-12345678901234567}')),
        _case("float_digits_count_together", "number_too_long",
              _raw(body[:-1] + b',"z":1.0000000000000000}')),
        _case("number_of_3900_digits", "number_too_long", _raw(body[:-1] + b',"z":' + b"7" * 3900 + b"}")),
        _case("string_of_65", "string_too_long", _raw(body[:-1] + b',"z":"' + b"a" * 65 + b'"}')),
        _case("key_of_65", "string_too_long", _raw(body[:-1] + b',"' + b"k" * 65 + b'":0}')),
        _case("escapes_count_as_written", "string_too_long",
              _raw(body[:-1] + b',"z":"' + b"\\u00e9" * 11 + b'"}')),
        _case("escaped_quote_does_not_end_a_string", "string_too_long",
              _raw(body[:-1] + b',"z":"' + b'\\"' * 33 + b'"}')),
        _case("too_many_values", "too_many_values", _raw(body[:-1] + b',"z":[' + b"0," * 1100 + b"0]}")),
        _case("unterminated_string_too_long", "string_too_long", _raw(body[:-1] + b',"z":"' + b"b" * 80)),
        # Step 4: JSON (RFC 8259, strictly: MicroPython's lenient parser accepts most of these).
        _case("trailing_comma_in_object", "not_json", _raw(body[:-1] + b",}")),
        _case("trailing_comma_in_array", "not_json", _raw(body[:-1] + b',"z":[1,2,]}')),
        _case("leading_zero", "not_json", _edited(ack, '"n":51', '"n":051')),
        _case("missing_comma", "not_json", _edited(ack, ',"k"', ' "k"')),
        _case("missing_colon", "not_json", _edited(ack, '"n":', '"n" ')),
        _case("key_without_value", "not_json", _raw(body[:-1] + b',"z"}')),
        _case("number_as_key", "not_json", _raw(body[:-1] + b",7:1}")),
        _case("bad_escape", "not_json", _raw(body[:-1] + b',"z":"\\x41"}')),
        _case("short_unicode_escape", "not_json", _raw(body[:-1] + b',"z":"\\u12"}')),
        _case("nan", "not_json", _raw(body[:-1] + b',"z":NaN}')),
        _case("single_quotes", "not_json", _edited(ack, '"upto"', "'upto'")),
        _case("truncated", "not_json", _raw(body[:-7])),
        _case("unterminated_string", "not_json", _raw(body[:-1] + b',"z":"abc')),
        _case("plain_text", "not_json", _raw(b"unlock please")),
        _case("two_values", "not_json", _raw(body + b"{}")),
        _case("json_array", "not_object", _raw(b"[1,2,3]")),
        _case("json_string", "not_object", _raw(b'"' + b"hello" + b'"')),
        _case("json_null", "not_object", _raw(b"null")),
        _case("array_with_spaces", "not_object", _raw(b"[1, 2]")),
        # Step 5: JSON, but not the one canonical spelling.
        _case("space_after_colon", "not_canonical", _edited(ack, '"upto":', '"upto": ')),
        _case("space_at_end", "not_canonical", _raw(body + b" ")),
        _case("keys_unsorted", "not_canonical",
              _edited(ack, '"d":"lock-0001","e":3', '"e":3,"d":"lock-0001"')),
        _case("duplicate_key", "not_canonical", _edited(ack, '"n":51', '"n":50,"n":51')),
        _case("float", "not_canonical", _edited(ack, '"upto":3', '"upto":3.0')),
        _case("exponent", "not_canonical", _edited(ack, '"upto":3', '"upto":3e0')),
        _case("minus_zero", "not_canonical", _edited(ack, '"upto":3', '"upto":3,"z":-0')),
        _case("escaped_slash", "not_canonical", _edited(ack, '"lock-0001"', '"lock-0001","z":"\\/"')),
        _case("uppercase_unicode_escape", "not_canonical",
              _edited(ack, '"lock-0001"', '"lock-0001","z":"\\u00E9"')),
        _case("escaped_ascii_letter", "not_canonical", _edited(ack, '"ev_ack"', '"ev_\\u0061ck"')),
        _case("long_escape_for_newline", "not_canonical",
              _edited(ack, '"lock-0001"', '"lock-0001","z":"\\u000a"')),
        _case("uppercase_escape_of_del", "not_canonical",
              _edited(ack, '"lock-0001"', '"lock-0001","z":"\\u007F"')),
    ]


def _step_6() -> list[Case]:
    ack = _message("ev_ack", 51, {"upto": 3})
    hello_up = _message("hello", 5, _hello())
    time = _message("time", 52, {"now": T0, "offsets": OFFSETS_TOKYO, "until": T0 + 86400})
    env = _message  # a shorter name for the table below

    def down(name: str, error: str, message: dict) -> Case:
        return _case(name, error, _sealed(message, m.DOWN))

    def up(name: str, error: str, message: dict) -> Case:
        return _case(name, error, _sealed(message, m.UP), direction=m.UP)

    return [
        down("version_missing", "missing_field:v", env("ev_ack", 51, {"upto": 3}, v=_DROP)),
        down("version_as_string", "bad_field:v", env("ev_ack", 51, {"upto": 3}, v="2")),
        down("version_null", "bad_field:v", env("ev_ack", 51, {"upto": 3}, v=None)),
        down("version_true", "bad_field:v", env("ev_ack", 51, {"upto": 3}, v=True)),
        down("version_1", "unsupported_version", env("ev_ack", 51, {"upto": 3}, v=1)),
        down("version_3", "unsupported_version", env("ev_ack", 51, {"upto": 3}, v=3)),
        down("kind_missing", "missing_field:k", env("ev_ack", 51, {"upto": 3}, k=_DROP)),
        down("kind_not_text", "bad_field:k", env("ev_ack", 51, {"upto": 3}, k=7)),
        down("kind_unknown", "unknown_kind", env("ev_ack", 51, {"upto": 3}, k="reboot")),
        down("uplink_kind_sent_down", "wrong_direction", hello_up),
        up("downlink_kind_sent_up", "wrong_direction", ack),
        down("device_missing", "missing_field:d", env("ev_ack", 51, {"upto": 3}, d=_DROP)),
        down("device_uppercase", "bad_field:d", env("ev_ack", 51, {"upto": 3}, d="LOCK-0001")),
        down("device_too_long", "bad_field:d", env("ev_ack", 51, {"upto": 3}, d="l" * 33)),
        down("epoch_missing", "missing_field:e", env("ev_ack", 51, {"upto": 3}, e=_DROP)),
        down("epoch_zero", "bad_field:e", env("ev_ack", 51, {"upto": 3}, e=0)),
        down("epoch_as_string", "bad_field:e", env("ev_ack", 51, {"upto": 3}, e="3")),
        down("counter_missing", "missing_field:n", env("ev_ack", 51, {"upto": 3}, n=_DROP)),
        down("counter_zero", "bad_field:n", env("ev_ack", 51, {"upto": 3}, n=0)),
        down("counter_as_string", "bad_field:n", env("ev_ack", 51, {"upto": 3}, n="51")),
        down("counter_past_2_53", "bad_field:n", env("ev_ack", 51, {"upto": 3}, n=m.MAX_COUNTER + 1)),
        down("counter_bool", "bad_field:n", env("ev_ack", 51, {"upto": 3}, n=True)),
        down("issued_missing", "missing_field:t", env("ev_ack", 51, {"upto": 3}, t=_DROP)),
        down("issued_negative", "bad_field:t", env("ev_ack", 51, {"upto": 3}, t=-1)),
        down("payload_missing", "missing_field:p", env("ev_ack", 51, {"upto": 3}, p=_DROP)),
        down("payload_not_object", "bad_field:p", env("ev_ack", 51, {"upto": 3}, p=[3])),
        down("other_device", "wrong_device", env("ev_ack", 51, {"upto": 3}, d="lock-0002")),
        down("other_epoch", "wrong_epoch", env("ev_ack", 51, {"upto": 3}, e=EPOCH - 1)),
        down("expiry_as_string", "bad_field:x", env("ev_ack", 51, {"upto": 3}, x=str(X0))),
        down("challenge_uppercase", "bad_field:c", env("ev_ack", 51, {"upto": 3}, c=NONCE.upper())),
        down("challenge_short", "bad_field:c", env("ev_ack", 51, {"upto": 3}, c=NONCE[:-1])),
        down("downlink_without_expiry", "missing_field:x", env("ev_ack", 51, {"upto": 3}, x=_DROP)),
        down("expiry_equals_issued", "bad_field:x", env("ev_ack", 51, {"upto": 3}, x=T0)),
        down("expiry_before_issued", "bad_field:x", env("ev_ack", 51, {"upto": 3}, x=T0 - 1)),
        down("lifetime_601", "bad_field:x", env("ev_ack", 51, {"upto": 3}, x=T0 + 601)),
        down("time_without_challenge", "missing_field:c", {k: v for k, v in time.items() if k != "c"}),
        up("uplink_with_expiry", "bad_field:x", env("hello", 5, _hello(), x=T0 + 60)),
        up("uplink_challenge_not_hex", "bad_field:c", env("hello", 5, _hello(), c="z" * 32)),
    ]


def _step_7() -> list[Case]:
    entry = [TABLE[0], 0, 0, 0, []]

    def down(name: str, kind: str, payload: dict, error: str) -> Case:
        return _case(name, error, _sealed(_message(kind, 60, payload), m.DOWN))

    def up(name: str, kind: str, payload: dict, error: str) -> Case:
        return _case(name, error, _sealed(_message(kind, 6, payload), m.UP), direction=m.UP)

    def snap(entries: list, **changes: Any) -> dict:
        return dict({"ver": 2, "g": 1, "i": 0, "of": 1, "e": entries}, **changes)

    def delta(**changes: Any) -> dict:
        return dict({"base": 2, "ver": 3, "g": 1, "add": [], "del": []}, **changes)

    def hello_without(name: str) -> dict:
        return {k: v for k, v in _hello().items() if k != name}

    def event(**changes: Any) -> list:
        fields = dict({"seq": 1, "ts": T0, "type": "granted", "cred": CRED_A, "reason": "ok"}, **changes)
        return [fields["seq"], fields["ts"], fields["type"], fields["cred"], fields["reason"]]

    def events(*batch: list) -> dict:
        return {"ev": list(batch), "dropped": 0}

    config = {"ver": 3, "mode": "normal", "passage": [], "unlock_s": 5, "held_s": 30}
    cmd = {"id": "c-1", "action": "unlock"}
    times = {"now": T0, "offsets": OFFSETS_TOKYO, "until": T0 + 86400}
    many = [[f"{i:032x}", 0, 0, 0, []] for i in range(m.MAX_ENTRIES_PER_CHUNK + 1)]
    nine = [[TABLE[0], 0, 0, T0 + d, []] for d in range(1, m.MAX_ENTRIES_PER_CRED + 2)]
    return [
        up("hello_without_nonce", "hello", hello_without("nonce"), "missing_field:p.nonce"),
        up("hello_without_kg", "hello", hello_without("kg"), "missing_field:p.kg"),
        up("hello_without_resync", "hello", hello_without("resync"), "missing_field:p.resync"),
        up("hello_fields_checked_in_name_order", "hello", _hello(boot="x", mode="x"), "bad_field:p.boot"),
        up("hello_nonce_uppercase", "hello", _hello(nonce=NONCE.upper()), "bad_field:p.nonce"),
        up("hello_trusted_as_int", "hello", _hello(trusted=1), "bad_field:p.trusted"),
        up("hello_store_unknown", "hello", _hello(store="lost"), "bad_field:p.store"),
        up("hello_battery_101", "hello", _hello(bat=101), "bad_field:p.bat"),
        up("hello_rssi_128", "hello", _hello(rssi=128), "bad_field:p.rssi"),
        up("hello_sync_age_minus_2", "hello", _hello(sync_age=-2), "bad_field:p.sync_age"),
        up("hello_fw_33_chars", "hello", _hello(fw="v" * 33), "bad_field:p.fw"),
        up("hello_fw_not_ascii", "hello", _hello(fw="2.0\u00e9"), "bad_field:p.fw"),
        up("hello_fw_control_char", "hello", _hello(fw="2.0\n"), "bad_field:p.fw"),
        up("state_door_ajar", "state", {"door": "ajar", "bolt": "locked", "mode": "normal", "pv": 1,
                                        "pending": 0, "dropped": 0}, "bad_field:p.door"),
        up("perm_ack_needs_delta", "perm_ack", {"ver": 1, "ok": False, "need": "delta"}, "bad_field:p.need"),
        up("cfg_ack_without_version", "cfg_ack", {"ok": True}, "missing_field:p.ver"),
        up("events_empty", "events", events(), "bad_field:p.ev"),
        up("events_33", "events", events(*[event(seq=i) for i in range(1, 34)]), "bad_field:p.ev"),
        up("events_seq_not_increasing", "events", events(event(seq=2), event(seq=2)), "bad_field:p.ev"),
        up("event_type_unknown", "events", events(event(type="teleport")), "bad_field:p.ev"),
        up("event_cred_short", "events", events(event(cred=CRED_A[:-1])), "bad_field:p.ev"),
        up("event_reason_25", "events", events(event(reason="r" * 25)), "bad_field:p.ev"),
        up("event_reason_not_ascii", "events", events(event(reason="\u00e9")), "bad_field:p.ev"),
        up("event_reason_with_quote", "events", events(event(reason='say "hi"')), "bad_field:p.ev"),
        up("cfg_ack_err_with_backslash", "cfg_ack", {"ver": 1, "ok": False, "err": "a\\b"},
           "bad_field:p.err"),
        up("command_result_id_37", "cmd_result", {"id": "i" * 37, "ok": True}, "bad_field:p.id"),
        down("time_without_until", "time", {"now": T0, "offsets": OFFSETS_TOKYO}, "missing_field:p.until"),
        down("time_offsets_unordered", "time", dict(times, offsets=[[T0, 60], [T0, 120]]),
             "bad_field:p.offsets"),
        down("time_now_zero", "time", dict(times, now=0), "bad_field:p.now"),
        down("snapshot_without_generation", "snap", {"ver": 2, "i": 0, "of": 1, "e": []},
             "missing_field:p.g"),
        down("snapshot_generation_zero", "snap", snap([], g=0), "bad_field:p.g"),
        down("snapshot_index_past_end", "snap", snap([entry], i=1), "bad_field:p.i"),
        down("snapshot_unsorted", "snap", snap([[TABLE[1], 0, 0, 0, []], entry]), "bad_field:p.e"),
        down("snapshot_duplicate_entry", "snap", snap([entry, entry]), "bad_field:p.e"),
        down("snapshot_role_before_validity", "snap",
             snap([[TABLE[0], 1, 0, 0, []], [TABLE[0], 0, 5, 0, []]]), "bad_field:p.e"),
        down("snapshot_window_prefix_sorts_first", "snap",
             snap([[TABLE[0], 0, 0, 0, [NIGHT, OFFICE]], [TABLE[0], 0, 0, 0, [NIGHT]]]), "bad_field:p.e"),
        down("snapshot_nine_entries_for_one_credential", "snap", snap(nine), "bad_field:p.e"),
        down("snapshot_17_entries", "snap", snap(many), "bad_field:p.e"),
        down("snapshot_bad_hash", "snap", snap([["ABC", 0, 0, 0, []]]), "bad_field:p.e"),
        down("snapshot_cred_id_uppercase", "snap", snap([[TABLE[0].upper(), 0, 0, 0, []]]), "bad_field:p.e"),
        down("snapshot_role_2", "snap", snap([[TABLE[0], 2, 0, 0, []]]), "bad_field:p.e"),
        down("snapshot_role_true", "snap", snap([[TABLE[0], True, 0, 0, []]]), "bad_field:p.e"),
        down("snapshot_validity_reversed", "snap", snap([[TABLE[0], 0, T0, T0, []]]), "bad_field:p.e"),
        down("snapshot_bad_window", "snap", snap([[TABLE[0], 0, 0, 0, [[0, 60, 120]]]]), "bad_field:p.e"),
        down("snapshot_nine_windows", "snap", snap([[TABLE[0], 0, 0, 0, [OFFICE] * 9]]), "bad_field:p.e"),
        down("delta_without_generation", "delta", {"base": 2, "ver": 3, "add": [], "del": []},
             "missing_field:p.g"),
        down("delta_not_forward", "delta", delta(ver=2), "bad_field:p.ver"),
        down("delta_add_and_delete_same", "delta", delta(add=[entry], **{"del": [TABLE[0]]}),
             "bad_field:p.del"),
        down("delta_deletes_unsorted", "delta", delta(**{"del": [TABLE[1], TABLE[0]]}), "bad_field:p.del"),
        down("delta_65_deletes", "delta", delta(**{"del": [f"{i:032x}" for i in range(65)]}),
             "bad_field:p.del"),
        down("event_ack_negative", "ev_ack", {"upto": -1}, "bad_field:p.upto"),
        down("event_ack_missing", "ev_ack", {"up_to": 3}, "missing_field:p.upto"),
        down("command_unknown_action", "cmd", dict(cmd, action="explode"), "bad_field:p.action"),
        down("command_duration_0", "cmd", dict(cmd, dur=0), "bad_field:p.dur"),
        down("command_duration_3601", "cmd", dict(cmd, dur=3601), "bad_field:p.dur"),
        down("command_lock_with_duration", "cmd", dict(cmd, action="lock", dur=60), "bad_field:p.dur"),
        down("config_without_version", "config", {k: v for k, v in config.items() if k != "ver"},
             "missing_field:p.ver"),
        down("config_version_0", "config", dict(config, ver=0), "bad_field:p.ver"),
        down("config_unlock_61", "config", dict(config, unlock_s=61), "bad_field:p.unlock_s"),
        down("config_held_4", "config", dict(config, held_s=4), "bad_field:p.held_s"),
        down("config_nine_passage_windows", "config", dict(config, passage=[OFFICE] * 9),
             "bad_field:p.passage"),
        down("rekey_generation_0", "rekey", {"gen": 0, "wrapped": "a" * 64}, "bad_field:p.gen"),
        down("rekey_wrapped_uppercase", "rekey", {"gen": 2, "wrapped": "A" * 64}, "bad_field:p.wrapped"),
        down("rekey_wrapped_short", "rekey", {"gen": 2, "wrapped": "a" * 62}, "bad_field:p.wrapped"),
    ]


def _step_8() -> list[Case]:
    ack = _sealed(_message("ev_ack", 51, {"upto": 3}))
    hello = _sealed(_message("hello", 5, _hello()))
    return [
        _case("replayed_counter", "replayed", ack, last=51),
        _case("old_counter", "replayed", ack, last=60),
        _case("uplink_replayed", "replayed", hello, direction=m.UP, last=5),
    ]


def invalid_messages() -> list[Case]:
    return _steps_1_to_5() + _step_6() + _step_7() + _step_8()


# --- freshness, keys ---------------------------------------------------------------------------


def freshness() -> list[Case]:
    time = {"k": "time", "t": T0, "x": X0, "c": NONCE}
    snap = {"k": "snap", "t": T0, "x": X0}
    bound = dict(snap, c=NONCE)
    other = "ffffffffffffffffffffffffffffffff"
    cases = []

    def add(name: str, message: dict, expect: str | None, now: int | None = T0 + 1, trusted: bool = True,
            nonce: str | None = NONCE, age: int | None = 5, resync: bool = False) -> None:
        cases.append({"name": name, "message": message, "now": now, "trusted": trusted, "nonce": nonce,
                      "nonce_age_s": age, "resync": resync, "expect": expect})

    add("time_answering_the_challenge", time, None, now=None, trusted=False)
    add("time_fixes_a_clock_running_fast", time, None, now=X0 + 86400)
    add("time_fixes_a_clock_running_slow", time, None, now=T0 - 86400)
    add("time_challenge_at_30_s", time, None, age=m.TIME_CHALLENGE_TTL_S)
    add("time_challenge_at_31_s", time, "stale_challenge", age=m.TIME_CHALLENGE_TTL_S + 1)
    add("time_challenge_age_unknown", time, "stale_challenge", age=None)
    add("time_other_challenge", time, "wrong_challenge", nonce=other)
    add("time_before_any_hello", time, "wrong_challenge", nonce=None, age=None)
    add("time_in_resync", time, None, now=None, trusted=False, resync=True)
    add("fresh", snap, None)
    add("last_second", snap, None, now=X0 - 1)
    add("expired_at_x", snap, "expired", now=X0)
    add("expired_long_ago", snap, "expired", now=X0 + 86400)
    add("clock_unknown", snap, "expiry_unverifiable", now=None, trusted=False)
    add("clock_set_but_not_trusted", snap, "expiry_unverifiable", trusted=False)
    add("bound_to_current_challenge", bound, None)
    add("bound_to_old_challenge", bound, "wrong_challenge", nonce=other)
    add("bound_before_any_hello", bound, "wrong_challenge", nonce=None, age=None)
    add("bound_challenge_age_not_checked", bound, None, age=3600)
    add("resync_needs_challenge", snap, "resync_required", resync=True)
    add("resync_with_challenge", bound, None, resync=True)
    add("resync_with_old_challenge", bound, "wrong_challenge", resync=True, nonce=other)
    add("resync_clock_not_trusted", bound, "expiry_unverifiable", resync=True, trusted=False)
    add("expired_before_challenge", bound, "expired", now=X0, nonce=other)
    add("command_fresh", {"k": "cmd", "t": T0, "x": T0 + 30}, None, now=T0 + 29)
    add("command_expired", {"k": "cmd", "t": T0, "x": T0 + 30}, "expired", now=T0 + 30)
    return cases


def keys() -> dict:
    secrets = []
    for secret in (SECRET, NEW_SECRET, bytes(16), b"k" * 64):
        cred_ids = (CRED_A, CRED_B, CRED_C)
        k_table = table_key(secret)
        secrets.append({
            "secret_hex": secret.hex(),
            "k_up_hex": m.direction_key_bytes(secret, m.UP).hex(),
            "k_down_hex": m.direction_key_bytes(secret, m.DOWN).hex(),
            "k_table_hex": hmac_sha256(secret, b"openakerun/v2/table").hex(),
            "table_hashes": [{"cred_id": cred, "table_hash": table_hash(k_table, cred)} for cred in cred_ids],
        })
    rekeys = []
    for counter, new_secret in ((110, NEW_SECRET), (1, bytes(32)), (m.MAX_COUNTER, b"\xff" * 32)):
        rekeys.append({"secret_hex": SECRET.hex(), "counter": counter, "new_secret_hex": new_secret.hex(),
                       "wrapped": m.wrap_secret(new_secret, K_DOWN, counter)})
    return {"labels": {"up": "openakerun/v2/up", "down": "openakerun/v2/down", "table": "openakerun/v2/table",
                       "rekey": "openakerun/v2/rekey/"},
            "secrets": secrets, "rekey": rekeys}


# --- credentials, HMAC, schedules (unchanged by v2) -------------------------------------------


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

    t0 = 1764115200
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
    add("validity_from_inclusive", [], OFFSETS_TOKYO, t0, True, valid_from=t0)
    add("validity_before_from", [], OFFSETS_TOKYO, t0 - 1, False, valid_from=t0)
    add("validity_until_exclusive", [], OFFSETS_TOKYO, t0 + 100, False, valid_until=t0 + 100)
    add("validity_until_last_second", [], OFFSETS_TOKYO, t0 + 99, True, valid_until=t0 + 100)
    # Berlin, 2026-03-29 01:00Z the offset goes from +60 to +120: 07:30Z is 08:30 before, 09:30 after.
    berlin = [[1761440400, 60], [1774746000, 120]]
    mon_0730z_winter = 1774251000  # Monday 2026-03-23 07:30Z = 08:30 CET
    add("offset_winter_before_nine", [[0x1F, 540, 600]], berlin, mon_0730z_winter, False)
    add("offset_summer_after_nine", [[0x1F, 540, 600]], berlin, mon_0730z_winter + 7 * 86400, True)
    return cases


def mobile_keys() -> dict:
    """A mobile key's derivations at one lock, and presentations a lock refuses (docs/PROTOCOL.md)."""
    device_secret, device_id, generation = bytes(range(32)), "front-door", 3
    key_id, key_secret = bytes(range(0xA0, 0xB0)), bytes(range(0x40, 0x60))
    challenge, spent = bytes(range(0xC0, 0xD0)), bytes(range(0xE0, 0xF0))
    common = mobilekeyfile.common_text(key_id, 42, 1767225600, 1769904000, [[0x1F, 540, 1080]])
    ticket = mobilekeyfile.lock_ticket(device_secret, generation, device_id, key_id, key_secret, common)
    keyfile = mobilekeyfile.key_file(key_id, key_secret, 42, "", 1767225600, 1769904000, [[0x1F, 540, 1080]],
                                     common, [ticket])
    good = mobilekeyfile.presentation(keyfile, ticket, device_id, challenge.hex())
    k_mobile = hmac_sha256(device_secret, mk.LABEL_MOBILE)
    k_door = mk.door_secret(key_secret, device_id.encode())
    body = good[mk.HEAD_BYTES:]

    def edit(at: int, value: bytes) -> str:
        return (good[:at] + value + good[at + len(value):]).decode()

    refused = [
        ("ok", good.decode(), None),
        ("answer_altered", edit(33, b"00"), mk.BAD_ANSWER),
        ("mac_altered", edit(66, b"00"), mk.BAD_PAYLOAD),
        ("common_altered", good.decode().replace('"u":42', '"u":43'), mk.BAD_PAYLOAD),
        ("other_door", good.decode().replace(" front-door ", " back-door "), mk.WRONG_DOOR),
        ("generation_not_held", good.decode().replace(" front-door 3 ", " front-door 4 "), mk.KEY_OUTDATED),
        ("spent_challenge", edit(0, spent.hex().encode()), mk.REPLAYED),
        ("unknown_challenge", edit(0, b"ff" * 16), mk.WRONG_CHALLENGE),
        ("upper_case_hex", edit(0, challenge.hex().upper().encode()), mk.BAD_FORMAT),
        ("no_separator", edit(32, b"x"), mk.BAD_FORMAT),
        ("cut_in_the_head", good[:80].decode(), mk.TRUNCATED),
        ("cut_after_the_device", good[: mk.HEAD_BYTES + len(device_id)].decode(), mk.TRUNCATED),
        ("oversized", good.decode() + "x" * (mk.MAX_PRESENTATION_BYTES - len(good) + 1), mk.TOO_LARGE),
    ]
    return {
        "lock": {"device_secret_hex": device_secret.hex(), "device_id": device_id,
                 "generations": [generation], "challenge_hex": challenge.hex(),
                 "spent_challenge_hex": spent.hex()},
        "key": {"key_id_hex": key_id.hex(), "secret_hex": key_secret.hex(), "common": common},
        "derived": {"k_mobile_hex": k_mobile.hex(), "k_door_hex": k_door.hex(), "wrap_hex": ticket["wrap"],
                    "ticket_body": body.decode(), "mac_hex": ticket["mac"],
                    "answer_hex": good[33:65].decode()},
        "presentations": [{"name": n, "presentation": p, "expect": e} for n, p, e in refused],
    }


def render() -> dict[str, str]:
    """File name -> the exact text of every vector file (test_independent checks the files against it)."""
    return {
        "messages_valid.jsonl": _json_lines(_header(), valid_messages()),
        "messages_invalid.jsonl": _json_lines(_header(), invalid_messages()),
        # The largest messages the contract allows, one per file: the heap test decodes each under 100K.
        "largest_snapshot_chunk.json": _json(dict(_header("x" * 32), cases=[worst_case_snapshot()])),
        "largest_event_batch.json": _json(dict(_header("x" * 32), cases=[worst_case_events()])),
        "freshness.json": _json({"cases": freshness()}),
        "keys.json": _json(keys()),
        "credentials.json": _json(credentials()),
        "hmac_sha256.json": _json({"source": "RFC 4231 section 4", "cases": hmac_rfc4231()}),
        "schedules.json": _json({"cases": schedules()}),
        "mobile_keys.json": _json(mobile_keys()),
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in ("messages_valid.json", "messages_invalid.json"):  # the v1 names
        (OUT / stale).unlink(missing_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text, encoding="utf-8")
    print("wrote", ", ".join(sorted(p.name for p in OUT.iterdir())))


if __name__ == "__main__":
    main()
