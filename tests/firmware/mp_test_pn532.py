# micropython-test
# PN532 driver on the real MicroPython interpreter, over fake serial ports, against frames laid out as in
# NXP's PN532 User Manual (UM0701-02): the GetFirmwareVersion, SAMConfiguration and InListPassiveTarget
# exchanges, the ACK / NACK / error frames, and a FeliCa polling exchange at 212 kbps.
import sys

if "firmware" not in sys.path:
    sys.path.insert(0, "firmware")

from drivers import pn532, pn532_i2c, pn532_uart  # noqa: E402

from tests.firmware.pn532_fakes import FakeI2C, FakeUART, frame  # noqa: E402

ACK = frame("00 00 FF 00 FF 00")
NACK = frame("00 00 FF FF 00 00")
ERROR = frame("00 00 FF 01 FF 7F 81 00")

GET_FIRMWARE = frame("00 00 FF 02 FE D4 02 2A 00")
FIRMWARE_ANSWER = frame("00 00 FF 06 FA D5 03 32 01 06 07 E8 00")
SAM_CONFIG = frame("00 00 FF 05 FB D4 14 01 14 01 02 00")
SAM_ANSWER = frame("00 00 FF 02 FE D5 15 16 00")
RF_RETRIES = frame("00 00 FF 06 FA D4 32 05 FF 01 01 F4 00")
RF_ANSWER = frame("00 00 FF 02 FE D5 33 F8 00")
LIST_A = frame("00 00 FF 04 FC D4 4A 01 00 E1 00")
# Mifare Classic 1K: SENS_RES 00 04, SEL_RES 08, 4-byte NFCID1.
TARGET_A4 = frame("00 00 FF 0C F4 D5 4B 01 01 00 04 08 04 A1 B2 C3 D4 E4 00")
# Mifare Ultralight: SENS_RES 00 44, SEL_RES 00, 7-byte NFCID1.
TARGET_A7 = frame("00 00 FF 0F F1 D5 4B 01 01 00 44 00 07 04 A1 B2 C3 D4 E5 F6 CA 00")
TARGET_A10 = frame("00 00 FF 12 EE D5 4B 01 01 03 44 20 0A 04 A1 B2 C3 D4 E5 F6 07 08 09 8C 00")
NO_TARGET = frame("00 00 FF 03 FD D5 4B 00 E0 00")
LIST_FELICA = frame("00 00 FF 09 F7 D4 4A 01 01 00 FF FF 00 00 E2 00")
# POL_RES 18 bytes: length 12, response code 01, IDm 01 2E 4C D8 12 34 56 78, PMm 03 01 4B 02 4F 49 93 FF.
TARGET_FELICA = frame(
    "00 00 FF 16 EA D5 4B 01 01 12 01 01 2E 4C D8 12 34 56 78 03 01 4B 02 4F 49 93 FF E9 00"
)
# The same with request code 01 answered: POL_RES 20 bytes ending in system code 00 03.
TARGET_FELICA_SC = frame(
    "00 00 FF 18 E8 D5 4B 01 01 14 01 01 2E 4C D8 12 34 56 78 03 01 4B 02 4F 49 93 FF 00 03 E4 00"
)
IDM = frame("01 2E 4C D8 12 34 56 78")
PMM = frame("03 01 4B 02 4F 49 93 FF")


def _raises(error_type, code, func, *args):
    try:
        func(*args)
    except error_type as exc:
        assert str(exc) == code, f"expected {code}, got {exc}"
        return
    raise AssertionError(f"expected {error_type.__name__}({code})")


def _uart_chip(script, chunk=None):
    uart = FakeUART(script, chunk)
    return uart, pn532.PN532(pn532_uart.UARTTransport(uart), ack_timeout_ms=20, response_timeout_ms=40)


# --- frame layer ---------------------------------------------------------------------------------


def test_build_frame_matches_manual_command_frames():
    assert pn532.build_frame(pn532.TFI_HOST, b"\x02") == GET_FIRMWARE
    assert pn532.build_frame(pn532.TFI_HOST, b"\x14\x01\x14\x01") == SAM_CONFIG
    assert pn532.build_frame(pn532.TFI_HOST, b"\x4a" + pn532.in_list_params(0x00)) == LIST_A
    assert pn532.build_frame(pn532.TFI_HOST, b"\x4a" + pn532.in_list_params(0x01)) == LIST_FELICA


