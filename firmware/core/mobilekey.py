# A phone at the door: the lock's side of a mobile key exchange (docs/PROTOCOL.md "Mobile keys").
#
#   hello()            -> (device_id, challenge hex): a fresh single-use challenge, the inbox emptied
#   feed(part, data)   <- the presentation, in parts as BLE writes bring it (bounded, preallocated buffer)
#   check(keys)        -> CheckResult: the presentation checked up to the key's own payload
#
# The checks, first failure wins, nothing parsed before the ticket's MAC verified:
#   size (too_large, truncated) -> fixed fields, scanned in place (bad_format) -> the challenge it answers
#   (replayed, wrong_challenge, stale_challenge; the current one is spent from here on) -> the ticket is for
#   this lock (wrong_door) and of a key generation it holds (key_outdated) -> ticket MAC (bad_payload) ->
#   the common JSON (bad_payload) -> the answer, with k_d unwrapped from the ticket (bad_answer; constant
#   time).
# The app then checks the payload's validity and windows and the table entry of the key id, as for a card.
#
# No network, no file I/O, nothing kept between exchanges but the fixed buffers: a presentation is at most
# MAX_PRESENTATION_BYTES and the allocations of one check (two HMACs, the small JSON) are freed after it.
import binascii
import json
import os

from micropython import const

from shared_schema import mobilekeys as mk
from shared_schema.hmac_sha256 import compare_digest
from shared_schema.schedule import MAX_WINDOWS, window_error

_HEX = const(32)
_ANSWER_AT = const(33)
_MAC_AT = const(66)
_BODY_AT = const(99)
_MAX_DEVICE_ID = const(32)
_MAX_GEN_DIGITS = const(10)
# The last challenges answered, kept to tell a replay from a mere wrong challenge.
SPENT_MEMORY = const(4)
_IDLE = const(0)
_FILLING = const(1)
_READY = const(2)
BUSY = "busy"  # a presentation is waiting to be decided: the transport refuses more until then
BAD_PART = "bad_part"  # a middle or last part without a first one


def _is_hex(view, start, end):
    for i in range(start, end):
        c = view[i]
        if not (48 <= c <= 57 or 97 <= c <= 102):
            return False
    return True


def _is_device_char(c):
    return 97 <= c <= 122 or 48 <= c <= 57 or c == 45 or c == 95


class Inbox:
    """One presentation assembled from its parts in a buffer allocated once."""

    def __init__(self):
        self.buf = bytearray(mk.MAX_PRESENTATION_BYTES)
        self.length = 0
        self.state = _IDLE
        self.overflow = False

    def reset(self):
        self.length, self.state, self.overflow = 0, _IDLE, False

    def ready(self):
        return self.state == _READY

    def feed(self, part, data):
        """Append a part ("S" whole, "F" first, "M" middle, "L" last). None, or BUSY / BAD_PART."""
        if self.state == _READY:
            return BUSY
        if part == mk.PART_SINGLE or part == mk.PART_FIRST:
            self.reset()
            self.state = _FILLING
        elif part not in (mk.PART_MIDDLE, mk.PART_LAST) or self.state != _FILLING:
            return BAD_PART
        size = len(data)
        if self.overflow or self.length + size > len(self.buf):
            self.overflow = True  # the rest is dropped; the phone hears too_large after its last part
        else:
            self.buf[self.length:self.length + size] = data
            self.length += size
        if part == mk.PART_SINGLE or part == mk.PART_LAST:
            self.state = _READY
        return None


class Challenges:
    """The current challenge (hex, single use, ttl_ms) and the last few spent ones."""

    def __init__(self, ttl_ms, ticks_ms, ticks_diff):
        self.ttl_ms = ttl_ms
        self._ticks_ms, self._ticks_diff = ticks_ms, ticks_diff
        self.current = bytearray(_HEX)
        self.live = False
        self._issued_at = 0
        self._spent = bytearray(_HEX * SPENT_MEMORY)
        self._spent_count = 0
        self._next_spent = 0

    def issue(self):
        """A fresh challenge (32 hex chars as str); any previous one can no longer be answered."""
        self.current[:] = binascii.hexlify(os.urandom(mk.CHALLENGE_BYTES))
        self.live = True
        self._issued_at = self._ticks_ms()
        return self.current.decode()

    def _spend(self):
        at = self._next_spent * _HEX
        self._spent[at:at + _HEX] = self.current
        self._next_spent = (self._next_spent + 1) % SPENT_MEMORY
        self._spent_count = min(self._spent_count + 1, SPENT_MEMORY)
        self.live = False

    def check(self, view):
        """None when `view` (32 hex bytes) is the current challenge in time; it is spent either way once it
        matched. Otherwise replayed / wrong_challenge / stale_challenge."""
        spent = memoryview(self._spent)
        for i in range(self._spent_count):
            if compare_digest(view, spent[i * _HEX:(i + 1) * _HEX]):
                return mk.REPLAYED
        if not self.live or not compare_digest(view, self.current):
            return mk.WRONG_CHALLENGE
        age = self._ticks_diff(self._ticks_ms(), self._issued_at)
        self._spend()
        if age > self.ttl_ms or age < 0:
            return mk.STALE_CHALLENGE
        return None


class CheckResult:
    def __init__(self, reason, key_id=None, valid_from=0, valid_until=0, windows=None):
        self.reason = reason  # None: the phone holds the key; the payload's limits and the table come next
        self.key_id = key_id  # 16 bytes once the ticket's MAC verified, else None
        self.valid_from = valid_from
        self.valid_until = valid_until
        self.windows = windows or []


