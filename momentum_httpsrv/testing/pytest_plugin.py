"""pytest plugin.

- The ``momentum_site`` fixture starts a configuration in-process::

      def test_hello(momentum_site):
          client = momentum_site("conf/ecelerity.conf")
          assert client.post("/hello").status == 200

- Lua test files named ``test_*.lua`` are collected and run in the Momentum Lua
  environment; they pass when their TAP (from ``require("Test.More")``) has a plan, every
  point is ``ok`` and the script ends without an error. ``require`` finds modules next to
  the test file and in the directories of the ``momentum_lua_path`` ini option.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported on use: pytest loads this plugin for every run
    from .client import MomentumTestClient
    from .fakes import FakeClock, FakeDns, FakeHttp


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "momentum_lua_path", "directories added to package.path for test_*.lua files",
        type="paths", default=[],
    )


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


@pytest.fixture
def momentum_dns() -> Iterator[FakeDns]:
    """``msys.dnsLookup`` answers from the records the test adds, NXDOMAIN otherwise."""
    from .fakes import FakeDns

    with FakeDns() as fake:
        yield fake


@pytest.fixture
def momentum_http() -> Iterator[FakeHttp]:
    """``msys.http.client`` gets canned responses; anything unregistered is refused."""
    from .fakes import FakeHttp

    with FakeHttp() as fake:
        yield fake


@pytest.fixture
def momentum_clock() -> Iterator[FakeClock]:
    """``msys.sleep``, ``msys.timer`` and ``get_now_ts`` on a clock the test moves."""
    from .fakes import FakeClock

    with FakeClock() as fake:
        yield fake


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".lua" and file_path.name.startswith("test_"):
        return LuaTapFile.from_parent(parent, path=file_path)
    return None


class LuaTapFile(pytest.File):
    def collect(self) -> Iterator[LuaTapItem]:
        yield LuaTapItem.from_parent(self, name=self.path.name)


class LuaTapFailure(Exception):
    """A Lua test file whose TAP says it failed."""


class LuaTapItem(pytest.Item):
    """One Lua test file: one pytest test (its TAP points are reported on failure)."""

    def runtest(self) -> None:
        from ..lua.runtime import LuaScriptError
        from ..node import create_lua_environment
        from .tap import parse_tap

        output: list[str] = []
        search_path = [self.path.parent, *self.config.getini("momentum_lua_path")]
        state, _ = create_lua_environment(search_path, print_sink=output.append,
                                          warn=output.append)
        source = self.path.read_bytes().decode("latin-1")
        error = None
        try:
            chunk = state.compile(source, "@" + str(self.path))
            asyncio.run(state.run_in_task(chunk))
        except LuaScriptError as raised:
            error = raised.traceback or raised.message
        report = parse_tap("\n".join(output))
        problems = report.problems() + ([f"Lua error: {error}"] if error else [])
        if problems:
            raise LuaTapFailure("\n".join([*problems, "--- output ---", *output]))
        if report.skip_all is not None:
            pytest.skip(report.skip_all or "skip_all")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        if isinstance(excinfo.value, LuaTapFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, None, str]:
        return self.path, None, f"lua: {self.name}"
