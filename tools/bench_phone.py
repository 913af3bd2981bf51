"""Mobile key benchmarks: the lock's time from challenge to decision and the heap of the exchange, on the
MicroPython unix port (tests/firmware/bench_phone_mp.py).

    .venv/bin/python -m tools.bench_phone [--rounds N] [--credentials N]

Figures: docs/BENCHMARKS.md, "Mobile keys".
"""

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--credentials", type=int, default=1000, help="entries in the lock's table")
    args = parser.parse_args(argv if argv is not None else [])
    micropython = str(Path(sys.executable).parent / "micropython")
    command = [micropython, "-X", "heapsize=4M", "tests/firmware/bench_phone_mp.py", str(args.rounds),
               str(args.credentials)]
    subprocess.run(command, cwd=ROOT, check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
