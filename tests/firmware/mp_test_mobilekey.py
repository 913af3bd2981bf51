# micropython-test heapsize=224K
# A phone's mobile key at the lock (core.mobilekey + LockApp.handle_phone), on the real MicroPython
# interpreter with fake hardware: a valid key unlocks; every way to get it wrong is refused with its own
# reason, the lock keeps running, and a burst of exchanges leaves the heap exactly as it was.
# heapsize 224K: the whole core and the key builders (canonical JSON) compile from source into the heap here.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
import gc

from tests.firmware import fwapp, fwenv, fwhw, fwphone

from core.app import LockApp
from shared_schema import mobilekeys as mk

NOW = fwphone.NOW
HOUR = 3600
_key, _entry, _lock, _tap = fwphone.make_key, fwphone.entry, fwphone.make_lock, fwphone.tap


def _events(app):
    return fwapp.events(app)


def test_valid_key_unlocks_and_logs_the_key_id():
    hw, app = _lock([_entry(1)])
    keyfile = _key(1, valid_from=NOW - HOUR, valid_until=NOW + HOUR)
    assert _tap(app, keyfile) == "ok"
    assert hw.actuator.moves == ["unlock"]
    assert hw.phone.results == ["ok"]
    assert _events(app)[-1] == [_events(app)[-1][0], NOW, "granted", keyfile["key_id"], "ok"]
    decision = hw.reports_of("decision")[-1]
    assert decision["kind"] == "mobile" and decision["granted"] and decision["cred"] == keyfile["key_id"]
    # the key's secret never leaves the phone: nothing the lock reports carries it
    assert keyfile["secret"] not in repr(hw.reports)


def test_parts_as_ble_writes_bring_them():
    hw, app = _lock([_entry(1)])
    keyfile = _key(1)
    _, challenge = app.phone.hello()
    data = fwphone.presentation(keyfile, challenge)
    assert fwphone.send(app, data, part_size=20) is None
    assert app.phone.ready()
    assert app.phone.handle().reason == "ok"


def test_the_keys_own_limits_are_checked():
    hw, app = _lock([_entry(n) for n in (1, 2, 3)])
    assert _tap(app, _key(1, valid_until=NOW - 1)) == "expired"
    assert _tap(app, _key(2, valid_from=NOW + 60)) == "not_yet_valid"
    # Monday 10:00 UTC: a Tuesday-only key and a Monday evening key are outside their windows
    assert _tap(app, _key(3, windows=[[2, 0, 1440]])) == "outside_schedule"
    assert _tap(app, _key(3, windows=[[1, 1080, 1320]])) == "outside_schedule"
    assert _tap(app, _key(3, windows=[[1, 540, 1080]])) == "ok"
    assert hw.actuator.moves == ["unlock"]


def test_the_table_entry_is_checked_as_for_a_card():
    entries = [_entry(1, valid_until=NOW - 1), _entry(2, windows=[[2, 0, 1440]]), _entry(3, role=1)]
    hw, app = _lock(entries)
    assert _tap(app, _key(1)) == "expired"
    assert _tap(app, _key(2)) == "outside_schedule"
    # revoked: the cloud removed the key id from the table; the key itself is still within its validity
    assert _tap(app, _key(4, valid_until=NOW + HOUR)) == "unknown_credential"
    app.apply_config({"ver": 2, "mode": "lockdown", "passage": [], "unlock_s": 5, "held_s": 30})
    assert _tap(app, _key(3)) == "ok"  # an admin key opens in lockdown
    assert hw.actuator.moves == ["unlock"]


def test_a_time_limited_key_needs_a_trusted_clock():
    hw = fwhw.FakeHardware(fwenv.temp_dir(), now=NOW, phone=True)
    app = LockApp(hw, fwphone.CONFIG)  # no time message: the clock is not trusted
    assert _tap(app, _key(1, valid_until=NOW + HOUR)) == "clock_not_set"


