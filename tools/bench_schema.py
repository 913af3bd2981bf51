"""Wire-contract benchmarks on the real MicroPython interpreter (heap of an ESP32 without PSRAM).

.venv/bin/python -m tools.bench_schema
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    micropython = str(Path(sys.executable).parent / "micropython")
    subprocess.run([micropython, "-X", "heapsize=100K", "tools/bench_schema_mp.py"], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
