# Shared helpers for the firmware core tests on MicroPython: import path, temp dirs, a RAM block device
# that can lose power after N bytes, and fake hardware for LockApp (the real sim HAL lives in hal/sim.py).
import os
import sys


def _root():
    parts = __file__.replace("\\", "/").split("/")
    root = "/".join(parts[:-3])
    return root or "."


FIRMWARE = _root() + "/firmware" if _root() != "." else "firmware"
if FIRMWARE not in sys.path:
    sys.path.append(FIRMWARE)

import binascii  # noqa: E402

import vfs  # noqa: E402

SITE_KEY = b"0123456789abcdef-site-key"
_counter = [0]


# --- directories ------------------------------------------------------------------------------------------

def temp_dir():
    """A fresh directory on the host filesystem (VfsPosix)."""
    _counter[0] += 1
    path = "/tmp/lockfw_" + binascii.hexlify(os.urandom(4)).decode() + "_" + str(_counter[0])
    os.mkdir(path)
    return path


def remove_tree(path):
    for name in os.listdir(path):
        os.remove(path + "/" + name)
    os.rmdir(path)


# --- RAM block device with power cut ----------------------------------------------------------------------

class PowerCut(OSError):
    pass


class CutDevice:
    """Block device for vfs.VfsLfs2 in RAM. After `budget` written bytes (an erase counts as one) every
    write fails: the write in flight lands only partly, like flash losing power mid-program.

    LittleFS may call it with the heap locked (a file finalised by the GC), so the hot paths avoid
    allocating; `dead` makes a discarded device ignore everything, so a file object left open by an
    earlier run (closed later by its finaliser) can never write into a later run's flash."""

    def __init__(self, block_size=512, blocks=128, data=None):
        # data: an existing bytearray to use as the flash (shared between runs to spare the heap)
        self.block_size = block_size
        self.blocks = blocks
        self.data = data if data is not None else bytearray(block_size * blocks)
        self.budget = None
        self.written = 0
        self.boundaries = None  # list: cumulative byte count after each write call, when recording
        self.dead = False
        self._erased = b"\xff" * block_size

    def readblocks(self, block, buf, offset=0):
        if self.dead:
            return  # a finaliser of a discarded run: touch nothing, allocate nothing
        start = block * self.block_size + offset
        try:
            buf[:] = self.data[start : start + len(buf)]
        except MemoryError:  # heap locked: copy without allocating
            data = self.data
            for i in range(len(buf)):
                buf[i] = data[start + i]

    def _spend(self, amount):
        if self.budget is None:
            self.written += amount
            if self.boundaries is not None:
                self.boundaries.append(self.written)
            return amount
        allowed = self.budget - self.written
        if allowed <= 0:
            raise PowerCut(5)
        used = min(amount, allowed)
        self.written += used
        return used

    def writeblocks(self, block, buf, offset=None):
        if self.dead:
            return
        start = block * self.block_size + (offset or 0)
        used = self._spend(len(buf))
        data = self.data
        if used == len(buf):
            data[start : start + used] = buf
            return
        for i in range(used):  # torn write: only the first bytes land
            data[start + i] = buf[i]
        raise PowerCut(5)

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self.blocks
        if op == 5:  # block size
            return self.block_size
        if op == 6:  # erase
            if self.dead:
                return 0
            self._spend(1)
            start = arg * self.block_size
            self.data[start : start + self.block_size] = self._erased
            return 0
        return 0


def mount(device, point, fresh=False):
    if fresh:
        vfs.VfsLfs2.mkfs(device)
    vfs.mount(vfs.VfsLfs2(device), point)


def umount(point):
    try:
        vfs.umount(point)
    except OSError:
        pass


# --- permission entries -----------------------------------------------------------------------------------

def cred_key(n):
    """The 16-byte hash and hex of credential number n (an ISO14443A 7-byte UID), keyed like the cloud."""
    from shared_schema.credentials import credential_hash

    hex_hash = credential_hash(SITE_KEY, "iso14443a", uid(n))
    return binascii.unhexlify(hex_hash), hex_hash


def uid(n):
    return bytes([0x04, 0x10, (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF, 0x5A, 0xA5])


def fake_hash(n):
    """A cheap distinct 32-hex-char hash for large tables (sorted order == numeric order of n)."""
    return "%032x" % (n * 2654435761 + 7)


def chunks(entries, size=12):
    out = []
    for i in range(0, len(entries), size):
        out.append(entries[i : i + size])
    return out or [[]]


def install_snapshot(store, version, entries, size=12):
    parts = chunks(entries, size)
    result = None
    for i in range(len(parts)):
        result = store.snapshot_chunk(version, i, len(parts), parts[i])
    return result


# --- fake hardware ----------------------------------------------------------------------------------------

class FakeTime:
    def __init__(self, start=1000):
        self.ms = start

    def ticks_ms(self):
        return self.ms

    def ticks_diff(self, a, b):
        return a - b


class FakeRTC:
    def __init__(self, now=None):
        self.value = now

    def now(self):
        return self.value

    def set(self, unix_seconds):
        self.value = unix_seconds


class FakeActuator:
    """Confirms a move after `delay_ms` of fake time; `stuck` positions never confirm; `blind` -> None."""

    def __init__(self, fake_time, delay_ms=300, position="lock", blind=False):
        self.time = fake_time
        self.delay_ms = delay_ms
        self.position = position
        self.target = None
        self.started = 0
        self.moves = []
        self.stuck = ()
        self.blind = blind

    def move(self, position):
        self.moves.append(position)
        self.target = position
        self.started = self.time.ms

    def position_confirmed(self, position):
        if self.blind:
            return None
        if self.target is not None and self.target not in self.stuck:
            if self.time.ms - self.started >= self.delay_ms:
                self.position, self.target = self.target, None
        return self.position == position and self.target is None


class FakeReader:
    def __init__(self):
        self.queue = []

    def poll(self):
        return self.queue.pop(0) if self.queue else None


class FakeDoor:
    def __init__(self):
        self.open = False

    def is_open(self):
        return self.open


class FakeButton:
    def __init__(self):
        self.pressed = False

    def take_press(self):
        pressed, self.pressed = self.pressed, False
        return pressed


class FakeSignal:
    def __init__(self):
        self.shown = []

    def show(self, pattern):
        self.shown.append(pattern)

    def play(self, pattern):
        self.shown.append(pattern)


class FakeWatchdog:
    def __init__(self):
        self.feeds = 0

    def feed(self):
        self.feeds += 1


class FakeHardware:
    def __init__(self, data_dir, door=True, now=None, boot="power_on"):
        self.time = FakeTime()
        self.reader = FakeReader()
        self.actuator = FakeActuator(self.time)
        self.door = FakeDoor() if door else None
        self.exit_button = FakeButton()
        self.led = FakeSignal()
        self.buzzer = FakeSignal()
        self.watchdog = FakeWatchdog()
        self.rtc = FakeRTC(now)
        self.data_dir = data_dir
        self.reports = []
        self._boot = boot

    def boot_reason(self):
        return self._boot

    def report(self, kind, fields):
        self.reports.append((kind, fields))

    def ticks_ms(self):
        return self.time.ms

    def ticks_diff(self, a, b):
        return a - b

    async def start(self):
        return None

    def reports_of(self, kind):
        return [fields for k, fields in self.reports if k == kind]