def test_wrong_door_and_outdated_generation():
    hw, app = _lock([_entry(1)])
    keyfile = _key(1)
    assert _tap(app, keyfile, ticket_device=fwphone.OTHER_DEVICE) == "wrong_door"
    # a ticket MAC'd under generation 2, which this lock never held (issued after a rotation it missed)
    assert _tap(app, _key(1, generation=2)) == "key_outdated"
    assert hw.actuator.moves == []


def test_tampered_payload_and_wrong_secret():
    hw, app = _lock([_entry(1)])
    keyfile = _key(1, valid_until=NOW - 1)
    _, challenge = app.phone.hello()
    data = bytearray(fwphone.presentation(keyfile, challenge))
    at = bytes(data).find(b'"t":') + 4
    data[at] = ord("9")  # push the expiry into the future
    fwphone.send(app, bytes(data))
    assert app.phone.handle().reason == "bad_payload"
    # the genuine ticket with an answer from another secret (a copied ticket without k)
    thief = _key(1, valid_until=NOW - 1)
    thief["secret"] = "11" * 32
    assert _tap(app, thief) == "bad_answer"
    # the answer altered in transit
    _, challenge = app.phone.hello()
    data = bytearray(fwphone.presentation(_key(1), challenge))
    data[33] = ord("0") if data[33] != ord("0") else ord("1")
    fwphone.send(app, bytes(data))
    assert app.phone.handle().reason == "bad_answer"
    assert hw.actuator.moves == []


def test_replayed_and_other_challenges():
    hw, app = _lock([_entry(1)])
    keyfile = _key(1)
    _, challenge = app.phone.hello()
    recorded = fwphone.presentation(keyfile, challenge)
    fwphone.send(app, recorded)
    assert app.phone.handle().reason == "ok"
    fwphone.send(app, recorded)  # the same exchange played again, with or without a new challenge out
    assert app.phone.handle().reason == "replayed"
    app.phone.hello()
    fwphone.send(app, recorded)
    assert app.phone.handle().reason == "replayed"
    # an answer computed for another challenge, echoing the current one
    _, current = app.phone.hello()
    other = "ab" * 16
    data = bytearray(fwphone.presentation(keyfile, other))
    data[0:32] = current.encode()
    fwphone.send(app, bytes(data))
    assert app.phone.handle().reason == "bad_answer"
    # an answer to a challenge this lock never issued (or one superseded before it was answered)
    app.phone.hello()
    fwphone.send(app, fwphone.presentation(keyfile, other))
    assert app.phone.handle().reason == "wrong_challenge"
    _, first = app.phone.hello()
    app.phone.hello()
    fwphone.send(app, fwphone.presentation(keyfile, first))
    assert app.phone.handle().reason == "wrong_challenge"
    assert hw.actuator.moves == ["unlock"]


def test_a_challenge_is_answered_in_time_and_once():
    hw, app = _lock([_entry(1)])
    _, challenge = app.phone.hello()
    hw.time.ms += mk.CHALLENGE_TTL_S * 1000 + 1
    fwphone.send(app, fwphone.presentation(_key(1), challenge))
    assert app.phone.handle().reason == "stale_challenge"
    fwphone.send(app, fwphone.presentation(_key(1), challenge))
    assert app.phone.handle().reason == "replayed"  # spent by the late answer
    assert hw.actuator.moves == []


