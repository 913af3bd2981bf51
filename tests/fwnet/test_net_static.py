"""Static checks on firmware/net: it never imports hardware modules (the HAL brings WiFi up), the core never
imports it (a tap never waits on the network), and its size limit is the protocol's."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NET = sorted((ROOT / "firmware" / "net").glob("*.py"))
CORE = sorted((ROOT / "firmware" / "core").glob("*.py"))


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_net_never_imports_hardware_the_hal_or_the_core() -> None:
    assert len(NET) >= 6
    forbidden = {"machine", "network", "esp32", "esp", "bluetooth", "hal", "drivers", "core"}
    offenders = {p.name: sorted(_imported_roots(p) & forbidden) for p in NET}
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_the_core_never_imports_net() -> None:
    assert {p.name for p in CORE if "net" in _imported_roots(p)} == set()


def test_the_check_sees_lazy_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from net.dns import Resolver\n    import network\n")
    assert _imported_roots(sample) == {"net", "network"}


def test_largest_message_is_the_protocols() -> None:
    # mqttpacket cannot be imported on CPython (micropython.const); its constant is read from the source.
    from shared_schema.vocabulary import MAX_MESSAGE_BYTES

    source = (ROOT / "firmware" / "net" / "mqttpacket.py").read_text(encoding="utf-8")
    constants = dict(re.findall(r"^(\w+) = const\((\d+)\)", source, re.M))
    assert int(constants["MAX_MESSAGE_BYTES"]) == MAX_MESSAGE_BYTES
    topic, remaining = int(constants["MAX_TOPIC_BYTES"]), int(constants["MAX_PUBLISH_REMAINING"])
    assert remaining == 2 + topic + 2 + MAX_MESSAGE_BYTES
    assert int(constants["PUBLISH_HEADER_ROOM"]) == 1 + 4 + 2 + topic + 2
