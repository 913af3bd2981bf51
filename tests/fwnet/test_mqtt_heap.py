"""The lock's network side fits the heap a lock has: connected over TLS with its subscription, receiving a
burst of maximum-size (4 KB) messages, with the firmware core imported as on the board, under
`micropython -X heapsize=144K` (the figures are in docs/BENCHMARKS.md, from tests/fwnet/bench_net.py).

128K passed with the core of protocol v1; the v2 core's trust, state and key code (+16 KB of modules
from .mpy at 64 bits) needs 144K here. Frozen into the firmware, as a board runs it, the code leaves the
heap altogether (docs/BENCHMARKS.md, "Firmware core v2")."""

from pathlib import Path

import pytest

from tests.fwnet.netkit import Mosquitto, compile_code, make_pki, run_burst, tls_listener

pytestmark = pytest.mark.slow
HEAP = "144K"
BURST = 40


def test_tls_burst_of_4k_messages_runs_in_144k_with_the_core_imported(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    code = compile_code(tmp_path / "code")
    broker = Mosquitto(tmp_path, "allow_anonymous true\npersistence false\n" + tls_listener(pki)).start()
    try:
        result = run_burst(tmp_path, broker.port, BURST, code, heapsize=HEAP, pki=pki)
    finally:
        broker.stop()
    assert result["exit"] == 0 and result["n"] == BURST and result["sizes"] == 4096
    status = result["status"]
    assert status["state"] == "connected" and status["connects"] == 1 and status["failures"] == 0
    assert status["handler_errors"] == 0 and status["oversized"] == 0
    assert 0 < result["burst_min"] and result["after_connect"] < result["after_import"]
