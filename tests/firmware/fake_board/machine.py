# A stand-in for the ESP32's `machine` module, for running hal/esp32.py on the unix port under test.
#
# Only what the HAL uses, with the same constructor and method signatures as the ESP32 port (checked by
# mypy against micropython-esp32-stubs in test_esp32_hal_types.py). Every object records what was done
# to it in `created` so tests can look at the "board". Behind the HAL only: the core never sees this.
created = []
# Every level or duty the firmware drives, in order from power-on (tests/firmware/mp_test_boot_safety.py):
#   ("out", pin, level)     a Pin constructed as an output; level None when no value= was given (the
#                           ESP32 then drives whatever its output register holds: undefined for our purpose)
#   ("level", pin, level)   Pin.value(level) on a pin
#   ("pwm", pin, duty_ns, duty_u16)   a PWM constructed on a pin (None: that duty was not given)
#   ("duty_ns", pin, ns), ("duty_u16", pin, value)
writes = []

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5
reset_cause_value = PWRON_RESET


def reset_cause():
    return reset_cause_value


class Pin:
    IN = 1
    OUT = 3
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 2
    IRQ_RISING = 1
    levels = {}  # pin number -> level an input reads (tests set it)

    def __init__(self, number, mode=-1, pull=-1, value=None):
        if mode == Pin.OUT and number >= 34:
            raise ValueError("pin can only be input")  # as the ESP32 port says for GPIO34-39
        self.number = number
        self.mode = mode
        self.pull = pull
        self.handler = None
        self.trigger = None
        # As on the ESP32: the value is set before the direction, so an output starts at that level.
        if value is not None:
            Pin.levels[number] = value
        if mode == Pin.OUT:
            writes.append(("out", number, value))
        created.append(self)

    def value(self, level=None):
        if level is None:
            return Pin.levels.get(self.number, 1 if self.pull == Pin.PULL_UP else 0)
        Pin.levels[self.number] = level
        writes.append(("level", self.number, level))

    def irq(self, handler=None, trigger=3):
        self.handler = handler
        self.trigger = trigger

    def drive(self, level):
        """Test helper: the outside world changes the input, and the IRQ fires."""
        Pin.levels[self.number] = level
        if self.handler is not None:
            self.handler(self)


class PWM:
    def __init__(self, pin, freq=0, duty_ns=None, duty_u16=None):
        self.pin = pin
        self.freq = freq
        self.duties_ns = [] if duty_ns is None else [duty_ns]
        self.duties_u16 = [] if duty_u16 is None else [duty_u16]
        writes.append(("pwm", pin.number, duty_ns, duty_u16))
        created.append(self)

    def duty_ns(self, value=None):
        if value is None:
            return self.duties_ns[-1] if self.duties_ns else 0
        self.duties_ns.append(value)
        writes.append(("duty_ns", self.pin.number, value))

    def duty_u16(self, value=None):
        if value is None:
            return self.duties_u16[-1] if self.duties_u16 else 0
        self.duties_u16.append(value)
        writes.append(("duty_u16", self.pin.number, value))


class I2C:
    bus = None  # tests put a scripted fake PN532 bus here (tests/firmware/pn532_fakes.FakeI2C)

    def __init__(self, id, scl=None, sda=None, freq=400000):
        self.id = id
        self.scl = scl
        self.sda = sda
        self.freq = freq
        created.append(self)

    def writeto(self, addr, buf, stop=True):
        if I2C.bus is None:
            raise OSError(19)  # ENODEV: nothing answers
        return I2C.bus.writeto(addr, buf)

    def readfrom_into(self, addr, buf, stop=True):
        if I2C.bus is None:
            raise OSError(19)
        I2C.bus.readfrom_into(addr, buf)


class UART:
    port = None  # tests put a scripted fake PN532 serial port here (pn532_fakes.FakeUART)

    def __init__(self, id, baudrate=9600, tx=None, rx=None, timeout=0):
        self.id = id
        self.baudrate = baudrate
        self.tx = tx
        self.rx = rx
        created.append(self)

    def write(self, buf):
        return UART.port.write(buf) if UART.port else len(buf)

    def read(self, nbytes=None):
        return UART.port.read(nbytes) if UART.port else None

    def readinto(self, buf, nbytes=None):
        return UART.port.readinto(buf, nbytes) if UART.port else None

    def any(self):
        return UART.port.any() if UART.port else 0


class WDT:
    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self.feeds = 0
        created.append(self)

    def feed(self):
        self.feeds += 1


class RTC:
    _memory = b""  # survives "resets" like the real RTC memory: a class attribute
    datetimes = []

    def datetime(self, value=None):
        if value is None:
            return RTC.datetimes[-1] if RTC.datetimes else (2000, 1, 1, 5, 0, 0, 0, 0)
        RTC.datetimes.append(value)

    def memory(self, data=None):
        if data is None:
            return RTC._memory
        RTC._memory = bytes(data)
