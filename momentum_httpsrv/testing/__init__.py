"""Tools for testing Momentum Lua sites: ``MomentumTestClient`` (requests and console
commands in-process, no sockets), ``serve_process`` (a real ``serve`` process for tests
over HTTP) and ``parse_tap`` (Test.More output). The pytest plugin (``pytest_plugin``) is
loaded through its entry point and gives the ``momentum_site`` fixture.

Names load on first use: pytest imports this package for every run, and the client pulls
in the whole server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import MomentumTestClient
    from .process import serve_process
    from .tap import TapPoint, TapReport, parse_tap

_HOMES = {
    "MomentumTestClient": "client",
    "serve_process": "process",
    "TapPoint": "tap",
    "TapReport": "tap",
    "parse_tap": "tap",
}
__all__ = ["MomentumTestClient", "TapPoint", "TapReport", "parse_tap", "serve_process"]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