def test_parse_ack_nack_and_error_frames():
    assert pn532.parse_frame(ACK)[:2] == (pn532.FRAME_ACK, b"")
    assert pn532.parse_frame(NACK)[:2] == (pn532.FRAME_NACK, b"")
    assert pn532.parse_frame(ERROR)[:2] == (pn532.FRAME_ERROR, b"")


def test_parse_firmware_answer_and_next_index():
    kind, payload, used = pn532.parse_frame(FIRMWARE_ANSWER + ACK)
    assert kind == pn532.FRAME_DATA
    assert payload == b"\x03\x32\x01\x06\x07"
    assert used == len(FIRMWARE_ANSWER)


def test_parse_skips_leading_noise():
    kind, payload, _ = pn532.parse_frame(b"\x55\x01\x00" + SAM_ANSWER)
    assert (kind, payload) == (pn532.FRAME_DATA, b"\x15")


def test_corrupted_length_checksum_is_refused():
    bad = bytearray(FIRMWARE_ANSWER)
    bad[4] ^= 0x01  # LCS
    _raises(pn532.ChecksumError, "length_checksum", pn532.parse_frame, bad)


def test_corrupted_data_checksum_is_refused():
    bad = bytearray(FIRMWARE_ANSWER)
    bad[8] ^= 0x10  # a data byte; DCS no longer adds up
    _raises(pn532.ChecksumError, "data_checksum", pn532.parse_frame, bad)
    bad = bytearray(FIRMWARE_ANSWER)
    bad[-2] ^= 0xFF  # DCS itself
    _raises(pn532.ChecksumError, "data_checksum", pn532.parse_frame, bad)


def test_truncated_frames_are_reported_at_every_cut():
    for cut in range(len(TARGET_FELICA) - 1):  # without DCS the frame cannot be checked
        try:
            pn532.parse_frame(TARGET_FELICA[:cut])
        except pn532.TruncatedFrame:
            continue
        raise AssertionError(f"cut at {cut} was accepted")
    # The postamble is not needed to use the frame.
    kind, payload, _ = pn532.parse_frame(TARGET_FELICA[:-1])
    assert kind == pn532.FRAME_DATA and payload[0] == 0x4B


def test_frame_from_host_is_not_an_answer():
    _raises(pn532.FrameError, "bad_tfi", pn532.parse_frame, GET_FIRMWARE)
    kind, payload, _ = pn532.parse_frame(GET_FIRMWARE, pn532.TFI_HOST)
    assert (kind, payload) == (pn532.FRAME_DATA, b"\x02")


def test_oversized_and_empty_frames_are_refused():
    _raises(pn532.FrameError, "frame_too_long", pn532.parse_frame, frame("00 00 FF 50 B0") + bytes(90))
    _raises(pn532.FrameError, "empty_frame", pn532.parse_frame, frame("00 00 FF FF FF 00 00 00 00"))


def test_extended_frame_round_trip():
    payload = bytes(range(40))
    built = pn532.build_frame(pn532.TFI_PN532, payload)
    kind, parsed, _ = pn532.parse_frame(built)
    assert (kind, parsed) == (pn532.FRAME_DATA, payload)
    # Extended header: 00 00 FF FF FF LENM LENL LCS, LEN = 41 = 0x0029.
    extended = frame("00 00 FF FF FF 00 29 D7") + bytes((pn532.TFI_PN532,)) + payload
    extended += bytes((pn532.checksum(bytes((pn532.TFI_PN532,)) + payload), 0))
    assert pn532.parse_frame(extended)[:2] == (pn532.FRAME_DATA, payload)
    bad = bytearray(extended)
    bad[7] ^= 1
    _raises(pn532.ChecksumError, "length_checksum", pn532.parse_frame, bad)


# --- commands over UART (HSU) --------------------------------------------------------------------


def test_get_firmware_version_over_uart():
    uart, chip = _uart_chip([(GET_FIRMWARE, ACK + FIRMWARE_ANSWER)])
    assert chip.get_firmware_version() == (0x32, 0x01, 0x06, 0x07)
    assert uart.written == [GET_FIRMWARE] and not uart.unexpected


