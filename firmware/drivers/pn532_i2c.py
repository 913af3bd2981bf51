# PN532 on I2C (address 0x24): the transport the frame layer in drivers/pn532.py talks through.
# Takes any object with machine.I2C's readfrom_into/writeto, so tests drive it with a fake bus.
import time

from micropython import const

from drivers.pn532 import ACK_FRAME, MAX_FRAME_BYTES, TFI_PN532, PN532Error, PN532Timeout, parse_frame

_I2C_ADDRESS = const(0x24)


class I2CTransport:
    """PN532 on I2C: every read starts with a status byte whose bit 0 says the PN532 has an answer."""

    def __init__(self, i2c, address=_I2C_ADDRESS):
        self._i2c = i2c
        self._address = address
        self._status = bytearray(1)
        self._buf = bytearray(MAX_FRAME_BYTES + 10)
        self._ack_view = memoryview(self._buf)[: 1 + len(ACK_FRAME)]  # status byte + ACK, ~0.6 ms at 100 kHz

    def write(self, frame):
        # A sleeping PN532 NAKs the first transaction while it wakes up: try once more before giving up.
        for attempt in (0, 1):
            try:
                self._i2c.writeto(self._address, frame)
                return
            except OSError:  # NAK: waking up, or not fitted at all
                if attempt:
                    raise PN532Error("i2c_write_failed") from None
                time.sleep_ms(2)

    def ready(self):
        try:
            self._i2c.readfrom_into(self._address, self._status)
        except OSError:
            return False
        return bool(self._status[0] & 0x01)

    def read_frame(self, timeout_ms, size=0):
        deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
        while not self.ready():
            if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
                raise PN532Timeout("timeout")
            time.sleep_ms(1)
        target = self._ack_view if size == len(ACK_FRAME) else self._buf
        try:
            # One transaction returns the whole frame after the status byte; trailing bytes are ignored.
            self._i2c.readfrom_into(self._address, target)
        except OSError:
            raise PN532Error("i2c_read_failed") from None
        if not self._buf[0] & 0x01:
            raise PN532Timeout("not_ready")
        kind, payload, _ = parse_frame(self._buf, TFI_PN532, 1, len(target))
        return kind, payload

    def discard(self):
        pass  # an I2C read always starts at the beginning of the PN532's current answer
