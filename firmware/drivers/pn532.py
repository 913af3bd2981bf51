# PN532 NFC controller: frame layer, commands, non-blocking card poller (transports: pn532_i2c, pn532_uart).
#
# Written from NXP's PN532 User Manual (UM0701-02), section 6.2 (frames) and 7 (commands).
#
#   normal information frame   00 00 FF LEN LCS TFI PD0..PDn DCS 00
#       LEN = bytes in TFI+PD0..PDn, LEN + LCS == 0 (mod 256), TFI + PD0 + ... + PDn + DCS == 0 (mod 256)
#       TFI = D4 host -> PN532, D5 PN532 -> host; PD0 is the command code (the answer's is command + 1)
#   extended frame             00 00 FF FF FF LENM LENL LCS TFI PD0..PDn DCS 00  (LENM+LENL+LCS == 0)
#   ACK                        00 00 FF 00 FF 00       (PN532 accepted a command; host -> PN532: abort)
#   NACK                       00 00 FF FF 00 00       (host -> PN532: send your last answer again)
#   error frame                00 00 FF 01 FF 7F 81 00 (PN532 could not parse what the host sent)
#
# Nothing in this module blocks without a deadline and nothing touches `machine`: the transports take any
# object with the I2C (readfrom_into/writeto) or UART (read/write/any) methods, so tests drive them with a
# fake serial port and the ESP32 HAL hands in real machine.I2C / machine.UART objects.
import time

from micropython import const

TFI_HOST = const(0xD4)
TFI_PN532 = const(0xD5)

ACK_FRAME = b"\x00\x00\xff\x00\xff\x00"
NACK_FRAME = b"\x00\x00\xff\xff\x00\x00"
ERROR_FRAME = b"\x00\x00\xff\x01\xff\x7f\x81\x00"

# What parse_frame() found.
FRAME_DATA = const(0)
FRAME_ACK = const(1)
FRAME_NACK = const(2)
FRAME_ERROR = const(3)

# Command codes (UM0701-02 section 7). Names starting with _ are folded away by the compiler (no RAM).
_CMD_GET_FIRMWARE_VERSION = const(0x02)
_CMD_SAM_CONFIGURATION = const(0x14)
_CMD_RF_CONFIGURATION = const(0x32)
CMD_IN_LIST_PASSIVE_TARGET = const(0x4A)

# InListPassiveTarget baud rate / modulation (BrTy).
BRTY_106_TYPE_A = const(0x00)
BRTY_212_FELICA = const(0x01)

# FeliCa Polling command: code 00, system code FF FF (any), request code 00 (no extra data), time slot 00.
FELICA_POLLING = b"\x00\xff\xff\x00\x00"
# POL_RES: length byte, response code 01, IDm (8), PMm (8) [, system code (2) when requested].
_FELICA_RESPONSE_CODE = const(0x01)
_FELICA_POL_RES_LENGTHS = (18, 20)
_ISO14443A_UID_LENGTHS = (4, 7, 10)

# A frame longer than this is refused (the biggest answer we ask for is a FeliCa target, ~25 bytes).
MAX_FRAME_BYTES = const(64)
_PN532_IC = const(0x32)  # GetFirmwareVersion's IC byte for a PN532

KIND_FELICA = "felica"
KIND_ISO14443A = "iso14443a"


class PN532Error(Exception):
    """Anything that went wrong talking to the PN532; str(error) is a short stable code."""


class FrameError(PN532Error):
    """A frame that is not a valid PN532 frame."""


class ChecksumError(FrameError):
    """LCS or DCS does not add up: the bytes were corrupted on the wire."""


class TruncatedFrame(FrameError):
    """The bytes end before the frame does."""


class PN532Timeout(PN532Error):
    """No (complete) answer before the deadline."""


class NackReceived(PN532Error):
    """The PN532 answered with a NACK frame."""


class ApplicationError(PN532Error):
    """The PN532 answered with its error frame (it did not understand the command frame)."""


def checksum(data, start=0, end=None):
    """The value that makes the byte sum of data[start:end] plus it equal 0 mod 256."""
    total = 0
    for index in range(start, len(data) if end is None else end):
        total += data[index]
    return (-total) & 0xFF