def test_truncated_oversized_and_malformed_messages():
    hw, app = _lock([_entry(1)])
    keyfile = _key(1)
    _, challenge = app.phone.hello()
    good = fwphone.presentation(keyfile, challenge)
    cases = [
        (good[:60], "truncated"),
        (good[:99], "truncated"),
        (good[: good.find(b" ", 99)], "truncated"),  # device id, then nothing
        (good + b"x" * mk.MAX_PRESENTATION_BYTES, "too_large"),
        (b"z" * 200, "bad_format"),
        (good[:32] + b"-" + good[33:], "bad_format"),
        (good[:99] + b"FRONT" + good[104:], "bad_format"),  # a device id in capitals
        (b"", "truncated"),
    ]
    for data, expected in cases:
        app.phone.hello()
        assert fwphone.send(app, data) is None
        assert app.phone.handle().reason == expected, (data, expected)
    # oversized in parts: the rest is dropped as it comes, the answer comes after the last part
    app.phone.hello()
    assert fwphone.send(app, good + b"y" * 600, part_size=100) is None
    assert app.phone.handle().reason == "too_large"
    # the lock still opens for the genuine phone afterwards
    assert _tap(app, keyfile) == "ok"
    assert hw.actuator.moves == ["unlock"]


def test_parts_out_of_order_and_a_busy_inbox():
    hw, app = _lock([_entry(1)])
    app.phone.hello()
    assert app.phone.feed(mk.PART_MIDDLE, b"abc") == "bad_part"
    assert app.phone.feed("Q", b"abc") == "bad_part"
    assert app.phone.feed(mk.PART_SINGLE, b"abc") is None
    assert app.phone.feed(mk.PART_SINGLE, b"def") == "busy"  # decided first, at the next step
    app.step()
    assert hw.phone.results == ["truncated"]
    assert app.phone.feed(mk.PART_SINGLE, b"def") is None


def test_unauthenticated_refusals_are_logged_at_most_every_few_seconds():
    hw, app = _lock([_entry(1)])
    before = len(_events(app))
    for _ in range(10):
        app.phone.hello()
        fwphone.send(app, b"junk" * 40)
        assert app.phone.handle().reason == "bad_format"
    assert len(_events(app)) == before + 1 and app.phone.unlogged == 9
    assert len(hw.phone.results) == 10  # every phone still hears why
    assert _tap(app, _key(1)) == "ok"  # an authenticated attempt is always logged
    assert len(_events(app)) == before + 2
    assert _tap(app, _key(2)) == "unknown_credential"
    assert _events(app)[-1][3] == _key(2)["key_id"]


def test_no_phone_exchange_without_a_device_id():
    hw = fwhw.FakeHardware(fwenv.temp_dir(), now=NOW, phone=True)
    app = LockApp(hw, fwapp.CONFIG)  # no device_id in the config
    assert app.phone is None and hw.phone.exchange is None
    app.step()


class _QuietPort(fwhw.FakePhonePort):
    def result(self, reason):
        self.last = reason


class _Forget:
    def append(self, item):
        pass


def test_a_burst_of_exchanges_leaves_the_heap_as_it_was():
    hw, app = _lock([_entry(1), _entry(2, valid_until=NOW - 1)])
    hw.report = lambda kind, fields: None  # observers keep nothing
    hw.phone = _QuietPort()
    hw.led = hw.buzzer = None
    hw.actuator.moves = _Forget()
    valid, expired = _key(1), _key(2)
    _, challenge = app.phone.hello()
    recorded = fwphone.presentation(valid, challenge)
    tampered = bytearray(recorded)
    tampered[-3] = ord("0")
    wrong_door = fwphone.presentation(valid, challenge, ticket_device=fwphone.OTHER_DEVICE)

    def burst():
        for data in (recorded, bytes(tampered), wrong_door, b"q" * 700, recorded[:50]):
            for keyfile in (valid, expired):
                _, challenge = app.phone.hello()
                fwphone.send(app, data)
                app.phone.handle()
                fwphone.send(app, fwphone.presentation(keyfile, challenge))
                app.phone.handle()

    burst()  # warm up: the K_mobile cache, the log's segment file
    app.hw.actuator.moves = []
    gc.collect()
    before = gc.mem_free()
    for _ in range(3):
        burst()
        app.hw.actuator.moves = []
    gc.collect()
    assert gc.mem_free() == before, (before, gc.mem_free())
    assert hw.phone.last == "expired"
