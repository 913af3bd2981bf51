# micropython-test heapsize=144K
# heapsize 144K (136K is the least that passes, 120K before protocol v2's code): the whole core compiles
# from source into the heap here.
# A store update runs in steps and the door keeps working meanwhile: a tap decided while a delta is merged (or
# a snapshot verified) gets the live version's answer, the update completes afterwards, and an update that
# is cancelled half-way leaves the live version and no leftover file.
# ruff: noqa: I001, E402  (fwenv must run first: it puts firmware/ on the import path)
import asyncio
import binascii
import os
import time

from tests.firmware import fwenv, fwhw

from core.app import LockApp

FILLER = 600  # other credentials, so the merge and the read-back check take many steps
CONFIG = {"site_key": binascii.hexlify(fwenv.SITE_KEY).decode(),
          "device_secret": binascii.hexlify(fwenv.DEVICE_SECRET).decode(), "poll_ms": 5, "tap_repeat_ms": 0}
OLD_CARD, NEW_CARD = 1, 2  # OLD_CARD is in version 1 and deleted by the update; NEW_CARD is added


def _sorted_entries(cards):
    """Entries in hash order, made one at a time (a list of them all would not fit the small heap)."""
    cards = sorted([fwenv.table_hash(n), 0, 0, 0, []] for n in cards)
    for n in range(100, 100 + FILLER):  # fake_hash order is numeric order
        filler = [fwenv.fake_hash(n), 0, 0, 0, []]
        while cards and cards[0][0] < filler[0]:
            yield cards.pop(0)
        yield filler
    yield from cards


def _chunks(cards, size=16):
    """Snapshot chunks (lists of at most `size` entries), made lazily."""
    chunk = []
    for entry in _sorted_entries(cards):
        chunk.append(entry)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _chunk_count(cards, size=16):
    return (FILLER + len(cards) + size - 1) // size


def _app():
    hw = fwhw.FakeHardware(fwenv.temp_dir(), now=1795392000)
    app = LockApp(hw, CONFIG)
    of = _chunk_count([OLD_CARD])
    i = 0
    for chunk in _chunks([OLD_CARD]):  # bound to the challenge: ends the fresh lock's resync
        ack = asyncio.run(app.apply_snapshot({"ver": 1, "g": 1, "i": i, "of": of, "e": chunk}, True))
        i += 1
    assert ack == {"ver": 1, "ok": True} and not app.resync, ack
    return hw, app


def _delta():
    return {"base": 1, "ver": 2, "g": 1, "add": [[fwenv.table_hash(NEW_CARD), 0, 0, 0, []]],
            "del": [fwenv.table_hash(OLD_CARD)]}


def _reason(app, card):
    return app.handle_tap("iso14443a", fwenv.uid(card)).reason


def _done(hw, app):
    app.store.close()
    fwenv.remove_tree(hw.data_dir)


async def _until_updating(app):
    # An update that never yields (blocks the loop) is never seen under way: fail rather than hang.
    for _ in range(100):
        if app.store.updating():
            return
        await asyncio.sleep_ms(0)
    raise AssertionError("the update never yielded to the loop while under way")


async def _taps_while(app, update):
    """Start `update`, tap both cards once it is under way; (old card, new card, still updating, ack)."""
    task = asyncio.create_task(update)
    await _until_updating(app)
    old, new = _reason(app, OLD_CARD), _reason(app, NEW_CARD)
    still = app.store.updating()
    return old, new, still, await task


def test_tap_during_a_delta_merge_gets_the_live_versions_answer():
    hw, app = _app()
    old, new, still, ack = asyncio.run(_taps_while(app, app.apply_delta(_delta())))
    assert (old, new, still) == ("ok", "unknown_credential", True)
    assert ack == {"ver": 2, "ok": True}
    assert (_reason(app, OLD_CARD), _reason(app, NEW_CARD)) == ("unknown_credential", "ok")
    _done(hw, app)


def test_tap_during_a_snapshot_verification_gets_the_live_versions_answer():
    hw, app = _app()
    of = _chunk_count([NEW_CARD])
    last = None
    i = 0
    for chunk in _chunks([NEW_CARD]):
        if last is not None:
            assert asyncio.run(app.apply_snapshot(last)) is None
        last = {"ver": 2, "g": 1, "i": i, "of": of, "e": chunk}
        i += 1
    old, new, still, ack = asyncio.run(_taps_while(app, app.apply_snapshot(last)))
    assert (old, new, still) == ("ok", "unknown_credential", True)
    assert ack == {"ver": 2, "ok": True}
    assert (_reason(app, OLD_CARD), _reason(app, NEW_CARD)) == ("unknown_credential", "ok")
    _done(hw, app)


class _ReaderDuringUpdate:
    """Hands over a card only while the store is being updated: the run loop must poll during the merge."""

    def __init__(self, store):
        self.store = store
        self.handed = False

    def poll(self):
        if self.handed or not self.store.updating():
            return None
        self.handed = True
        return ("iso14443a", fwenv.uid(OLD_CARD))


def test_run_loop_decides_a_tap_at_the_door_while_a_delta_is_merged():
    hw, app = _app()
    hw.reader = _ReaderDuringUpdate(app.store)
    app.store.on_progress = lambda: time.sleep_ms(1)  # slow flash: every step of the update takes >= 1 ms
    decisions = []
    report = hw.report

    def watch(kind, fields):
        if kind == "decision":
            decisions.append((fields["reason"], app.store.updating()))
        report(kind, fields)

    hw.report = watch

    async def scenario():
        loop = asyncio.create_task(app.run())
        await asyncio.sleep_ms(20)
        ack = await app.apply_delta(_delta())
        loop.cancel()
        return ack

    assert asyncio.run(scenario()) == {"ver": 2, "ok": True}
    assert decisions == [("ok", True)]  # decided during the merge, from version 1
    assert app.store.version == 2 and _reason(app, OLD_CARD) == "unknown_credential"
    _done(hw, app)


def test_update_cancelled_half_way_keeps_the_live_version():
    hw, app = _app()

    async def scenario():
        task = asyncio.create_task(app.apply_delta(_delta()))
        await _until_updating(app)
        for _ in range(5):
            await asyncio.sleep_ms(0)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return "cancelled"
        return "finished"

    assert asyncio.run(scenario()) == "cancelled"
    assert not app.store.updating() and app.store.version == 1
    assert sorted(n for n in os.listdir(hw.data_dir) if n.startswith("perm")) == ["perm.db"]
    assert _reason(app, OLD_CARD) == "ok"
    # the next update is accepted and applied
    assert asyncio.run(app.apply_delta(_delta())) == {"ver": 2, "ok": True}
    _done(hw, app)


def test_second_update_waits_for_the_first():
    hw, app = _app()

    async def scenario():
        first = asyncio.create_task(app.apply_delta(_delta()))
        second = asyncio.create_task(app.apply_delta(dict(_delta(), base=2, ver=3, add=[], **{"del": []})))
        return await first, await second

    assert asyncio.run(scenario()) == ({"ver": 2, "ok": True}, {"ver": 3, "ok": True})
    assert app.store.updating() is False
    # the store itself refuses a second update while one is under way (the app serialises them)
    steps = app.store.delta_steps(3, 4, [], [])
    next(steps)
    assert app.store.apply_delta(3, 5, [], []) == "store_busy"
    steps.close()
    assert app.store.version == 3 and "perm.db.new" not in os.listdir(hw.data_dir)
    _done(hw, app)
