"""firmware/manifest.py freezes every module an ESP32 boot needs, and nothing of the simulator.

The real build (make -C ports/esp32 FROZEN_MANIFEST=...) needs ESP-IDF, which this machine does not have.
This test runs the manifest with stand-ins for MicroPython's manifest functions (same signatures and path
rules as tools/manifestfile.py: paths relative to the manifest's directory, `files` relative to the package)
and checks the files it would freeze against the firmware tree.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "firmware" / "manifest.py"


def _frozen() -> tuple[set[str], list[str]]:
    frozen: set[str] = set()
    included: list[str] = []
    here = MANIFEST.parent

    def include(path: str) -> None:
        included.append(path)

    def package(package_path: str, files: list[str] | None = None, base_path: str = ".") -> None:
        root = (here / base_path).resolve()
        directory = root / package_path
        assert directory.is_dir(), directory
        names = files if files is not None else [p.relative_to(directory).as_posix()
                                                 for p in directory.rglob("*.py")]
        for name in names:
            path = directory / name
            assert path.is_file(), path
            frozen.add(path.relative_to(ROOT).as_posix())

    def module(module_path: str, base_path: str = ".") -> None:
        path = (here / base_path).resolve() / module_path
        assert path.is_file(), path
        frozen.add(path.relative_to(ROOT).as_posix())

    code = compile(MANIFEST.read_text(encoding="utf-8"), str(MANIFEST), "exec")
    exec(code, {"include": include, "package": package, "module": module})  # noqa: S102 (our own file)
    return frozen, included


def test_manifest_starts_from_the_ports_own_manifest() -> None:
    _, included = _frozen()
    assert included == ["$(PORT_DIR)/boards/manifest.py"]


def test_manifest_freezes_core_net_drivers_esp32_hal_and_the_contract() -> None:
    frozen, _ = _frozen()
    wanted = {
        p.relative_to(ROOT).as_posix()
        for folder in ("firmware/core", "firmware/net", "firmware/drivers", "shared_schema")
        for p in (ROOT / folder).rglob("*.py")
    } | {"firmware/hal/__init__.py", "firmware/hal/esp32.py", "firmware/hal/esp32_ble.py"}
    assert wanted - frozen == set(), f"not frozen: {sorted(wanted - frozen)}"


def test_manifest_leaves_out_the_simulator_and_the_device_files() -> None:
    frozen, _ = _frozen()
    assert not [p for p in frozen if p.startswith("firmware/hal/sim")]
    # boot.py, main.py (and config.json) stay on the board's filesystem
    assert not {"firmware/main.py", "firmware/boot.py", "firmware/manifest.py"} & frozen
