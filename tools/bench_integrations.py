"""Integrations: `.venv/bin/python tools/bench_integrations.py --help` (cloud/bench/integrations.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cloud.bench.integrations import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
