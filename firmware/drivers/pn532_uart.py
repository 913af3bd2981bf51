# PN532 on its high-speed UART (HSU): the transport the frame layer in drivers/pn532.py talks through.
# Takes any object with machine.UART's read/readinto/write/any, so tests drive it with a fake port.
import time

from drivers.pn532 import MAX_FRAME_BYTES, TFI_PN532, FrameError, PN532Timeout, TruncatedFrame, parse_frame

# HSU wake-up (UM0701-02 section 7.2.11 and the HSU notes): 55 55 then a long run of 00.
UART_WAKEUP = b"\x55\x55" + bytes(14)


class UARTTransport:
    """PN532 on its high-speed UART (HSU, 115200 8N1): a byte stream, reassembled into frames here."""

    def __init__(self, uart):
        self._uart = uart
        self._buf = bytearray(MAX_FRAME_BYTES + 16)
        self._view = memoryview(self._buf)
        self._count = 0

    def wake(self):
        # After power-on the PN532 sleeps (LowVbat); this preamble wakes it before the first command.
        self._uart.write(UART_WAKEUP)

    def write(self, frame):
        self.discard()
        self._uart.write(frame)

    def discard(self):
        self._count = 0
        while self._uart.any():
            if not self._uart.read(self._uart.any()):
                break

    def _fill(self):
        room = len(self._buf) - self._count
        waiting = self._uart.any()
        if waiting and room:
            # readinto: straight into the preallocated buffer, no bytes object per read
            got = self._uart.readinto(self._view[self._count : self._count + min(waiting, room)])
            if got:
                self._count += got

    def _take(self):
        # Returns (kind, payload) and drops the frame's bytes, or None if no complete frame yet.
        self._fill()
        try:
            kind, payload, used = parse_frame(self._buf, TFI_PN532, 0, self._count)
        except TruncatedFrame:
            if self._count == len(self._buf):
                self._count = 0
                raise FrameError("frame_too_long") from None
            return None
        except FrameError:
            self._count = 0  # a bad frame poisons the stream: drop what we have
            raise
        rest = self._count - used
        if rest > 0:  # bytes of the next frame already arrived: move them to the front
            self._buf[:rest] = self._buf[used : self._count]
        self._count = rest
        return kind, payload

    def ready(self):
        self._fill()
        try:
            parse_frame(self._buf, TFI_PN532, 0, self._count)
        except TruncatedFrame:
            return False
        except FrameError:
            return True  # read_frame will report it
        return True

    def read_frame(self, timeout_ms, size=0):
        deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
        while True:
            found = self._take()
            if found is not None:
                return found
            if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
                raise PN532Timeout("timeout")
            time.sleep_ms(1)
