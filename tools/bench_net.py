"""Benchmarks of the lock's network side: heap with the core imported, plain and TLS, and a 4 KB burst.

    .venv/bin/python -m tools.bench_net

The script lives beside the tests whose helpers it reuses: tests/fwnet/bench_net.py (its --help lists the
options). Figures: docs/BENCHMARKS.md, "Firmware network side".
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    subprocess.run([sys.executable, "-m", "tests.fwnet.bench_net"], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
