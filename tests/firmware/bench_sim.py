"""Benchmark (not a test): tap-to-decision latency of the simulated lock, seen from its control channel.

    .venv/bin/python -m tests.firmware.bench_sim

Starts the real firmware (`micropython firmware/main.py`, simulated HAL), taps 40 distinct unknown cards and
15 permitted ones, and prints the time from sending `tap` to the `decision` report and to the `actuator` move,
once with the simulated reader handing cards straight to the core (sim_reader "direct") and once through the
simulated PN532 chip and the real driver ("pn532": a poll alternates type A and FeliCa, one command per core
step). The core polls every poll_ms (50 ms); taps are sent at random phases of that period, after the previous
card has left the field.
"""

import json
import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.firmware.test_sim_end_to_end import MICROPYTHON, PERMITTED, ROOT, SITE_KEY_HEX, Channel, _free_port
from tests.firmware.test_sim_end_to_end import _seed_store as seed_store


def _start(tmp: Path, reader: str) -> tuple[subprocess.Popen, Channel]:
    data = tmp / "data"
    data.mkdir()
    seed_store(tmp, data)
    config = json.loads((ROOT / "firmware" / "sim_config.json").read_text())
    port = _free_port()
    config.update(sim_control_port=port, data_dir=str(data), sim_data_dir=str(data), site_key=SITE_KEY_HEX,
                  unlock_seconds=1, sim_travel_ms=50, tap_repeat_ms=0, sim_reader=reader)
    (tmp / "config.json").write_text(json.dumps(config))
    proc = subprocess.Popen([str(MICROPYTHON), "firmware/main.py", "--config", str(tmp / "config.json")],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            return proc, Channel(port)
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the simulated lock did not start")


def _tap_ms(channel: Channel, uid: str, until: str) -> float:
    # The previous card leaves the field (two more polls of its kind), then a random phase of the poll loop.
    time.sleep(0.5 + random.uniform(0, 0.06))
    start = time.perf_counter()
    channel.send({"cmd": "tap", "kind": "iso14443a", "uid": uid})
    channel.wait_for(lambda o: o.get("report") == until)
    return (time.perf_counter() - start) * 1000


def _summary(label: str, values: list[float]) -> None:
    values = sorted(values)
    p95 = values[int(len(values) * 0.95) - 1]
    print(f"{label}: n={len(values)} median={statistics.median(values):.1f} ms p95={p95:.1f} ms "
          f"max={values[-1]:.1f} ms")


def _locked(obj: dict) -> bool:
    return obj.get("report") == "bolt" and obj["data"].get("bolt") == "locked"


def main() -> None:
    for reader in ("direct", "pn532"):
        with tempfile.TemporaryDirectory() as tmp:
            proc, channel = _start(Path(tmp), reader)
            try:
                channel.wait_for(lambda o: o.get("report") == "hello")
                denied = [_tap_ms(channel, f"04{index:012x}", "decision") for index in range(1, 41)]
                granted = []
                for _ in range(15):
                    granted.append(_tap_ms(channel, PERMITTED[1], "actuator"))
                    channel.wait_for(_locked, timeout=5)
                _summary(f"[{reader}] unknown card: tap -> decision report", denied)
                _summary(f"[{reader}] permitted card: tap -> actuator move", granted)
            finally:
                channel.close()
                proc.terminate()
                proc.wait(timeout=10)

if __name__ == "__main__":
    main()
