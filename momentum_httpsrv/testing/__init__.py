"""Tools for testing Momentum Lua sites: ``MomentumTestClient`` (requests and console
commands in-process, no sockets), ``serve_process`` (a real ``serve`` process for tests
over HTTP), ``parse_tap`` (Test.More output), the fakes of the outside world
(``FakeDns``, ``FakeHttp``, ``FakeClock``) and real local servers (``LocalDnsServer``,
``LocalHttpServer``, ``postgres_cluster``). The pytest plugin (``pytest_plugin``) is
loaded through its entry point and gives the ``momentum_site`` fixture.

Names load on first use: pytest imports this package for every run, and the client pulls
in the whole server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import MomentumTestClient
    from .fakes import FakeClock, FakeDns, FakeHttp
    from .local_servers import LocalDnsServer, LocalHttpServer, postgres_cluster
    from .process import serve_process
    from .tap import TapPoint, TapReport, parse_tap

_HOMES = {
    "MomentumTestClient": "client",
    "FakeClock": "fakes",
    "FakeDns": "fakes",
    "FakeHttp": "fakes",
    "LocalDnsServer": "local_servers",
    "LocalHttpServer": "local_servers",
    "postgres_cluster": "local_servers",
    "serve_process": "process",
    "TapPoint": "tap",
    "TapReport": "tap",
    "parse_tap": "tap",
}
__all__ = [
    "FakeClock",
    "FakeDns",
    "FakeHttp",
    "LocalDnsServer",
    "LocalHttpServer",
    "MomentumTestClient",
    "TapPoint",
    "TapReport",
    "parse_tap",
    "postgres_cluster",
    "serve_process",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
