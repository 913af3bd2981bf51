"""One CLI for installers and developers: `python -m tools <command> [--help]`.

Each command is a module in tools/commands/ with NAME, HELP, add_arguments(parser) and run(args) (which
returns the exit status); this file finds them, so adding a command never touches another's code.
"""

import argparse
import importlib
import pkgutil
import sys
from types import ModuleType

from tools import commands


def command_modules() -> list[ModuleType]:
    """Every command module, sorted by command name."""
    found = []
    for info in pkgutil.iter_modules(commands.__path__):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            found.append(module)
    return sorted(found, key=lambda module: module.NAME)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m tools", description=__doc__.split("\n")[0])
    sub = root.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in command_modules():
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
