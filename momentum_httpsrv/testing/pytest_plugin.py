"""pytest plugin: the ``momentum_site`` fixture starts a configuration in-process.

    def test_hello(momentum_site):
        client = momentum_site("conf/ecelerity.conf")
        assert client.post("/hello").status == 200
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported on use: pytest loads this plugin for every run
    from .client import MomentumTestClient


@pytest.fixture
def momentum_site() -> Iterator[Callable[[Path | str], MomentumTestClient]]:
    """A factory of started test clients; every one is closed after the test."""
    from .client import MomentumTestClient

    clients: list[MomentumTestClient] = []

    def start(config_path: Path | str) -> MomentumTestClient:
        client = MomentumTestClient(config_path)
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()