def build_frame(tfi, payload):
    """An information frame carrying TFI + payload (normal, or extended beyond 254 payload bytes)."""
    length = len(payload) + 1
    if length > 0xFFFF - 1:
        raise FrameError("frame_too_long") from None
    body = bytes((tfi,)) + bytes(payload)
    dcs = checksum(body)
    if length <= 0xFF - 1:
        head = bytes((0x00, 0x00, 0xFF, length, (-length) & 0xFF))
    else:
        high, low = length >> 8, length & 0xFF
        head = bytes((0x00, 0x00, 0xFF, 0xFF, 0xFF, high, low, (-(high + low)) & 0xFF))
    return head + body + bytes((dcs, 0x00))


def _find_start(buf, start, end):
    # The start code is 00 FF; the preamble 00 before it and any leading noise are skipped.
    index = start
    while index + 1 < end:
        if buf[index] == 0x00 and buf[index + 1] == 0xFF:
            return index + 2
        index += 1
    return -1


def parse_frame(buf, expect_tfi=TFI_PN532, start=0, end=None):
    """Find and check the first frame in buf[start:end].

    Returns (kind, payload, next_index): kind is FRAME_DATA / FRAME_ACK / FRAME_NACK / FRAME_ERROR,
    payload the bytes after the TFI (b"" for the others), next_index where the following bytes begin.
    Raises TruncatedFrame (read more and try again), ChecksumError or FrameError.
    """
    end = len(buf) if end is None else end
    at = _find_start(buf, start, end)
    if at < 0:
        raise TruncatedFrame("no_start_code")
    if at + 2 > end:
        raise TruncatedFrame("truncated_header")
    length, lcs = buf[at], buf[at + 1]
    if length == 0x00 and lcs == 0xFF:
        return FRAME_ACK, b"", _skip_postamble(buf, at + 2, end)
    if length == 0xFF and lcs == 0x00:
        return FRAME_NACK, b"", _skip_postamble(buf, at + 2, end)
    if length == 0xFF and lcs == 0xFF:
        if at + 5 > end:
            raise TruncatedFrame("truncated_header")
        high, low, lcs = buf[at + 2], buf[at + 3], buf[at + 4]
        if (high + low + lcs) & 0xFF:
            raise ChecksumError("length_checksum")
        length = (high << 8) | low
        data_at = at + 5
    else:
        if (length + lcs) & 0xFF:
            raise ChecksumError("length_checksum")
        data_at = at + 2
    if length == 0:
        raise FrameError("empty_frame")
    if length > MAX_FRAME_BYTES:
        raise FrameError("frame_too_long") from None
    if data_at + length + 1 > end:
        raise TruncatedFrame("truncated_data")
    if checksum(buf, data_at, data_at + length) != buf[data_at + length]:
        raise ChecksumError("data_checksum")
    next_index = _skip_postamble(buf, data_at + length + 1, end)
    if length == 1 and buf[data_at] == 0x7F:
        return FRAME_ERROR, b"", next_index
    if buf[data_at] != expect_tfi:
        raise FrameError("bad_tfi")
    return FRAME_DATA, buf[data_at + 1 : data_at + length], next_index  # a copy: buf is reused


def _skip_postamble(buf, index, end):
    return index + 1 if index < end and buf[index] == 0x00 else index


# --- transports ----------------------------------------------------------------------------------
# drivers/pn532_i2c.py (I2CTransport) and drivers/pn532_uart.py (UARTTransport), kept apart so a board loads
# only the one its reader is wired for. Both offer: write(frame), ready() -> bool (a frame can be read now),
# read_frame(timeout_ms, size=0) -> (kind, payload), discard(). read_frame never waits longer than
# timeout_ms; `size` is the frame length expected (0: unknown), which lets I2C read an ACK in 7 bytes.


# --- commands ------------------------------------------------------------------------------------


