# A simulated PN532 chip behind a simulated UART, so the simulator's reader runs our real PN532 driver.
#
# The chip side of UM0701-02, just enough for drivers/pn532.py: every host frame is ACKed and answered
# (SAMConfiguration, GetFirmwareVersion, RFConfiguration, InListPassiveTarget at 106 kbps type A and FeliCa
# 212 kbps); an ACK from the host aborts, a NACK repeats the last answer, anything else gets the error frame.
# A tapped card stays "in the field" until it has answered two polls of its technology; then the field is
# empty until a poll of that technology came back empty, so the driver sees the card go (and reports the
# next tap, even of the same card). Counted in polls, not time: independent of how often the core polls.
from drivers.pn532 import (
    ACK_FRAME,
    BRTY_106_TYPE_A,
    BRTY_212_FELICA,
    ERROR_FRAME,
    FRAME_ACK,
    FRAME_DATA,
    FRAME_NACK,
    TFI_HOST,
    TFI_PN532,
    PN532Error,
    build_frame,
    parse_frame,
)

FIRMWARE = b"\x32\x01\x06\x07"  # IC PN532, version 1.6, supports ISO14443A, ISO14443B and ISO18092
PMM = b"\x03\x01\x4b\x02\x4f\x49\x93\xff"  # a typical FeliCa PMm (manufacture parameters)
FIELD_QUEUE = 8


class SimPN532Port:
    """machine.UART-like (write, read, readinto, any) with a PN532 on the other end."""

    def __init__(self, answers_per_tap=2):
        self.answers_per_tap = answers_per_tap
        self._rx = bytearray()
        self._last_answer = b""
        self._field = None  # [kind, uid, answers given] of the card in the RF field
        self._leaving = None  # BrTy whose next poll must find the field empty before the next card
        self._waiting = []  # cards tapped while another is still in the field
        self.commands = 0

    # --- the simulator's side: cards entering the field ---

    def tap(self, kind, uid):
        if len(self._waiting) >= FIELD_QUEUE:
            return False
        self._waiting.append((kind, bytes(uid)))
        return True

    def _card(self, brty):
        if self._leaving is not None:
            if brty == self._leaving:
                self._leaving = None
            return None
        if self._field is None and self._waiting:
            kind, uid = self._waiting.pop(0)
            self._field = [kind, uid, 0]
        return self._field

    def _answered(self, brty):
        field = self._field
        if field is None:
            return
        field[2] += 1
        if field[2] >= self.answers_per_tap:
            self._field = None  # taken away
            self._leaving = brty

    # --- the UART the driver sees ---

    def write(self, data):
        try:
            kind, payload, _ = parse_frame(data, TFI_HOST)
        except PN532Error:
            return len(data)  # wake-up preamble or line noise: a real chip ignores it too
        if kind == FRAME_ACK:
            self._rx = bytearray()  # abort whatever was pending
        elif kind == FRAME_NACK:
            self._rx.extend(self._last_answer)
        elif kind == FRAME_DATA and payload:
            self.commands += 1
            answer = self._answer(payload)
            if answer is None:
                self._rx.extend(ERROR_FRAME)
            else:
                self._last_answer = build_frame(TFI_PN532, answer)
                self._rx.extend(ACK_FRAME + self._last_answer)
        else:
            self._rx.extend(ERROR_FRAME)
        return len(data)

    def any(self):
        return len(self._rx)

    def read(self, count=None):
        if not self._rx:
            return None
        count = len(self._rx) if count is None else count
        out = bytes(self._rx[:count])
        self._rx = self._rx[count:]
        return out

    def readinto(self, buf, count=None):
        data = self.read(len(buf) if count is None else min(count, len(buf)))
        if not data:
            return None
        buf[: len(data)] = data
        return len(data)

    # --- the chip ---

    def _answer(self, payload):
        command = payload[0]
        reply = bytes((command + 1,))
        if command == 0x02:  # GetFirmwareVersion
            return reply + FIRMWARE
        if command in (0x14, 0x32):  # SAMConfiguration, RFConfiguration
            return reply
        if command == 0x4A and len(payload) >= 3:  # InListPassiveTarget
            return reply + self._targets(payload[2])
        return None

    def _targets(self, brty):
        card = self._card(brty)
        if card is None:
            return b"\x00"
        kind, uid, _ = card
        if brty == BRTY_106_TYPE_A and kind == "iso14443a":
            self._answered(brty)
            sens_res = b"\x00\x04" if len(uid) == 4 else b"\x00\x44"
            sel_res = b"\x08" if len(uid) == 4 else b"\x00"
            return b"\x01\x01" + sens_res + sel_res + bytes((len(uid),)) + uid
        if brty == BRTY_212_FELICA and kind == "felica":
            self._answered(brty)
            return b"\x01\x01\x12\x01" + uid + PMM
        return b"\x00"  # a card of the other technology does not answer this poll
