"""The firmware as a board gets it (.mpy files from mpy-cross) runs, and how much heap its code takes.

Compiles firmware/ and shared_schema/ with mpy-cross into a board-like directory (everything at the root,
as `mpremote fs cp` would put it), adds the stand-in `machine` module, and runs the ESP32 HAL and the core's
LockApp: build the hardware, open the store and log, poll, serve an exit button press. It prints the heap
each part's loaded code occupies (docs/BENCHMARKS.md, "Firmware HAL and drivers").

Heap: the unix port is 64-bit, the ESP32 32-bit; pointers and object headers are twice as big here, so the
same code takes roughly 1.5-2x the heap it takes on the board. BOARD_HEAP_64BIT stands for the ~100K of an
ESP32 without PSRAM; it is a proxy, not a measurement on a board (docs/HARDWARE.md: freeze the modules with
firmware/manifest.py). The run also checks that a boot never loads the message table, the simulator or the
PN532 transport the config does not use.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# 160K is the least that passes: 128K before protocol v2's trust, state and key code (+16 KB of modules from
# .mpy at 64 bits), 148K before the ESP32 HAL's WiFi station (+2.5 KB); 140K before the heap pass.
# On a 32-bit build with the modules frozen, as a board runs
# them, the running lock takes 30.8 KB and runs in a 36K heap (docs/BENCHMARKS.md, "Firmware core v2").
BOARD_HEAP_64BIT = "160K"
# The whole boot through main.py (main.py itself compiled from source, config loading, asyncio run) needs
# more: 180K is the least that passes (152K before protocol v2, 170K before the heap pass).
MAIN_HEAP_64BIT = "188K"

RUN = """
import gc, time
gc.collect()
start_free = gc.mem_free()
last = start_free
for group, names in (
    ("asyncio+machine", ("asyncio", "machine")),
    ("shared_schema", ("shared_schema.vocabulary", "shared_schema.credentials", "shared_schema.schedule")),
    ("drivers", ("drivers.pn532", "drivers.pn532_i2c", "drivers.servo", "drivers.inputs", "drivers.signals")),
    ("hal.esp32", ("hal", "hal.esp32")),
    ("core", ("core.app",)),
):
    for name in names:
        __import__(name)
    gc.collect()
    print("MODULE_HEAP %s %d" % (group, last - gc.mem_free()))
    last = gc.mem_free()
import machine
machine.Pin.levels[26] = 0  # the exit button, held down
from hal import build
from core.config import load
config = load("config.json")
hw = build(config)
from core.app import LockApp
app = LockApp(hw, config)
moves_before = len(hw.actuator._servo._pwm.duties_ns)
for _ in range(20):
    app.step()
hw.exit_button.irq()
time.sleep_ms(80)
for _ in range(5):
    app.step()
assert len(hw.actuator._servo._pwm.duties_ns) > moves_before, "exit button did not move the servo"
gc.collect()
print("BOARD_HEAP free=%d used_by_firmware=%d" % (gc.mem_free(), start_free - gc.mem_free()))
import sys
# Never loaded by this boot: the message table (the core needs only shared_schema.vocabulary), the
# simulator, the PN532 transport of the other wiring (config.example.json: I2C) and the other actuator.
loaded = [m for m in ("shared_schema.messages", "hal.sim", "drivers.pn532_uart", "drivers.relay")
          if m in sys.modules]
assert not loaded, "loaded needlessly: %s" % loaded
"""


def _compile_tree(source: Path, target: Path) -> None:
    for path in sorted(source.rglob("*.py")):
        out = target / path.relative_to(source).with_suffix(".mpy")
        out.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([str(BIN / "mpy-cross"), "-o", str(out), str(path)], capture_output=True,
                              text=True)
        assert proc.returncode == 0, proc.stderr


def _board(tmp_path: Path) -> Path:
    board = tmp_path / "board"
    _compile_tree(ROOT / "firmware", board)
    (board / "main.mpy").unlink()  # main.py and boot.py stay source on a board; not needed here
    (board / "boot.mpy").unlink()
    _compile_tree(ROOT / "shared_schema", board / "shared_schema")
    _compile_tree(ROOT / "tests" / "firmware" / "fake_board", board)
    config = json.loads((ROOT / "firmware" / "config.example.json").read_text())
    config.update(data_dir=str(board / "data"), site_key="000102030405060708090a0b0c0d0e0f")
    (board / "config.json").write_text(json.dumps(config))
    (board / "run.py").write_text(RUN)
    return board


def _run(board: Path, heap: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "micropython"), "-X", f"heapsize={heap}", "run.py"], cwd=board,
                          capture_output=True, text=True, timeout=120)


def test_firmware_runs_from_mpy_in_the_board_heap_proxy(tmp_path: Path) -> None:
    board = _board(tmp_path)
    proc = _run(board, BOARD_HEAP_64BIT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    match = re.search(r"BOARD_HEAP free=(\d+) used_by_firmware=(\d+)", proc.stdout)
    assert match, proc.stdout
    print("\n".join(line for line in proc.stdout.splitlines() if "HEAP" in line))


def test_the_heap_limit_is_real(tmp_path: Path) -> None:
    # The same run in a heap far too small must fail, or the check above proves nothing.
    board = _board(tmp_path)
    shutil.rmtree(board / "data", ignore_errors=True)
    proc = _run(board, "24K")
    assert proc.returncode != 0
    assert "MemoryError" in proc.stdout + proc.stderr


def test_main_py_boots_the_esp32_firmware(tmp_path: Path) -> None:
    # main.py (source, as on a board) in the board directory, config.json next to it: the ESP32 path of
    # main.py runs and the core reports its boot event on the console, as a serial console would show.
    board = _board(tmp_path)
    shutil.copy(ROOT / "firmware" / "main.py", board / "main.py")
    proc = subprocess.Popen([str(BIN / "micropython"), "-X", f"heapsize={MAIN_HEAP_64BIT}", "main.py"],
                            cwd=board, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline() if proc.stdout else ""
    finally:
        proc.terminate()
        rest = proc.communicate(timeout=10)[0]
    report = json.loads(first)
    assert report["report"] == "event", first + rest
    assert report["data"]["type"] == "boot" and report["data"]["reason"] == "power_on", first
