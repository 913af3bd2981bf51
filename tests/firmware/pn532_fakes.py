# Fake serial ports for the PN532 driver tests: a scripted PN532 on a UART and on an I2C bus.
#
# The script is a list of (bytes the host must write, bytes the fake PN532 answers with). A write that
# differs from the script is recorded in `unexpected`, and the fake answers nothing (as a real chip
# would not answer garbage with a valid frame).


def frame(hex_text):
    """Bytes from spaced hex, as frames are printed in NXP's user manual."""
    return bytes(int(part, 16) for part in hex_text.split())


class FakeUART:
    """Has the machine.UART methods the driver uses: write, read, readinto, any."""

    def __init__(self, script, chunk=None):
        self.script = list(script)
        self.rx = bytearray()
        self.written = []
        self.unexpected = []
        self.chunk = chunk  # deliver at most this many bytes per read(): frames arrive in pieces

    def write(self, data):
        data = bytes(data)
        self.written.append(data)
        if self.script and self.script[0][0] == data:
            self.rx.extend(self.script.pop(0)[1])
        elif self.script and self.script[0][0] is None:  # a scripted answer to any write
            self.rx.extend(self.script.pop(0)[1])
        else:
            self.unexpected.append(data)
        return len(data)

    def any(self):
        return len(self.rx)

    def readinto(self, buf, count=None):
        data = self.read(len(buf) if count is None else min(count, len(buf)))
        if not data:
            return None
        buf[: len(data)] = data
        return len(data)

    def read(self, count=None):
        if not self.rx:
            return None
        count = len(self.rx) if count is None else count
        if self.chunk:
            count = min(count, self.chunk)
        out = bytes(self.rx[:count])
        self.rx = self.rx[count:]
        return out


class FakeI2C:
    """Has the machine.I2C methods the driver uses: writeto, readfrom_into.

    Like the chip, every read begins with a status byte (0x01 ready / 0x00 busy) followed by the
    pending frame from its beginning; after a full read the frame is consumed.
    """

    def __init__(self, script, address=0x24):
        self.script = list(script)
        self.address = address
        self.pending = []
        self.written = []
        self.unexpected = []
        self.busy_reads = 0  # answer "not ready" this many times before each frame
        self.read_sizes = []  # bytes asked for by each frame read (after the status polls)

    def writeto(self, address, data):
        if address != self.address:
            raise OSError(19)
        data = bytes(data)
        self.written.append(data)
        if self.script and self.script[0][0] in (data, None):
            self.pending.extend(self._split(self.script.pop(0)[1]))
        else:
            self.unexpected.append(data)
        return 1

    @staticmethod
    def _split(answer):
        # An ACK followed by a response is two separate reads on I2C.
        if answer[:6] == b"\x00\x00\xff\x00\xff\x00" and len(answer) > 6:
            return [answer[:6], answer[6:]]
        return [answer]

    def readfrom_into(self, address, buf):
        if address != self.address:
            raise OSError(19)
        if not self.pending or self.busy_reads:
            if self.busy_reads:
                self.busy_reads -= 1
            for index in range(len(buf)):
                buf[index] = 0
            return
        buf[0] = 0x01
        data = self.pending[0]
        for index in range(1, len(buf)):
            buf[index] = data[index - 1] if index - 1 < len(data) else 0
        if len(buf) > 1:
            self.read_sizes.append(len(buf))
            self.pending.pop(0)
