# The phone transport on the ESP32: a BLE GATT service on MicroPython's `bluetooth` module, carrying the
# mobile key exchange (docs/PROTOCOL.md "Mobile keys"; the checks are the core's: core/mobilekey.py).
#
#   advertising     flags + the service UUID; scan response: the device id as the local name. Nothing else:
#                   the challenge is given only to a phone that connects.
#   hello    read   "<device_id> <challenge hex>", a fresh challenge at each connection and after each answer
#                   (notified too)
#   present  write  one part of the presentation per write: a part letter (S whole, F first, M middle, L last)
#                   then the bytes; at most MAX_WRITE bytes per write
#   result   read   the lock's answer ("ok" or the refusal reason, ASCII), notified when decided
#
# One phone at a time: advertising stops while one is connected and starts again when it leaves. The core
# decides a complete presentation at its next loop pass (hw.phone.exchange.ready() -> core.phonetap).
import binascii

import bluetooth
from micropython import const

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_ADV_INTERVAL_US = const(250000)
_ADV_TYPE_FLAGS = const(0x01)
_ADV_TYPE_UUID128_COMPLETE = const(0x07)
_ADV_TYPE_NAME_SHORT = const(0x08)
_ADV_TYPE_NAME_COMPLETE = const(0x09)
_ADV_MAX = const(31)
_PREFERRED_MTU = const(247)
MAX_WRITE = const(512)  # the largest ATT value; the presentation itself is at most 512 bytes

SERVICE_UUID = "0a6b0001-7a3c-4e1f-9d2b-6f70656e616b"
HELLO_UUID = "0a6b0002-7a3c-4e1f-9d2b-6f70656e616b"
PRESENT_UUID = "0a6b0003-7a3c-4e1f-9d2b-6f70656e616b"
RESULT_UUID = "0a6b0004-7a3c-4e1f-9d2b-6f70656e616b"


def _uuid128_le(text: str) -> bytes:
    raw = binascii.unhexlify(text.replace("-", ""))
    return bytes(reversed(raw))


def advertising_payload(device_id: str) -> tuple[bytes, bytes]:
    """(advertising data, scan response): flags and the service UUID; the device id as the name."""
    adv = bytes((2, _ADV_TYPE_FLAGS, 0x06))  # LE general discoverable, BR/EDR not supported
    adv += bytes((17, _ADV_TYPE_UUID128_COMPLETE)) + _uuid128_le(SERVICE_UUID)
    name = device_id.encode()
    kind = _ADV_TYPE_NAME_COMPLETE
    if len(name) > _ADV_MAX - 2:
        name, kind = name[: _ADV_MAX - 2], _ADV_TYPE_NAME_SHORT
    return adv, bytes((len(name) + 1, kind)) + name


class Unattached:
    """The exchange before the core attaches its own (core.phonetap.PhoneTaps): serves no phone."""

    device_id = b""

    def hello(self) -> tuple[str, str]:
        return "", ""

    def feed(self, part: str, data) -> str | None:
        return "not_ready"

    def ready(self) -> bool:
        return False


class PhoneService:
    """hw.phone on the board: the core attaches its exchange, this serves it over BLE."""

    def __init__(self, ble: bluetooth.BLE) -> None:
        self._ble = ble
        self._conn: int | None = None
        self.exchange = Unattached()
        self._attached = False
        ble.active(True)
        ble.config(mtu=_PREFERRED_MTU)
        service = (
            bluetooth.UUID(SERVICE_UUID),
            (
                (bluetooth.UUID(HELLO_UUID), bluetooth.FLAG_READ | bluetooth.FLAG_NOTIFY),
                (bluetooth.UUID(PRESENT_UUID), bluetooth.FLAG_WRITE),
                (bluetooth.UUID(RESULT_UUID), bluetooth.FLAG_READ | bluetooth.FLAG_NOTIFY),
            ),
        )
        ((self._hello, self._present, self._result),) = ble.gatts_register_services((service,))
        ble.gatts_set_buffer(self._present, MAX_WRITE)  # the default (20 bytes) would cut longer writes
        ble.irq(self._irq)

    def attach(self, exchange) -> None:
        """The core's exchange (core.phonetap.PhoneTaps); advertising starts now that phones can be served."""
        self.exchange = exchange
        self._attached = True
        self._advertise()

    def result(self, reason: str) -> None:
        """The core's answer to the phone; then a new challenge for the next try on the same connection."""
        self._ble.gatts_write(self._result, reason.encode())
        self._notify(self._result)
        if self._conn is not None:
            self._new_hello()

    def _advertise(self) -> None:
        adv, resp = advertising_payload(self.exchange.device_id.decode())
        self._ble.gap_advertise(_ADV_INTERVAL_US, adv, resp_data=resp)

    def _new_hello(self) -> None:
        device_id, challenge = self.exchange.hello()
        self._ble.gatts_write(self._hello, (device_id + " " + challenge).encode())
        self._notify(self._hello)

    def _notify(self, handle) -> None:
        if self._conn is not None:
            # The ESP32 port takes (conn_handle, value_handle[, data]); the stubs describe another signature.
            self._ble.gatts_notify(self._conn, handle)  # type: ignore[call-arg, arg-type]

    def _irq(self, event: int, data) -> None:
        # Runs in the scheduler (soft IRQ), between the main loop's bytecodes: it only moves bytes into the
        # exchange's preallocated inbox; the decision is the main loop's.
        if not self._attached:
            return
        if event == _IRQ_CENTRAL_CONNECT:
            self._conn = data[0]
            self._new_hello()
        elif event == _IRQ_CENTRAL_DISCONNECT:
            self._conn = None
            if not self.exchange.ready():  # (one already complete is still decided, and its event logged)
                self.exchange.hello()  # the challenge that phone saw can no longer be answered
            self._advertise()
        elif event == _IRQ_GATTS_WRITE and data[1] == self._present:
            self._write(self._ble.gatts_read(self._present))

    def _write(self, value: bytes) -> None:
        if not value:
            return
        error = self.exchange.feed(chr(value[0]), memoryview(value)[1:])
        if error:  # busy or bad_part: this write was not taken
            self._ble.gatts_write(self._result, error.encode())
            self._notify(self._result)


def build(config: dict) -> PhoneService | None:
    """The phone service when the config asks for it (ble_phone_keys), else None."""
    if not config.get("ble_phone_keys", False):
        return None
    return PhoneService(bluetooth.BLE())
