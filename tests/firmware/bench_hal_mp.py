# Benchmark (not a test): PN532 frame layer and card poller cost on the MicroPython unix port.
#
#   .venv/bin/micropython -X heapsize=100K tests/firmware/bench_hal_mp.py      (from the repo root)
#
# Prints microseconds per operation and heap bytes allocated per poll (figures: docs/BENCHMARKS.md).
import gc
import sys
import time

for _path in ("firmware", "."):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from drivers import pn532, pn532_uart  # noqa: E402

from tests.firmware.pn532_fakes import FakeUART, frame  # noqa: E402

ACK = frame("00 00 FF 00 FF 00")
LIST_A = frame("00 00 FF 04 FC D4 4A 01 00 E1 00")
LIST_FELICA = frame("00 00 FF 09 F7 D4 4A 01 01 00 FF FF 00 00 E2 00")
NO_TARGET = frame("00 00 FF 03 FD D5 4B 00 E0 00")
TARGET_FELICA = frame(
    "00 00 FF 16 EA D5 4B 01 01 12 01 01 2E 4C D8 12 34 56 78 03 01 4B 02 4F 49 93 FF E9 00"
)


class LoopingUART(FakeUART):
    """Answers every poll command, forever (the scripted fake runs out)."""

    def __init__(self):
        super().__init__([])
        self.answers = {LIST_A: ACK + NO_TARGET, LIST_FELICA: ACK + TARGET_FELICA}

    def write(self, data):
        answer = self.answers.get(bytes(data))
        if answer:
            self.rx.extend(answer)
        return len(data)


def _per_op_us(func, count):
    start = time.ticks_us()
    for _ in range(count):
        func()
    return time.ticks_diff(time.ticks_us(), start) / count


def _show(label, value, unit):
    print(f"{label}: {value:.1f} {unit}")


def main():
    count = 2000
    parse_us = _per_op_us(lambda: pn532.parse_frame(TARGET_FELICA), count)
    _show("parse_frame FeliCa answer (29 bytes)", parse_us, "us")
    felica_poll = b"\x4a" + pn532.in_list_params(1)
    _show("build_frame InListPassiveTarget FeliCa",
          _per_op_us(lambda: pn532.build_frame(pn532.TFI_HOST, felica_poll), count), "us")
    uart = LoopingUART()
    chip = pn532.PN532(pn532_uart.UARTTransport(uart), ack_timeout_ms=20, response_timeout_ms=40)
    poller = pn532.CardPoller(chip)
    poller._state = 0  # initialised (skip SAM/firmware: this fake answers polls only)
    for _ in range(10):
        poller.poll()
    _show("CardPoller.poll() over a fake UART (collect one answer, send the next poll)",
          _per_op_us(poller.poll, count), "us")
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    for _ in range(50):
        poller.poll()
    allocated = gc.mem_alloc() - before
    gc.enable()
    _show("heap allocated per poll(), the fake port's own included (gc off, 50 polls)",
          allocated / 50, "bytes")
    print("errors counted:", poller.errors)

main()
