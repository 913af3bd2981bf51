"""Every firmware file compiles with mpy-cross, as a real deployment to the ESP32 would compile it, and with
the unix port's own compiler (`micropython -X compile-only`), as the simulator and the tests load it.

mpy-cross is MicroPython's own compiler (the same version as the firmware), so syntax CPython accepts
but MicroPython does not (or code too big for its compiler) fails here.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MPY_CROSS = Path(sys.executable).parent / "mpy-cross"
MICROPYTHON = Path(sys.executable).parent / "micropython"
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


def test_every_file_compiles_on_the_unix_port() -> None:
    # One process per file (a compile error stops the interpreter); all failures reported together.
    failures = []
    for source in SOURCES:
        proc = subprocess.run([str(MICROPYTHON), "-X", "compile-only", str(source)],
                              capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            failures.append(f"{source.relative_to(ROOT)}: {proc.stdout}{proc.stderr}")
    assert not failures, "\n".join(failures)


def test_compile_only_refuses_what_micropython_cannot_compile(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\nmatch x:\n    case 1:\n        pass\n")
    proc = subprocess.run([str(MICROPYTHON), "-X", "compile-only", str(bad)], capture_output=True, text=True)
    assert proc.returncode != 0
