"""Every firmware file compiles with mpy-cross, as a real deployment to the ESP32 would compile it.

mpy-cross is MicroPython's own compiler (the same version as the firmware), so syntax CPython accepts
but MicroPython does not (or code too big for its compiler) fails here.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MPY_CROSS = Path(sys.executable).parent / "mpy-cross"
SOURCES = sorted([*(ROOT / "firmware").rglob("*.py"), *(ROOT / "shared_schema").rglob("*.py")])


def _compile(source: Path, out_dir: Path) -> subprocess.CompletedProcess:
    target = out_dir / (source.stem + ".mpy")
    return subprocess.run(
        [str(MPY_CROSS), "-march=xtensawin", "-o", str(target), str(source)],
        capture_output=True, text=True, timeout=60,
    )


def test_there_is_firmware_to_compile() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in SOURCES}
    expected = {"firmware/main.py", "firmware/boot.py", "firmware/hal/esp32.py", "firmware/drivers/pn532.py"}
    assert expected <= names


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_compiles_with_mpy_cross(source: Path, tmp_path: Path) -> None:
    proc = _compile(source, tmp_path)
    assert proc.returncode == 0, proc.stderr
    produced = list(tmp_path.glob("*.mpy"))
    assert len(produced) == 1 and produced[0].read_bytes()[:1] == b"M"  # .mpy header starts with 'M'


def test_mpy_cross_refuses_what_micropython_cannot_compile(tmp_path: Path) -> None:
    # CPython 3.10+ accepts this; MicroPython's compiler has no `match` statement.
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\nmatch x:\n    case 1:\n        pass\n")
    proc = _compile(bad, tmp_path)
    assert proc.returncode != 0