def test_frames_arriving_one_byte_at_a_time():
    uart, chip = _uart_chip([(SAM_CONFIG, ACK + SAM_ANSWER), (GET_FIRMWARE, ACK + FIRMWARE_ANSWER)], chunk=1)
    chip.sam_configuration()
    assert chip.get_firmware_version()[0] == 0x32


def test_in_list_passive_target_type_a_uid_lengths():
    for answer, uid in (
        (TARGET_A4, frame("A1 B2 C3 D4")),
        (TARGET_A7, frame("04 A1 B2 C3 D4 E5 F6")),
        (TARGET_A10, frame("04 A1 B2 C3 D4 E5 F6 07 08 09")),
    ):
        _, chip = _uart_chip([(LIST_A, ACK + answer)])
        data = chip.call(pn532.CMD_IN_LIST_PASSIVE_TARGET, pn532.in_list_params(pn532.BRTY_106_TYPE_A))
        assert pn532.parse_target_a(data) == uid


def test_felica_polling_exchange_gives_idm_and_pmm():
    for answer in (TARGET_FELICA, TARGET_FELICA_SC):
        uart, chip = _uart_chip([(LIST_FELICA, ACK + answer)])
        data = chip.call(pn532.CMD_IN_LIST_PASSIVE_TARGET, pn532.in_list_params(pn532.BRTY_212_FELICA))
        assert pn532.parse_target_felica(data) == (IDM, PMM)
        assert uart.written == [LIST_FELICA]


def test_no_target_answers_none():
    _, chip = _uart_chip([(LIST_A, ACK + NO_TARGET)])
    assert pn532.parse_target_a(chip.call(0x4A, pn532.in_list_params(0))) is None
    assert pn532.parse_target_felica(b"\x00") is None


def test_bad_target_data_is_refused():
    five_byte_uid = frame("01 01 00 04 08 05 A1 B2 C3 D4 E5")
    _raises(pn532.FrameError, "bad_uid_length", pn532.parse_target_a, five_byte_uid)
    _raises(pn532.FrameError, "bad_uid_length", pn532.parse_target_a, frame("01 01 00 04 08 07 A1 B2 C3"))
    _raises(pn532.FrameError, "bad_target_data", pn532.parse_target_a, frame("01 01 00"))
    _raises(pn532.FrameError, "bad_target_data", pn532.parse_target_felica, frame("01 01 12 01 01 2E"))
    _raises(pn532.FrameError, "bad_felica_response_code", pn532.parse_target_felica,
            frame("01 01 12 07") + IDM + PMM)


def test_nack_and_error_frame_instead_of_ack():
    _, chip = _uart_chip([(GET_FIRMWARE, NACK)])
    _raises(pn532.NackReceived, "nack", chip.get_firmware_version)
    _, chip = _uart_chip([(GET_FIRMWARE, ERROR)])
    _raises(pn532.ApplicationError, "error_frame", chip.get_firmware_version)


def test_error_frame_as_answer():
    _, chip = _uart_chip([(GET_FIRMWARE, ACK + ERROR)])
    _raises(pn532.ApplicationError, "error_frame", chip.get_firmware_version)


def test_corrupted_answer_is_requested_again_with_nack():
    bad = bytearray(FIRMWARE_ANSWER)
    bad[7] ^= 0x04
    uart, chip = _uart_chip([(GET_FIRMWARE, ACK + bytes(bad)), (NACK, FIRMWARE_ANSWER)])
    assert chip.get_firmware_version() == (0x32, 0x01, 0x06, 0x07)
    assert uart.written == [GET_FIRMWARE, NACK]


def test_corrupted_twice_gives_checksum_error():
    bad = bytearray(FIRMWARE_ANSWER)
    bad[7] ^= 0x04
    _, chip = _uart_chip([(GET_FIRMWARE, ACK + bytes(bad)), (NACK, bytes(bad))])
    _raises(pn532.ChecksumError, "data_checksum", chip.get_firmware_version)


def test_silent_chip_times_out_instead_of_blocking():
    uart, chip = _uart_chip([])
    _raises(pn532.PN532Timeout, "timeout", chip.get_firmware_version)
    # ACK but no answer: the host aborts the command with an ACK of its own.
    uart, chip = _uart_chip([(GET_FIRMWARE, ACK)])
    _raises(pn532.PN532Timeout, "timeout", chip.get_firmware_version)
    assert uart.written == [GET_FIRMWARE, ACK]


