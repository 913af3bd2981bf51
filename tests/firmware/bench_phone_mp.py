# Mobile key exchange at the lock, on the real MicroPython unix port: the lock's time from issuing a challenge
# to its decision (the phone's own work between the two is not counted), what a refusal costs, and the heap
# the exchange needs (its fixed buffers, and what one exchange allocates and frees).
#
#   .venv/bin/micropython -X heapsize=4M tests/firmware/bench_phone_mp.py [ROUNDS] [CREDENTIALS]
#
# tools/bench_phone.py runs it; figures in docs/BENCHMARKS.md, "Mobile keys".
# ruff: noqa: I001, E402, UP031  (fwenv first: it puts firmware/ on the path; %-format runs on MicroPython)
import gc
import sys
import time

if "." not in sys.path:
    sys.path.append(".")

from tests.firmware import fwenv
from core.app import LockApp  # noqa: F401  (the lock's code, before the phone's and the test helpers)

gc.collect()
_FREE_BEFORE_PHONE = gc.mem_free()
from core.phonetap import PhoneTaps  # noqa: F401

gc.collect()
_PHONE_CODE = _FREE_BEFORE_PHONE - gc.mem_free()
from tests.firmware import fwphone

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
CREDENTIALS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000


def _stats(samples):
    samples = sorted(samples)
    return "median %d us, p95 %d us, max %d us" % (
        samples[len(samples) // 2], samples[len(samples) * 95 // 100], samples[-1])


class _Forget:
    def append(self, item):
        pass


def _table():
    entries = [fwphone.entry(1)]
    for n in range(CREDENTIALS - 1):
        entries.append([fwenv.fake_hash(n), 0, 0, 0, []])
    return entries


def _lock_time(app, keyfile, mutate=None):
    samples = []
    for _ in range(ROUNDS):
        t0 = time.ticks_us()
        _, challenge = app.phone.hello()
        spent = time.ticks_diff(time.ticks_us(), t0)
        data = fwphone.presentation(keyfile, challenge)  # the phone's work: not the lock's time
        if mutate is not None:
            data = mutate(data)
        t1 = time.ticks_us()
        app.phone.feed("S", data)
        verdict = app.phone.handle()
        samples.append(spent + time.ticks_diff(time.ticks_us(), t1))
        app.thumbturn.state = "locked"
    return verdict.reason, samples


def _allocated(app, keyfile):
    _, challenge = app.phone.hello()
    data = fwphone.presentation(keyfile, challenge)
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    app.phone.feed("S", data)
    app.phone.handle()
    used = gc.mem_alloc() - before
    gc.enable()
    return used


def main():
    code = _PHONE_CODE
    hw, app = fwphone.make_lock(_table(), config=fwphone.CONFIG)
    hw.report = lambda kind, fields: None
    hw.led = hw.buzzer = None
    hw.phone.result = lambda reason: None
    hw.actuator.moves = _Forget()
    gc.collect()
    before = gc.mem_free()
    from core.mobilekey import PhoneExchange

    exchange = PhoneExchange(b"front-door", hw.ticks_ms, hw.ticks_diff)
    gc.collect()
    fixed = before - gc.mem_free()
    del exchange
    valid = fwphone.make_key(1)
    print("mobile key exchange, %d rounds, %d credentials in the table" % (ROUNDS, CREDENTIALS))
    print("  phone modules (core.mobilekey, .phonetap, shared_schema.mobilekeys), source: %d B" % code)
    print("  one exchange's fixed buffers (inbox, challenges): %d B" % fixed)
    for name, mutate in (
        ("granted", None),
        ("bad_format (refused by the scan)", lambda d: b"z" * len(d)),
        ("wrong_challenge", lambda d: b"0" * 32 + d[32:]),
        ("bad_payload (ticket MAC)", lambda d: d[:-3] + b"0}]"[-3:] if d[-3:] != b"0}]" else d[:-3] + b"1}]"),
        ("bad_answer", lambda d: d[:33] + (b"0" if d[33:34] != b"0" else b"1") + d[34:]),
    ):
        reason, samples = _lock_time(app, valid, mutate)
        print("  %-34s %-16s %s" % (name, reason, _stats(samples)))
    _lock_time(app, valid)
    print("  one granted exchange allocates (and frees) %d B" % _allocated(app, valid))
    gc.collect()
    free = gc.mem_free()
    for _ in range(50):
        _lock_time(app, valid)
    gc.collect()
    print("  heap after 50 x %d more exchanges: %+d B" % (ROUNDS, gc.mem_free() - free))


main()
