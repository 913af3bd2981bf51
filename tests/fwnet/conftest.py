"""Fixtures for the network tests (the helpers themselves are in netkit.py)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fwnet.netkit import Agent, Mosquitto, Peer


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(tmp_path, "allow_anonymous true\npersistence false\n").start()
    yield mosquitto
    mosquitto.stop()


@pytest.fixture
def agents() -> Iterator[list[Agent]]:
    """Agents a test starts go in this list and are killed at the end, whatever happened."""
    started: list[Agent] = []
    yield started
    for agent in started:
        agent.kill()


@pytest.fixture
def peers() -> Iterator[list[Peer]]:
    started: list[Peer] = []
    yield started
    for peer in started:
        peer.close()
