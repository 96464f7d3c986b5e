"""A Momentum node as this tool emulates it: the running configuration generation, the
paniclog, the listeners that serve the generation's endpoints, and the console that
reloads and reconfigures it (docs/generations.md#reload).

What a generation is and how one is built lives in ``generation.py``; the Lua environment
its scripts run in, in ``lua_environment.py``; how ``serve`` stops on signals, in
``stop_signals.py``. Their public names are re-exported here, where users import them.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol, TypeVar

from .config import ConfigError, ConfigOption, ConfigScope, load_config
from .console.commands import ConsoleDispatcher, ReconfigureError
from .console.mailqueue import MailQueue
from .console.server import ControlListener
from .generation import (
    Generation,
    GenerationError,
    LuaStateUse,
    build_generation,
    build_generation_off_loop,
    read_configuration,
    resetup_generation,
    retire_generation,
)
from .httpsrv.access_log import AccessLog
from .httpsrv.dispatch import respond_offline
from .httpsrv.listener import HttpListener
from .httpsrv.requests import Request
from .httpsrv.responses import Response
from .lua.lib.policy_data import PolicyData
from .lua.runtime import LuaScriptError
from .lua_environment import LuaEnvironment, LuaLimits, create_lua_environment
from .paniclog import Paniclog, paniclog_path_for
from .reload_watch import reload_on_change
from .stop_signals import stopping_on_signals

__all__ = [
    "Generation",
    "GenerationError",
    "LuaEnvironment",
    "LuaLimits",
    "LuaStateUse",
    "MomentumNode",
    "WorkerLink",
    "build_generation",
    "create_lua_environment",
    "read_configuration",
]

_Changed = TypeVar("_Changed")


class WorkerLink(Protocol):
    """The supervisor's side of a ``serve --workers`` worker, as the worker's node sees it
    (``workers.py``)."""

    shared: dict[str, str]

    async def serve(
        self, run_console: Callable[[str], Awaitable[str]], stop: asyncio.Event
    ) -> None:
        """Report ready, run console lines until ``stop`` is set or the supervisor goes."""


class MomentumNode:
    """The running configuration and what serves it."""

    def __init__(
        self,
        config_path: Path | str,
        echo_log: Callable[[str, str], None] | None = None,
        paniclog_path: Path | None = None,
    ) -> None:
        self.config_path = Path(config_path)
        self._echo_log = echo_log
        self._paniclog_path = paniclog_path  # None: where the configuration says
        self.generation: Generation | None = None
        self.paniclog: Paniclog | None = None
        self.listeners: list = []
        self._generations = 0
        self.mail_queue = MailQueue()  # node-wide: survives reloads
        self.policy_data = PolicyData()  # msys.cidr, audit_series, gauges, counters: too
        self.control_listeners: list[ControlListener] = []
        self._console = ConsoleDispatcher(self)
        self._stop: asyncio.Event | None = None
        self._reconfigure_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    def start(self) -> Generation:
        """Parse the configuration and apply it (ConfigError / GenerationError on failure)."""
        config = load_config(self.config_path)
        self.paniclog = Paniclog(
            self._paniclog_path or paniclog_path_for(config), echo=self._echo_log
        )
        self.policy_data.cidr.warn = self.paniclog.warn
        for warning in config.warnings:
            self.paniclog.warn(str(warning))
        self._generations += 1
        self.generation = build_generation(
            config, self._generations, self.paniclog, self.mail_queue, self.policy_data
        )
        self._connect_console(self.generation)
        return self.generation

    def _connect_console(self, generation: Generation) -> None:
        """The generation runs: its scripts' msys.config goes through this console."""
        if generation.control.msys_config is not None:
            generation.control.msys_config.console = self.run_console

    # -- console and reconfiguration (docs/generations.md#reload) ------------------------------

    async def run_console(self, line: str) -> str:
        """Run one console command line; the same pipeline as the control listener's."""
        if self.generation is None:
            return await self._console.execute(line)
        with self.generation.use:
            return await self._console.execute(line)

    def console(self, line: str) -> str:
        """``run_console`` for synchronous callers (tests, scripts)."""
        return asyncio.run(self.run_console(line))

    async def reload(self, path: Path | str | None = None) -> Generation:
        """``config reload``: build a new generation from the file and swap it in; requests
        already running finish on the old one. The build runs on a worker thread while the
        loop serves the running generation (docs/generations.md#reload). ReconfigureError
        leaves everything as it was; the paniclog and its echo get one line saying why."""
        assert self.generation is not None and self.paniclog is not None, "start() first"
        async with self._reconfiguring():
            try:
                generation = await build_generation_off_loop(
                    Path(path) if path else self.config_path, self._generations + 1,
                    self.paniclog, self.mail_queue, self.policy_data,
                )
            except (ConfigError, GenerationError, LuaScriptError, OSError) as error:
                self.paniclog.error(
                    f"config reload failed: {error}; "
                    f"still serving generation {self.generation.number}"
                )
                raise ReconfigureError(str(error)) from error
            for warning in generation.config.warnings:
                self.paniclog.warn(str(warning))
            self._swap(generation)
            return generation

    def _reconfiguring(self) -> asyncio.Lock:
        """One reload or config change at a time: a reload's build awaits its thread, and
        generation numbers are given in order."""
        loop = asyncio.get_running_loop()
        if self._reconfigure_lock is None or self._reconfigure_lock[0] is not loop:
            self._reconfigure_lock = (loop, asyncio.Lock())
        return self._reconfigure_lock[1]

    async def change_config(
        self,
        change: Callable[[], _Changed],
        scope: ConfigScope,
        name: str,
        previous: ConfigOption | None,
    ) -> _Changed:
        """``config set``/``unset``: apply ``change`` to option ``name`` of ``scope`` in the
        running tree and re-run ``rsrc_setup`` into fresh registries; on failure the option
        is restored (``previous``) and ReconfigureError raised."""
        async with self._reconfiguring():
            assert self.generation is not None and self.paniclog is not None, "start() first"
            try:
                result = change()
            except ConfigError as error:
                raise ReconfigureError(str(error)) from error
            try:
                generation = resetup_generation(
                    self.generation, self._generations + 1, self.paniclog
                )
            except GenerationError as error:
                if previous is None:
                    scope.unset_option(name)
                else:
                    scope.put(previous)
                # the pools took the change before rsrc_setup failed: back to the old tree
                self.generation.lua.msys_async.pools.configure(self.generation.config)
                raise ReconfigureError(str(error)) from error
            self._swap(generation, deinit_old=False)
            return result

    def _swap(self, generation: Generation, deinit_old: bool = True) -> None:
        old = self.generation
        self._connect_console(generation)
        self._generations = generation.number
        self.generation = generation
        if deinit_old and old is not None:
            old.use.retire(lambda: retire_generation(old, self.paniclog))

    def request_shutdown(self) -> None:
        """The console's ``shutdown``: make ``serve`` return (it closes and deinits)."""
        if self._stop is not None:
            self._stop.set()

    async def start_control_listeners(
        self, run_console: Callable[[str], Awaitable[str]] | None = None
    ) -> list[ControlListener]:
        """Bind every enabled ``Control_Listener`` ``Listen`` of the configuration; its
        lines go to ``run_console`` (default: this node's)."""
        assert self.generation is not None, "start() the node first"
        for spec in self.generation.control_listens:
            listener = ControlListener(spec, run_console or self.run_console)
            await listener.start()
            self.control_listeners.append(listener)
        return self.control_listeners

    async def dispatch(self, request: Request, sink) -> None:
        """Serve one request on the generation current when it arrived."""
        pending = self.start_dispatch(request, sink)
        if pending is not None:
            await pending

    def start_dispatch(self, request: Request, sink) -> Coroutine[Any, Any, None] | None:
        """``dispatch`` as far as it goes without waiting (``Dispatcher.start``): None
        when the response is complete, else a coroutine that finishes it; the generation
        counts the request as in flight until then."""
        generation = self.generation
        assert generation is not None, "start() the node first"
        use = generation.use
        with use:
            pending = generation.dispatch.start(request, sink)
            if pending is None:
                return None
            use.__enter__()  # held by the coroutine from here on
        return self._finish_dispatch(use, pending)

    @staticmethod
    async def _finish_dispatch(use: LuaStateUse, pending: Coroutine[Any, Any, None]) -> None:
        try:
            await pending
        finally:
            use.__exit__(None, None, None)

    async def handle(self, request: Request) -> Response:
        """Run one request with no sockets; the same pipeline and HTTP rules as the
        listener's (``respond_offline``)."""
        return await respond_offline(self.start_dispatch, request)

    def call(self, request: Request) -> Response:
        """``handle`` for synchronous callers (the CLI's ``call``)."""
        return asyncio.run(self.handle(request))

    async def start_listeners(
        self,
        http_parser: str = "httptools",
        access_log: AccessLog | None = None,
        shared: dict[str, str] | None = None,
    ) -> list[HttpListener]:
        """Bind every enabled ``HTTP_Listener`` ``Listen`` scope of the configuration;
        ``shared`` maps configured addresses to the concrete ones a worker binds with
        SO_REUSEPORT (``serve --workers``)."""
        assert self.generation is not None, "start() the node first"
        httpsrv_module = self.generation.config.root.scope("httpsrv")
        if httpsrv_module is not None and not httpsrv_module.get_bool("enabled", True):
            return []
        for address, settings in self.generation.http_listens:
            listener = HttpListener(
                address,
                self.start_dispatch,
                dataclasses.replace(settings, parser=http_parser),
                log=self.paniclog.warn if self.paniclog else None,
                access_log=access_log,
                shared_as=None if shared is None else shared[address],
            )
            await listener.start()
            self.listeners.append(listener)
        return self.listeners

    async def serve(
        self,
        announce: Callable[[str], None] = print,
        http_parser: str = "httptools",
        access_log: AccessLog | None = None,
        reload: bool = False,
        worker: WorkerLink | None = None,
    ) -> None:
        """Serve until SIGINT/SIGTERM (or ``shutdown``), then close the listeners.
        ``reload``: rebuild the generation when a file it was made from changes. A
        ``worker`` of ``serve --workers`` binds its link's shared addresses, leaves the
        console to the supervisor, runs the console lines the link brings and stops when
        it closes."""
        stop = self._stop = asyncio.Event()
        with stopping_on_signals(stop) as stopped_by:
            if self.generation is not None:  # timers and jobs made during start-up
                self.generation.lua.msys_async.start()
            watcher = None
            try:
                if worker is not None:
                    await self.start_listeners(http_parser, access_log, worker.shared)
                    await worker.serve(self.run_console, stop)
                    return
                await self.start_listeners(http_parser, access_log)
                await self.start_control_listeners()
                self._announce_listeners(announce)
                if reload:
                    watcher = asyncio.create_task(reload_on_change(self, announce, stop))
                await stop.wait()
                announce(f"shutting down ({stopped_by[0] if stopped_by else 'console shutdown'}"
                         "): closing listeners, then deinit")
            finally:
                if watcher is not None:
                    watcher.cancel()
                await self.close_listeners()

    def _announce_listeners(self, announce: Callable[[str], None]) -> None:
        """One line per bound address (what ``serve`` prints once it listens)."""
        for listener in self.listeners:
            scheme = "http" if listener.settings.ssl_context is None else "https"
            for address in listener.bound_addresses:
                shown = address if isinstance(address, str) else _url_for(scheme, address)
                announce(f"HTTP_Listener {listener.address!r}: listening on {shown}")
        for control in self.control_listeners:
            for address in control.bound_addresses:
                shown = address if isinstance(address, str) else f"{address[0]}:{address[1]}"
                announce(f"Control_Listener {control.address!r}: listening on {shown}")
        if not self.listeners:
            announce(
                "no enabled HTTP_Listener Listen scope: serving the console only"
                if self.control_listeners else
                "no enabled HTTP_Listener or Control_Listener Listen scope: "
                "only the scripts' timers run"
            )

    async def close_listeners(self) -> None:
        for listener in self.listeners:
            await listener.close()
        self.listeners.clear()
        for control in self.control_listeners:
            await control.close()
        self.control_listeners.clear()

    def stop(self) -> None:
        """Run every module's ``deinit`` and close the paniclog."""
        if self.generation is not None:
            retire_generation(self.generation, self.paniclog)
            self.generation = None
        if self.paniclog is not None:
            self.paniclog.close()


def _url_for(scheme: str, address: tuple[str, int]) -> str:
    host, port = address[0], address[1]
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"
