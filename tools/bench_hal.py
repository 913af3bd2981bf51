"""HAL benchmarks: the PN532 driver on MicroPython, and tap-to-reaction latency of the simulated lock.

    .venv/bin/python -m tools.bench_hal

The scripts live beside the tests whose fakes and fixtures they reuse: tests/firmware/bench_hal_mp.py and
tests/firmware/bench_sim.py. Figures: docs/BENCHMARKS.md, "Firmware HAL and drivers".
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    micropython = str(Path(sys.executable).parent / "micropython")
    driver_bench = [micropython, "-X", "heapsize=100K", "tests/firmware/bench_hal_mp.py"]
    subprocess.run(driver_bench, cwd=ROOT, check=True)
    subprocess.run([sys.executable, "-m", "tests.firmware.bench_sim"], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