def test_truncated_answer_times_out():
    _, chip = _uart_chip([(GET_FIRMWARE, ACK + FIRMWARE_ANSWER[:8])])
    _raises(pn532.PN532Timeout, "timeout", chip.get_firmware_version)


def test_wrong_answer_code_is_refused():
    _, chip = _uart_chip([(GET_FIRMWARE, ACK + SAM_ANSWER)])
    _raises(pn532.FrameError, "unexpected_response", chip.get_firmware_version)


def test_firmware_answer_of_wrong_length_is_refused():
    short = pn532.build_frame(pn532.TFI_PN532, b"\x03\x32\x01")
    _, chip = _uart_chip([(GET_FIRMWARE, ACK + short)])
    _raises(pn532.FrameError, "bad_response_length", chip.get_firmware_version)


def test_endless_garbage_is_refused_not_buffered_forever():
    uart, chip = _uart_chip([(GET_FIRMWARE, b"\x55" * 200)])
    _raises(pn532.FrameError, "frame_too_long", chip.get_firmware_version)


# --- commands over I2C ---------------------------------------------------------------------------


def test_get_firmware_version_over_i2c_waits_for_status_ready():
    i2c = FakeI2C([(GET_FIRMWARE, ACK + FIRMWARE_ANSWER)])
    i2c.busy_reads = 3
    chip = pn532.PN532(pn532_i2c.I2CTransport(i2c), ack_timeout_ms=20, response_timeout_ms=40)
    assert chip.get_firmware_version() == (0x32, 0x01, 0x06, 0x07)
    assert i2c.written == [GET_FIRMWARE]
    assert i2c.read_sizes[0] == 7  # the ACK: status byte + 6, not a whole buffer


def test_i2c_felica_and_timeout():
    i2c = FakeI2C([(LIST_FELICA, ACK + TARGET_FELICA)])
    chip = pn532.PN532(pn532_i2c.I2CTransport(i2c), ack_timeout_ms=20, response_timeout_ms=40)
    data = chip.call(pn532.CMD_IN_LIST_PASSIVE_TARGET, pn532.in_list_params(pn532.BRTY_212_FELICA))
    assert pn532.parse_target_felica(data) == (IDM, PMM)
    chip = pn532.PN532(pn532_i2c.I2CTransport(FakeI2C([])), ack_timeout_ms=10)
    _raises(pn532.PN532Timeout, "timeout", chip.get_firmware_version)


def test_i2c_missing_chip_is_a_pn532_error():
    chip = pn532.PN532(pn532_i2c.I2CTransport(FakeI2C([], address=0x30)), ack_timeout_ms=10)
    _raises(pn532.PN532Error, "i2c_write_failed", chip.get_firmware_version)


# --- the poller the core uses --------------------------------------------------------------------


class _Clock:
    def __init__(self):
        self.now = 0

    def ticks_ms(self):
        return self.now

    def ticks_diff(self, a, b):
        return a - b


def _poller(script):
    uart = FakeUART([(pn532_uart.UART_WAKEUP, b""), (SAM_CONFIG, ACK + SAM_ANSWER),
                     (GET_FIRMWARE, ACK + FIRMWARE_ANSWER), (RF_RETRIES, ACK + RF_ANSWER)] + script)
    transport = pn532_uart.UARTTransport(uart)
    chip = pn532.PN532(transport, ack_timeout_ms=20, response_timeout_ms=40)
    clock = _Clock()
    poller = pn532.CardPoller(chip, clock.ticks_ms, clock.ticks_diff, wake=transport.wake)
    return uart, poller, clock


def _poll_many(poller, clock, count):
    seen = []
    for _ in range(count):
        clock.now += 10
        found = poller.poll()
        if found:
            seen.append(found)
    return seen


