"""pytest plugin.

- The ``momentum_site`` fixture starts a configuration in-process::

      def test_hello(momentum_site):
          client = momentum_site("conf/ecelerity.conf")
          assert client.post("/hello").status == 200

  A relative path is looked up beside the test file, then under pytest's rootdir. The
  paniclog goes to the test's temporary directory unless ``paniclog=`` names a file
  (``paniclog=None``: where the configuration says).
- ``--momentum-cov`` records which lines of every loaded script ran (lua/coverage.py)
  and writes a terminal summary, Cobertura XML and an HTML view
  (``--momentum-cov-dir``, default ``momentum-coverage/`` under the rootdir).

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
    from _pytest._code.code import TerminalRepr, TracebackStyle

    from .client import MomentumTestClient
    from .fakes import FakeClock, FakeDns, FakeHttp


_DEFAULT_PANICLOG = object()  # momentum_site's default: the test's temporary directory


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "momentum_lua_path", "directories added to package.path for test_*.lua files",
        type="paths", default=[],
    )
    group = parser.getgroup("momentum", "Momentum Lua scripts")
    group.addoption("--momentum-cov", action="store_true",
                    help="record Lua line coverage of the scripts the tests load")
    group.addoption("--momentum-cov-dir", metavar="DIR", default=None,
                    help="where coverage.xml (Cobertura) and html/ go "
                         "[default: momentum-coverage under the rootdir]")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("momentum_cov", False):
        from ..lua.coverage import start_line_coverage

        start_line_coverage()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    if not config.getoption("momentum_cov", False):
        return
    from ..lua.coverage import stop_line_coverage
    from .coverage_report import write_reports

    collector = stop_line_coverage()
    if collector is None:
        return
    chosen = config.getoption("momentum_cov_dir")
    directory = Path(chosen) if chosen else config.rootpath / "momentum-coverage"
    terminalreporter.write_sep("-", "Lua line coverage")
    for line in write_reports(collector, directory / "coverage.xml", directory / "html",
                              config.rootpath):
        terminalreporter.write_line(line)


def site_config_path(config_path: Path | str, test_file: Path, rootdir: Path) -> Path:
    """A relative configuration path beside the test file, else under the rootdir;
    pytest.fail with where it looked when neither has it."""
    path = Path(config_path)
    if path.is_absolute():
        return path
    candidates = [test_file.parent / path, rootdir / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    pytest.fail(f"momentum_site: no {path} beside the test file or under the rootdir "
                f"(tried {', '.join(map(str, candidates))})", pytrace=False)


@pytest.fixture
def momentum_site(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., MomentumTestClient]]:
    """A factory of started test clients; every one is closed after the test."""
    from ..config import ConfigError
    from ..generation import GenerationError
    from .client import MomentumTestClient

    clients: list[MomentumTestClient] = []

    def start(config_path: Path | str, paniclog: object = _DEFAULT_PANICLOG) -> MomentumTestClient:
        path = site_config_path(config_path, request.path, request.config.rootpath)
        if paniclog is _DEFAULT_PANICLOG:
            paniclog = tmp_path / f"paniclog-{len(clients) + 1}.ec"
        try:
            client = MomentumTestClient(path, paniclog_path=paniclog)  # type: ignore[arg-type]
        except (ConfigError, GenerationError) as error:
            pytest.fail(f"momentum_site({str(config_path)!r}): {error}", pytrace=False)
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
        from ..lua.coverage import harvest
        from ..lua.errors import script_text
        from ..lua.runtime import LuaScriptError
        from ..lua_environment import create_lua_environment
        from .tap import parse_tap

        output: list[str] = []
        search_path = [self.path.parent, *self.config.getini("momentum_lua_path")]
        state = create_lua_environment(search_path, print_sink=output.append,
                                       warn=output.append).state
        source = self.path.read_bytes().decode("latin-1")
        error = None
        try:
            chunk = state.compile(source, "@" + str(self.path))
            asyncio.run(state.run_in_task(chunk))
        except LuaScriptError as raised:
            error = raised.traceback or raised.message
        finally:
            harvest(state)
        report = parse_tap("\n".join(output))
        problems = report.problems() + ([f"Lua error: {error}"] if error else [])
        if problems:
            raise LuaTapFailure(script_text("\n".join([*problems, "--- output ---", *output])))
        if report.skip_all is not None:
            pytest.skip(report.skip_all or "skip_all")

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: TracebackStyle | None = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, LuaTapFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, None, str]:
        return self.path, None, f"lua: {self.name}"
