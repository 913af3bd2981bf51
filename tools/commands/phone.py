"""`python -m tools phone --key FILE tap --door D`: play a phone's mobile key against a simulated lock."""

import argparse

from tools import phone

NAME = "phone"
HELP = "play a phone with a mobile key (key file) against a simulated lock's control channel"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    phone.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return phone.run(args)