class PN532:
    """Command level: send a command, wait for the ACK, read and check the answer."""

    def __init__(self, transport, ack_timeout_ms=30, response_timeout_ms=100):
        self.transport = transport
        self.ack_timeout_ms = ack_timeout_ms
        self.response_timeout_ms = response_timeout_ms

    def send_command(self, command, params=b""):
        """Write the command frame and wait (bounded) for the PN532's ACK."""
        self.send_frame(build_frame(TFI_HOST, bytes((command,)) + bytes(params)))

    def send_frame(self, frame):
        """Write a ready-built command frame (the poller builds its frames once) and wait for the ACK."""
        self.transport.write(frame)
        kind, _ = self.transport.read_frame(self.ack_timeout_ms, len(ACK_FRAME))
        if kind == FRAME_ACK:
            return
        if kind == FRAME_NACK:
            raise NackReceived("nack")
        if kind == FRAME_ERROR:
            raise ApplicationError("error_frame")
        raise FrameError("expected_ack")

    def read_response(self, command, timeout_ms=None):
        """Read the answer to `command`; one checksum failure is retried by sending a NACK."""
        timeout = self.response_timeout_ms if timeout_ms is None else timeout_ms
        try:
            kind, payload = self.transport.read_frame(timeout)
        except ChecksumError:
            self.transport.write(NACK_FRAME)  # UM0701-02: NACK asks the PN532 to send the answer again
            kind, payload = self.transport.read_frame(timeout)
        if kind == FRAME_ERROR:
            raise ApplicationError("error_frame")
        if kind != FRAME_DATA:
            raise FrameError("expected_response")
        if not payload or payload[0] != command + 1:
            raise FrameError("unexpected_response")
        return payload[1:]

    def abort(self):
        # An ACK from the host makes the PN532 drop the command in progress (e.g. a poll with no card).
        self.transport.write(ACK_FRAME)
        self.transport.discard()

    def call(self, command, params=b"", timeout_ms=None):
        self.send_command(command, params)
        try:
            return self.read_response(command, timeout_ms)
        except PN532Timeout:
            self.abort()
            raise

    def get_firmware_version(self):
        """(IC, Ver, Rev, Support): a PN532 answers IC = 0x32."""
        data = self.call(_CMD_GET_FIRMWARE_VERSION)
        if len(data) != 4:
            raise FrameError("bad_response_length")
        return data[0], data[1], data[2], data[3]

    def sam_configuration(self, mode=0x01, timeout=0x14, use_irq=0x01):
        """Normal mode (no secure access module); required once after power-on."""
        self.call(_CMD_SAM_CONFIGURATION, bytes((mode, timeout, use_irq)))

    def set_passive_retries(self, retries):
        """RFConfiguration item 5: MxRtyATR, MxRtyPSL, MxRtyPassiveActivation (0xFF would wait forever)."""
        self.call(_CMD_RF_CONFIGURATION, bytes((0x05, 0xFF, 0x01, retries)))


def in_list_params(brty):
    """InListPassiveTarget parameters: at most one target, at `brty`."""
    if brty == BRTY_212_FELICA:
        return bytes((0x01, BRTY_212_FELICA)) + FELICA_POLLING
    return bytes((0x01, BRTY_106_TYPE_A))


def parse_target_a(data):
    """InListPassiveTarget answer at 106 kbps type A -> UID bytes, or None when no card answered.

    Tg, SENS_RES (2), SEL_RES, NFCIDLength, NFCID1 [, ATS] after NbTg.
    """
    if not data:
        raise FrameError("bad_target_data")
    if data[0] == 0:
        return None
    if len(data) < 6:
        raise FrameError("bad_target_data")
    uid_length = data[5]
    if uid_length not in _ISO14443A_UID_LENGTHS or len(data) < 6 + uid_length:
        raise FrameError("bad_uid_length")
    return bytes(data[6 : 6 + uid_length])


def parse_target_felica(data):
    """InListPassiveTarget answer at 212 kbps FeliCa -> (IDm, PMm), or None when no card answered.

    Tg, POL_RES length, response code 01, IDm (8), PMm (8) [, system code (2)] after NbTg.
    """
    if not data:
        raise FrameError("bad_target_data")
    if data[0] == 0:
        return None
    if len(data) < 4:
        raise FrameError("bad_target_data")
    pol_length = data[2]
    if pol_length not in _FELICA_POL_RES_LENGTHS or len(data) < 2 + pol_length:
        raise FrameError("bad_target_data")
    if data[3] != _FELICA_RESPONSE_CODE:
        raise FrameError("bad_felica_response_code")
    return bytes(data[4:12]), bytes(data[12:20])


# --- the reader the core polls -------------------------------------------------------------------

_IDLE = const(0)
_WAITING = const(1)
_DOWN = const(2)


