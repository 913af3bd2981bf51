# Mobile keys for the lock tests: a key issued as the cloud does (shared_schema.mobilekeyfile), and a phone
# that answers the lock's challenge with it. Runs on MicroPython and CPython alike.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
import asyncio
import binascii

from tests.firmware import fwapp, fwenv, fwhw

from core.app import LockApp
from shared_schema import mobilekeyfile as keyfile_mod
from shared_schema import mobilekeys as mk
from shared_schema.credentials import table_hash

DEVICE_ID = "front-door"
OTHER_DEVICE = "back-door"
OTHER_SECRET = bytes(range(100, 132))
CONFIG = dict(fwapp.CONFIG)
CONFIG["device_id"] = DEVICE_ID
NOW = fwapp.NOW


def key_id(n):
    return bytes([0xA0, n]) + bytes(range(14))


def make_key(n=1, valid_from=0, valid_until=0, windows=None, generation=1, secret=fwenv.DEVICE_SECRET,
             key_secret=None):
    """A key file for key number n with tickets for this lock and another one."""
    kid = key_id(n)
    k = key_secret or bytes([n]) * 32
    common = keyfile_mod.common_text(kid, 7, valid_from, valid_until, windows or [])
    tickets = [
        keyfile_mod.lock_ticket(secret, generation, DEVICE_ID, kid, k, common),
        keyfile_mod.lock_ticket(OTHER_SECRET, 1, OTHER_DEVICE, kid, k, common),
    ]
    return keyfile_mod.key_file(kid, k, 7, "test", valid_from, valid_until, windows or [], common, tickets)


def entry(n, role=0, valid_from=0, valid_until=0, windows=None, secret=fwenv.DEVICE_SECRET):
    """The table entry of key n (keyed like a card: table hash of its credential id = key id)."""
    return [table_hash(fwenv.table_key(secret), binascii.hexlify(key_id(n)).decode()), role, valid_from,
            valid_until, windows or []]


def make_lock(entries, now=NOW, data_dir=None, config=None, hw=None):
    """A provisioned lock with a phone transport and a table of `entries` (sorted here); `hw` defaults to
    fake hardware with a phone port."""
    hw = hw or fwhw.FakeHardware(data_dir or fwenv.temp_dir(), now=now, phone=True)
    app = LockApp(hw, config or CONFIG)
    app.new_challenge()
    assert app.apply_time(now, fwapp.UTC, fwapp.UNTIL) is None
    payload = {"ver": 1, "g": 1, "i": 0, "of": 1, "e": sorted(entries)}
    ack = asyncio.run(app.apply_snapshot(payload, True))
    assert ack == {"ver": 1, "ok": True}, ack
    return hw, app


def presentation(keyfile, challenge_hex, ticket_device=DEVICE_ID, at_device=DEVICE_ID):
    ticket = keyfile_mod.ticket_for(keyfile, ticket_device)
    return keyfile_mod.presentation(keyfile, ticket, at_device, challenge_hex)


def send(app, data, part_size=None):
    """Feed a presentation to the lock's exchange (whole, or in parts as BLE writes would)."""
    exchange = app.phone
    if part_size is None or len(data) <= part_size:
        return exchange.feed(mk.PART_SINGLE, data)
    parts = [data[i:i + part_size] for i in range(0, len(data), part_size)]
    for i in range(len(parts)):
        part = mk.PART_FIRST if i == 0 else (mk.PART_LAST if i == len(parts) - 1 else mk.PART_MIDDLE)
        error = exchange.feed(part, parts[i])
        if error:
            return error
    return None


def tap(app, keyfile, **options):
    """One exchange: hello, the phone's presentation, the lock's step; the verdict's reason."""
    _, challenge = app.phone.hello()
    data = presentation(keyfile, challenge, **options)
    assert send(app, data) is None
    return app.phone.handle().reason