def _fields(view, n):
    """(device id end, generation end) of a presentation of n bytes, or a refusal reason (str)."""
    if n < _BODY_AT + 1:
        return mk.TRUNCATED
    if view[32] != 32 or view[65] != 32 or view[98] != 32:
        return mk.BAD_FORMAT
    if not (_is_hex(view, 0, _HEX) and _is_hex(view, _ANSWER_AT, _ANSWER_AT + _HEX)
            and _is_hex(view, _MAC_AT, _MAC_AT + _HEX)):
        return mk.BAD_FORMAT
    end = _BODY_AT
    while end < n and view[end] != 32:
        if not _is_device_char(view[end]) or end - _BODY_AT >= _MAX_DEVICE_ID:
            return mk.BAD_FORMAT
        end += 1
    if end == _BODY_AT:
        return mk.BAD_FORMAT
    if end >= n:
        return mk.TRUNCATED
    gen_end = end + 1
    while gen_end < n and view[gen_end] != 32:
        c = view[gen_end]
        if not 48 <= c <= 57 or gen_end - end > _MAX_GEN_DIGITS or (gen_end == end + 1 and c == 48):
            return mk.BAD_FORMAT
        gen_end += 1
    # then: SP wrap(32 hex) SP common (at least "{}")
    if gen_end == end + 1:
        return mk.BAD_FORMAT if gen_end < n else mk.TRUNCATED
    if n < gen_end + 1 + _HEX + 1 + 2:
        return mk.TRUNCATED
    if not _is_hex(view, gen_end + 1, gen_end + 1 + _HEX) or view[gen_end + 1 + _HEX] != 32:
        return mk.BAD_FORMAT
    return end, gen_end


def _generation(view, start, end):
    value = 0
    for i in range(start, end):
        value = value * 10 + view[i] - 48
    return value


def _payload(text):
    """(key id, valid_from, valid_until, windows) of the common JSON (already authenticated), or None."""
    try:
        common = json.loads(text)
    except ValueError:
        return None
    if not isinstance(common, dict) or common.get("v") != mk.VERSION:
        return None
    key_hex, windows = common.get("k"), common.get("win")
    valid_from, valid_until = common.get("f"), common.get("t")
    if not isinstance(key_hex, str) or len(key_hex) != _HEX:
        return None
    for value in (valid_from, valid_until):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return None
    if not isinstance(windows, list) or len(windows) > MAX_WINDOWS:
        return None
    for window in windows:
        if window_error(window):
            return None
    try:
        key_id = binascii.unhexlify(key_hex)
    except ValueError:
        return None
    return key_id, valid_from, valid_until, windows


class PhoneExchange:
    """The lock's end of the exchange, for one device id; the transport (BLE, the simulator) drives it."""

    def __init__(self, device_id, ticks_ms, ticks_diff, ttl_ms=mk.CHALLENGE_TTL_S * 1000):
        self.device_id = device_id  # bytes
        self.inbox = Inbox()
        self.challenges = Challenges(ttl_ms, ticks_ms, ticks_diff)

    def hello(self):
        """A new exchange: (device id str, fresh challenge hex); anything half-received is dropped."""
        if self.inbox.state != _READY:
            self.inbox.reset()
        return self.device_id.decode(), self.challenges.issue()

    def feed(self, part, data):
        return self.inbox.feed(part, data)

    def ready(self):
        return self.inbox.ready()

    def done(self):
        self.inbox.reset()

    def check(self, mobile_key_of):
        """Check the waiting presentation. `mobile_key_of(g)`: the lock's K_mobile (HmacKey) of key
        generation g, or None when it does not hold that secret."""
        inbox = self.inbox
        if inbox.overflow:
            return CheckResult(mk.TOO_LARGE)
        view = memoryview(inbox.buf)[:inbox.length]
        found = _fields(view, inbox.length)
        if isinstance(found, str):
            return CheckResult(found)
        dev_end, gen_end = found
        refusal = self.challenges.check(view[0:_HEX])
        if refusal:
            return CheckResult(refusal)
        device_id = self.device_id
        if dev_end - _BODY_AT != len(device_id) or not compare_digest(view[_BODY_AT:dev_end], device_id):
            return CheckResult(mk.WRONG_DOOR)
        generation = _generation(view, dev_end + 1, gen_end)
        k_mobile = mobile_key_of(generation) if generation <= mk.MAX_GENERATION else None
        if k_mobile is None:
            return CheckResult(mk.KEY_OUTDATED)
        received_mac = binascii.unhexlify(view[_MAC_AT:_MAC_AT + _HEX])
        if not compare_digest(mk.ticket_mac(k_mobile, view[_BODY_AT:]), received_mac):
            return CheckResult(mk.BAD_PAYLOAD)
        payload = _payload(bytes(view[gen_end + 2 + _HEX:]))
        if payload is None:
            return CheckResult(mk.BAD_PAYLOAD)
        key_id, valid_from, valid_until, windows = payload
        wrap = binascii.unhexlify(view[gen_end + 1:gen_end + 1 + _HEX])
        k_door = mk.xor16(wrap, mk.wrap_pad(k_mobile, key_id))
        challenge = binascii.unhexlify(view[0:_HEX])
        expected = mk.answer(k_door, challenge, device_id, key_id)
        if not compare_digest(expected, binascii.unhexlify(view[_ANSWER_AT:_ANSWER_AT + _HEX])):
            return CheckResult(mk.BAD_ANSWER, key_id)
        return CheckResult(None, key_id, valid_from, valid_until, windows)


def device_id_bytes(text):
    """The config's device id as bytes when it is a valid one (1-32 of a-z 0-9 - _), else None."""
    if not isinstance(text, str) or not 1 <= len(text) <= _MAX_DEVICE_ID:
        return None
    raw = text.encode()
    for c in raw:
        if not _is_device_char(c):
            return None
    return raw
