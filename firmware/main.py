# The lock's entry point: on the board it runs after boot.py; on the host the same file runs the same
# firmware with the simulated HAL:
#
#   micropython firmware/main.py --config firmware/sim_config.json
#
# Reads the config (config.json next to this file unless --config names one), builds the HAL the config
# names, hands it to the core's LockApp and runs it on asyncio. The actuator is never moved here.
import sys

USAGE = """usage: micropython firmware/main.py [--config PATH]

Runs the lock firmware. PATH is a JSON config (default: config.json next to main.py);
"hal": "sim" runs the simulated hardware (docs/SIMULATOR.md), "hal": "esp32" the board (docs/HARDWARE.md)."""


def _firmware_dir():
    # On the unix port sys.path[0] is the directory of this script; on the board everything is at "/".
    first = sys.path[0] if sys.path else ""
    return first if first not in ("", ".frozen", "/") else ""


def _add_host_paths(firmware_dir):
    # On the host, shared_schema/ sits next to firmware/ (repo root); on the board both are at the root.
    if not firmware_dir:
        return
    root = firmware_dir.rsplit("/", 1)[0] if "/" in firmware_dir else "."
    for path in (firmware_dir, root or "/"):
        if path not in sys.path:
            sys.path.append(path)


def _config_path(argv, firmware_dir):
    """The --config value, the default path, or None after printing usage (--help, bad arguments)."""
    args = argv[1:]
    if not args:
        return (firmware_dir + "/" if firmware_dir else "") + "config.json"
    if len(args) == 2 and args[0] == "--config":
        return args[1]
    print(USAGE)
    return None


async def _run(hw, app):
    # Started here rather than in the HAL: machine.WDT cannot be stopped, so only the real run starts it.
    hw.watchdog.start()
    await app.run()  # also awaits hw.start() (the HAL's background tasks; safe to call twice)


def main(argv):
    firmware_dir = _firmware_dir()
    _add_host_paths(firmware_dir)
    path = _config_path(argv, firmware_dir)
    if path is None:
        return 0 if argv[1:] in (["--help"], ["-h"]) else 2

    import asyncio

    from core import config as core_config
    from hal import HalError, build

    try:
        config = core_config.load(path)
        hw = build(config)
    except (core_config.ConfigError, HalError) as exc:
        print("lock: cannot start:", exc)
        return 2

    from core.app import LockApp

    try:
        app = LockApp(hw, config)  # opens the permission store and event log, logs the boot reason
        asyncio.run(_run(hw, app))
    except KeyboardInterrupt:
        return 0
    except Exception as exc:  # noqa: BLE001 - report it; on the board the watchdog then resets us
        print("lock: stopped by", type(exc).__name__, exc)
        sys.print_exception(exc)
        return 1
    return 0


if __name__ == "__main__":
    status = main(sys.argv)
    if status:
        sys.exit(status)
