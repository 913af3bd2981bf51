"""`make bench`: run every benchmark script of the project and print its figures.

Each area owns one script (tools/bench_<area>.py with a main()); the figures and the commands that produced
them are recorded by hand in docs/BENCHMARKS.md. Benchmarks are never part of `make test`.
"""

import importlib
import sys
from pathlib import Path

AREAS = ("schema", "firmware", "hal", "net", "phone", "cloud", "secrets", "integrations")


def main() -> int:
    failed = []
    for area in AREAS:
        name = f"tools.bench_{area}"
        if not (Path(__file__).parent / f"bench_{area}.py").exists():
            print(f"== {area}: no benchmark script ({name})")
            continue
        print(f"== {area} ({name})", flush=True)
        try:
            importlib.import_module(name).main()
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            print(f"!! {area} benchmark failed: {exc!r}")
            failed.append(area)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
