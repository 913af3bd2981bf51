# micropython-test heapsize=128K
# heapsize 128K (112K is the least that passes): the simulated HAL and its drivers compile from source here.
# The simulated HAL's hook for the network side: hw.ntp_time() is untrusted time, None on the unix port
# unless the config simulates a reachable NTP server (sim_ntp).
import sys

if "firmware" not in sys.path:
    sys.path.insert(0, "firmware")

import os  # noqa: E402

from hal import build  # noqa: E402


def _config(**overrides):
    suffix = (os.urandom(1)[0] << 8) | os.urandom(1)[0]
    config = {"hal": "sim", "device_id": "sim-hooks", "sim_data_dir": "/tmp/simhooks_%d" % suffix,
              "sim_control_port": 20000 + suffix % 20000, "sim_reader": "direct"}
    config.update(overrides)
    return config


def test_ntp_time_only_when_simulated_and_it_sets_nothing():
    hw = build(_config())
    assert hw.ntp_time() is None
    hw = build(_config(sim_ntp=True))
    assert hw.ntp_time() > 1700000000
    assert hw.rtc.now() is None  # asked, not set: the core decides what untrusted time may do
