"""Secrets-at-rest benchmarks: `.venv/bin/python tools/bench_secrets.py --help` (cloud/bench/secrets.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cloud.bench.secrets import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
