"""The ESP32 HAL and the drivers type-check with mypy against micropython-esp32-stubs.

The stubs describe the real ESP32 firmware (machine.PWM, Pin.irq, WDT, RTC, I2C, UART...), so a wrong
argument name or a method the board does not have fails here rather than on a door.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = next(Path(sys.prefix).glob("lib/python3*/site-packages"))
STUB_DIST = "micropython_esp32_stubs"
CHECKED = ["firmware/hal/esp32.py", "firmware/hal/esp32_ble.py", "firmware/drivers"]


def _stub_names() -> list[str]:
    """Top-level modules and packages the ESP32 stub distribution installs."""
    dist = next(SITE.glob(STUB_DIST + "-*.dist-info"))
    names = set()
    for line in (dist / "RECORD").read_text().splitlines():
        first = line.split(",")[0].split("/")[0]
        if first.endswith(".pyi") or (SITE / first).is_dir() and not first.endswith(".dist-info"):
            names.add(first.removesuffix(".pyi"))
    return sorted(names | {"_mpy_shed"})


def _stub_dir(tmp_path: Path) -> Path:
    # Only the ESP32 stubs (not the whole CPython site-packages) go on mypy's search path.
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name in _stub_names():
        for candidate in (SITE / (name + ".pyi"), SITE / name):
            if candidate.exists():
                (stubs / candidate.name).symlink_to(candidate)
    return stubs


def _config(tmp_path: Path, stubs: Path) -> Path:
    # The stubs have a few errors of their own; we check our code against them, not them.
    sections = "\n".join(f"[mypy-{name},{name}.*]\nignore_errors = True\n" for name in _stub_names())
    config = tmp_path / "mypy.ini"
    config.write_text(
        "[mypy]\n"
        "python_version = 3.11\n"
        f"mypy_path = {stubs}:{ROOT / 'firmware'}\n"
        f"custom_typeshed_dir = {SITE}\n"
        "check_untyped_defs = True\n"
        "strict_optional = True\n"
        "warn_unreachable = True\n"
        "explicit_package_bases = True\n"
        "no_site_packages = True\n\n"
        # Only the ESP32 side is checked here; the simulator and the portable code are imported, not checked.
        "[mypy-hal.sim,core.*,shared_schema.*]\nfollow_imports = silent\n\n" + sections
    )
    return config


def _mypy(tmp_path: Path, targets: list[str]) -> subprocess.CompletedProcess:
    config = _config(tmp_path, _stub_dir(tmp_path))
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir", str(tmp_path / "cache"),
         *targets],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )


def test_esp32_hal_and_drivers_type_check_against_esp32_stubs(tmp_path: Path) -> None:
    proc = _mypy(tmp_path, CHECKED)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success" in proc.stdout


def test_the_check_catches_a_wrong_machine_call(tmp_path: Path) -> None:
    # The same setup must fail on code that misuses the ESP32 API, or the check above proves nothing.
    bad = tmp_path / "bad_hal.py"
    bad.write_text(
        "import machine\n"
        "pwm = machine.PWM(machine.Pin(4), freq=50, duty_ns=1500000)\n"
        "pwm.duty_percent(50)\n"  # no such method
        "machine.WDT(timeout='8s')\n"  # wrong type
    )
    proc = _mypy(tmp_path, [str(bad)])
    assert proc.returncode != 0
    assert "duty_percent" in proc.stdout