def test_poller_initialises_then_alternates_type_a_and_felica():
    uart, poller, clock = _poller([
        (LIST_A, ACK + TARGET_A7), (LIST_FELICA, ACK + NO_TARGET),
        (LIST_A, ACK + NO_TARGET), (LIST_FELICA, ACK + TARGET_FELICA),
        (LIST_A, ACK),  # the next poll, sent right after the last answer was collected
    ])
    # initialisation, the first send, then one call per poll: it collects an answer and sends the next poll
    seen = _poll_many(poller, clock, 1 + 1 + 4)
    assert poller.firmware == (0x32, 0x01, 0x06, 0x07)
    assert seen == [("iso14443a", frame("04 A1 B2 C3 D4 E5 F6")), ("felica", IDM)], seen
    assert not uart.unexpected and not poller.errors, poller.errors


def test_poller_reports_a_resting_card_once():
    uart, poller, clock = _poller([
        (LIST_A, ACK + TARGET_A4), (LIST_FELICA, ACK + NO_TARGET),
        (LIST_A, ACK + TARGET_A4), (LIST_FELICA, ACK + NO_TARGET),
        (LIST_A, ACK + NO_TARGET), (LIST_FELICA, ACK + NO_TARGET),
        (LIST_A, ACK + TARGET_A4), (LIST_FELICA, ACK),
    ])
    seen = _poll_many(poller, clock, 1 + 1 + 7)
    assert seen == [("iso14443a", frame("A1 B2 C3 D4"))] * 2, seen
    assert not uart.unexpected and not poller.errors, poller.errors


def test_poller_survives_garbage_and_silence():
    bad = bytearray(TARGET_A4)
    bad[10] ^= 0x40
    uart, poller, clock = _poller([(LIST_A, ACK + bytes(bad)), (NACK, bytes(bad))])
    assert _poll_many(poller, clock, 8) == []
    assert poller.errors.get("data_checksum") == 1, poller.errors
    # The chip then stops answering: polls return None and count errors, nothing escapes.
    assert _poll_many(poller, clock, 400) == []
    assert poller.last_error in ("timeout", "poll_timeout"), poller.last_error


def test_poller_with_absent_chip_keeps_retrying_bounded():
    chip = pn532.PN532(pn532_i2c.I2CTransport(FakeI2C([], address=0x30)), ack_timeout_ms=5)
    poller = pn532.CardPoller(chip, retry_ms=0)
    for _ in range(3):
        assert poller.poll() is None
    assert poller.errors["i2c_write_failed"] == 3, poller.errors


def test_card_is_not_lost_when_the_next_poll_cannot_be_sent():
    uart, poller, clock = _poller([(LIST_A, ACK + TARGET_A4)])  # then the chip goes silent
    seen = _poll_many(poller, clock, 1 + 1 + 1)
    assert seen == [("iso14443a", frame("A1 B2 C3 D4"))], seen
    assert poller.errors == {"timeout": 1}, poller.errors


class _SleepyI2C(FakeI2C):
    """NAKs the first write, as a PN532 does while it wakes up on I2C."""

    def __init__(self, script):
        super().__init__(script)
        self.naks = 1

    def writeto(self, address, data):
        if self.naks:
            self.naks -= 1
            raise OSError(19)
        return super().writeto(address, data)


def test_i2c_write_is_retried_once_while_the_chip_wakes():
    i2c = _SleepyI2C([(GET_FIRMWARE, ACK + FIRMWARE_ANSWER)])
    chip = pn532.PN532(pn532_i2c.I2CTransport(i2c), ack_timeout_ms=20, response_timeout_ms=40)
    assert chip.get_firmware_version()[0] == 0x32
    assert i2c.naks == 0 and i2c.written == [GET_FIRMWARE]


def test_poller_refuses_a_chip_that_is_not_a_pn532():
    pn533_answer = pn532.build_frame(pn532.TFI_PN532, b"\x03\x33\x02\x01\x07")
    uart = FakeUART([(pn532_uart.UART_WAKEUP, b""), (SAM_CONFIG, ACK + SAM_ANSWER),
                     (GET_FIRMWARE, ACK + pn533_answer)])
    transport = pn532_uart.UARTTransport(uart)
    clock = _Clock()
    poller = pn532.CardPoller(pn532.PN532(transport, ack_timeout_ms=20), clock.ticks_ms, clock.ticks_diff,
                              wake=transport.wake)
    assert _poll_many(poller, clock, 3) == []
    assert poller.errors == {"not_a_pn532": 1}, poller.errors