class CardPoller:
    """hw.reader for the core: poll() -> None or (kind, uid); never blocks for long, never raises.

    Alternates 106 kbps type A and FeliCa polls. Each poll() call collects the answer to the previous
    poll once the PN532 says it is ready and sends the next one, so the event loop keeps running while
    the RF field searches. A card that stays on the reader is reported once; it is reported again after a
    poll of its technology came back empty. Errors are counted by code in `errors`; after one the chip
    is re-initialised (bounded) on a later poll.
    """

    def __init__(self, pn532, ticks_ms=None, ticks_diff=None, poll_timeout_ms=150, retry_ms=2000,
                 wake=None):
        self.pn532 = pn532
        self._ticks_ms = ticks_ms or time.ticks_ms
        self._ticks_diff = ticks_diff or time.ticks_diff
        self.poll_timeout_ms = poll_timeout_ms
        self.retry_ms = retry_ms
        self._wake = wake  # UART transports need the wake-up preamble before SAMConfiguration
        self._state = _DOWN
        self._since = self._ticks_ms() - retry_ms
        self._brty = BRTY_106_TYPE_A
        self._present = {BRTY_106_TYPE_A: None, BRTY_212_FELICA: None}
        self.firmware = None
        self.errors = {}
        self.last_error = None
        # Built once: the poll loop sends these two frames over and over without allocating them again.
        self._frames = {}
        for brty in (BRTY_106_TYPE_A, BRTY_212_FELICA):
            command = bytes((CMD_IN_LIST_PASSIVE_TARGET,)) + in_list_params(brty)
            self._frames[brty] = build_frame(TFI_HOST, command)

    def _count(self, code):
        self.last_error = code
        self.errors[code] = self.errors.get(code, 0) + 1

    def begin(self):
        """Wake and configure the chip; True when it answered like a PN532."""
        try:
            if self._wake is not None:
                self._wake()
            self.pn532.sam_configuration()
            self.firmware = self.pn532.get_firmware_version()
            if self.firmware[0] != _PN532_IC:
                raise PN532Error("not_a_pn532")
            # One passive activation retry: an empty field answers NbTg = 0 instead of waiting forever.
            self.pn532.set_passive_retries(0x01)
        except PN532Error as exc:
            self._count(str(exc) or type(exc).__name__)
            self._state = _DOWN
            self._since = self._ticks_ms()
            return False
        self._state = _IDLE
        return True

    def poll(self):
        try:
            return self._step()
        except PN532Error as exc:
            self._count(str(exc) or type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - the poll loop must survive any driver fault
            self._count("driver_" + type(exc).__name__)
        self._state = _DOWN
        self._since = self._ticks_ms()
        return None

    def _step(self):
        now = self._ticks_ms()
        if self._state == _DOWN:
            if self._ticks_diff(now, self._since) >= self.retry_ms:
                self.begin()
            return None
        if self._state == _IDLE:
            self._send_poll(now)
            return None
        if not self.pn532.transport.ready():
            if self._ticks_diff(now, self._since) >= self.poll_timeout_ms:
                self.pn532.abort()
                self._count("poll_timeout")
                self._next()
            return None
        data = self.pn532.read_response(CMD_IN_LIST_PASSIVE_TARGET, 10)
        brty = self._brty
        self._next()
        found = self._target(brty, data)
        # Start the next poll now rather than on the next call: each call then collects one answer, so
        # each technology is polled every second call. A failure here must not lose the card just read.
        try:
            self._send_poll(now)
        except PN532Error as exc:
            self._count(str(exc) or type(exc).__name__)
            self._state = _DOWN
            self._since = now
        return found

    def _send_poll(self, now):
        self.pn532.send_frame(self._frames[self._brty])
        self._state = _WAITING
        self._since = now

    def _target(self, brty, data):
        if brty == BRTY_212_FELICA:
            found = parse_target_felica(data)
            uid = found[0] if found else None
            kind = KIND_FELICA
        else:
            uid = parse_target_a(data)
            kind = KIND_ISO14443A
        if uid == self._present[brty]:
            return None
        self._present[brty] = uid
        return None if uid is None else (kind, uid)

    def _next(self):
        self._state = _IDLE
        self._brty = BRTY_212_FELICA if self._brty == BRTY_106_TYPE_A else BRTY_106_TYPE_A
