"""`python -m tools stack`: what `make run` starts (broker, cloud API, a simulated lock), foreground."""

import argparse

from tools import stack

NAME = "stack"
HELP = "run the whole stack on embedded defaults until Ctrl-C (what `make run` does)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    stack.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return stack.run(args)
