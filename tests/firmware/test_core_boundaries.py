"""The core is hardware-independent: nothing in firmware/core imports machine, network or the HAL.

Checked on the source (every import statement, at any depth, including imports inside functions), so a lazy
`import machine` in some rarely used branch is caught too.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = sorted((ROOT / "firmware" / "core").glob("*.py"))
# Hardware, radio and the layers above the core's boundary.
FORBIDDEN = {"machine", "network", "esp32", "esp", "bluetooth", "hal", "drivers"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_never_imports_hardware_or_network() -> None:
    assert CORE, "no core modules found"
    offenders = {p.name: sorted(_imported_roots(p) & FORBIDDEN) for p in CORE}
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    import machine\n    from network import WLAN\n")
    assert _imported_roots(sample) == {"machine", "network"}
