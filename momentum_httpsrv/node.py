"""A Momentum node as this tool emulates it: the running configuration generation, the
paniclog, and the listeners that serve the generation's endpoints.

A generation is everything one applied configuration owns: the config tree, a fresh Lua
state with every script loaded, and the endpoint registry that the modules' ``init`` and
``rsrc_setup`` callouts filled (httpsrv.md §4.3, lua-runtime.md §1.6).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .config import ConfigScope, Configuration, load_config
from .httpsrv.dispatch import Dispatcher
from .httpsrv.listener import HttpListener, ListenerSettings
from .httpsrv.lua_binding import LuaHttpsrvBinding
from .httpsrv.requests import Request
from .httpsrv.responses import CollectingSink, Response
from .lua.runtime import LuaScriptError, LuaState
from .lua.scriptlet import load_scripts
from .paniclog import Paniclog


class GenerationError(Exception):
    """A configuration could not be applied; the message says why."""


def create_lua_environment(
    search_path: list[Path],
    print_sink: Callable[[str], None],
    warn: Callable[[str], None],
    gc_pause: int = 100,
    gc_stepmul: int = 400,
) -> tuple[LuaState, LuaHttpsrvBinding]:
    """A Lua state with everything Momentum scripts may use (msys.*, json, httpsrv…)."""
    state = LuaState(
        search_path, print_sink=print_sink, warn=warn, gc_pause=gc_pause, gc_stepmul=gc_stepmul
    )
    return state, LuaHttpsrvBinding(state)


@dataclass
class Generation:
    number: int
    config: Configuration
    lua: LuaState
    httpsrv: LuaHttpsrvBinding
    dispatch: Dispatcher
    scripts: list = field(default_factory=list)


def paniclog_path_for(config: Configuration) -> Path:
    """``ec_logger { paniclog = "…" }`` if it names a writable place, else beside the
    configuration (a production path such as /var/log/ecelerity may not exist here)."""
    for logger in config.root.scopes("ec_logger"):
        target = logger.get_str("paniclog", None)
        if not target:
            continue
        target = target.split("=>", 1)[0]
        for scheme in ("cluster://", "file://"):
            if target.startswith(scheme):
                target = target[len(scheme) :]
        path = Path(target)
        if not path.is_absolute():
            path = config.directory / path
        if path.parent.is_dir():
            return path
    return config.directory / "paniclog.ec"


def build_generation(config: Configuration, number: int, paniclog: Paniclog) -> Generation:
    """Load scripts, run ``init`` then ``rsrc_setup``; raise GenerationError on failure."""
    scriptlet = config.root.scope("scriptlet")
    state, binding = create_lua_environment(
        list(config.search_path),
        print_sink=paniclog.write,
        warn=paniclog.warn,
        gc_pause=scriptlet.get_int("gc_pause", 100) if scriptlet else 100,
        gc_stepmul=scriptlet.get_int("gc_stepmul", 400) if scriptlet else 400,
    )
    try:
        scripts = load_scripts(state, config)
    except LuaScriptError as error:
        paniclog.error(error.message, error.traceback)
        raise GenerationError(error.message) from error
    for hook in ("init", "rsrc_setup"):
        for result in state.call_hook(hook):
            if not result.ok:
                paniclog.error(str(result.value), result.traceback)
                raise GenerationError(str(result.value))
            if result.value is not True:
                message = f"scriptlet: module '{result.module}' {hook} did not return true"
                if hook == "init":
                    raise GenerationError(message)
                paniclog.warn(message)
    dispatch = Dispatcher(binding.registry, paniclog.error)
    return Generation(number, config, state, binding, dispatch, scripts)


class MomentumNode:
    """The running configuration and what serves it."""

    def __init__(
        self, config_path: Path | str, echo_log: Callable[[str, str], None] | None = None
    ) -> None:
        self.config_path = Path(config_path)
        self._echo_log = echo_log
        self.generation: Generation | None = None
        self.paniclog: Paniclog | None = None
        self.listeners: list = []
        self._generations = 0

    def start(self) -> Generation:
        """Parse the configuration and apply it (ConfigError / GenerationError on failure)."""
        config = load_config(self.config_path)
        self.paniclog = Paniclog(paniclog_path_for(config), echo=self._echo_log)
        for warning in config.warnings:
            self.paniclog.warn(str(warning))
        self._generations += 1
        self.generation = build_generation(config, self._generations, self.paniclog)
        return self.generation

    async def dispatch(self, request: Request, sink) -> None:
        """Serve one request on the generation current when it arrived."""
        generation = self.generation
        assert generation is not None, "start() the node first"
        await generation.dispatch(request, sink)

    async def handle(self, request: Request) -> Response:
        """Run one request with no sockets; the same pipeline as the listener's."""
        sink = CollectingSink()
        await self.dispatch(request, sink)
        assert sink.response is not None
        return sink.response

    def call(self, request: Request) -> Response:
        """``handle`` for synchronous callers (the CLI's ``call``)."""
        return asyncio.run(self.handle(request))

    async def start_listeners(self) -> list[HttpListener]:
        """Bind every enabled ``HTTP_Listener`` ``Listen`` scope of the configuration."""
        assert self.generation is not None, "start() the node first"
        root = self.generation.config.root
        httpsrv_module = root.scope("httpsrv")
        if httpsrv_module is not None and not httpsrv_module.get_bool("enabled", True):
            return []
        for http_listener in root.scopes("HTTP_Listener"):
            if not http_listener.get_bool("enable", True):
                continue
            for listen in http_listener.scopes("Listen"):
                if not listen.get_bool("enable", True):
                    continue
                listener = HttpListener(
                    listen.name or "",
                    self.dispatch,
                    listener_settings(http_listener, listen),
                    log=self.paniclog.warn if self.paniclog else None,
                )
                await listener.start()
                self.listeners.append(listener)
        return self.listeners

    async def serve(self, announce: Callable[[str], None] = print) -> None:
        """Serve until SIGINT/SIGTERM, then close the listeners."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            for listener in await self.start_listeners():
                for address in listener.bound_addresses:
                    shown = address if isinstance(address, str) else _url_for(address)
                    announce(f"HTTP_Listener {listener.address!r}: listening on {shown}")
            if not self.listeners:
                announce("no enabled HTTP_Listener Listen scope; nothing to serve")
            await stop.wait()
        finally:
            await self.close_listeners()

    async def close_listeners(self) -> None:
        for listener in self.listeners:
            await listener.close()
        self.listeners.clear()

    def stop(self) -> None:
        """Run every module's ``deinit`` and close the paniclog."""
        if self.generation is not None:
            for result in self.generation.lua.call_hook("deinit"):
                if not result.ok and self.paniclog is not None:
                    self.paniclog.error(str(result.value), result.traceback)
            self.generation = None
        if self.paniclog is not None:
            self.paniclog.close()


def _url_for(address: tuple[str, int]) -> str:
    host, port = address[0], address[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def listener_settings(http_listener: ConfigScope, listen: ConfigScope) -> ListenerSettings:
    """Options of a Listen scope, falling back to its HTTP_Listener (httpsrv.md §5.5)."""

    def option(name: str, getter: str, default: object) -> object:
        for scope in (listen, http_listener):
            if scope.option(name) is not None:
                return getattr(scope, getter)(name)
        return default

    return ListenerSettings(
        max_request_size=option("max_request_size", "get_int", None),
        idle_time=option("idle_time", "get_float", 0),
        disable_chunked=option("disable_chunked", "get_bool", False),
        listen_backlog=option("listen_backlog", "get_int", 500),
        file_mode=option("file_mode", "get_int", 0o660),
    )
