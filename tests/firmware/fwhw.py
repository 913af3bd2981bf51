# Fake hardware for LockApp tests (the real simulated HAL lives in firmware/hal/sim.py).


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

class FakePhonePort:
    """The transport of phone exchanges (BLE on the board): the core attaches its exchange, answers here."""

    def __init__(self):
        self.exchange = None
        self.results = []

    def attach(self, exchange):
        self.exchange = exchange

    def result(self, reason):
        self.results.append(reason)

class FakeHardware:
    def __init__(self, data_dir, door=True, now=None, boot="power_on", phone=False):
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
        self.phone = FakePhonePort() if phone else None

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
