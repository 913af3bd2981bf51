"""Cloud benchmarks: `.venv/bin/python tools/bench_cloud.py --help` (the code is in cloud/bench/run.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cloud.bench.run import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
