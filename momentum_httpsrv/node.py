"""A Momentum node as this tool emulates it: the running configuration generation, the
paniclog, and the listeners that serve the generation's endpoints.

A generation is everything one applied configuration owns: the config tree, a fresh Lua
state with every script loaded, and the endpoint registry that the modules' ``init`` and
``rsrc_setup`` callouts filled (docs/generations.md#what-a-generation-owns).
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol, TypeVar

from .config import (
    ConfigError,
    ConfigOption,
    ConfigScope,
    Configuration,
    ConfigValueError,
    load_config,
)
from .console.commands import ConsoleDispatcher, ReconfigureError
from .console.control import LuaControlBinding
from .console.mailqueue import MailQueue
from .console.registry import ControlRegistry
from .console.server import ControlListener, ControlListenSpec, control_listen_specs
from .httpsrv.access_log import AccessLog
from .httpsrv.auth import AccessControl
from .httpsrv.dispatch import Dispatcher, respond_offline
from .httpsrv.listener import HttpListener, ListenerSettings
from .httpsrv.lua_binding import LuaHttpsrvBinding
from .httpsrv.requests import Request
from .httpsrv.responses import Response
from .httpsrv.routing import EndpointRegistry
from .listener_config import http_listens
from .lua import coverage
from .lua.hooks import DEFAULT_CPU_LIMIT, clear_interrupt, interrupt_lua_work
from .lua.lib.policy_data import PolicyData
from .lua.msys_core import BindingTable
from .lua.runtime import DEFAULT_MAX_MEMORY, LuaScriptError, LuaState, script_search_path
from .lua.scriptlet import ScriptSource, load_scripts, read_scripts
from .paniclog import Paniclog, paniclog_path_for
from .reload_watch import reload_on_change

_Changed = TypeVar("_Changed")

class WorkerLink(Protocol):
    """The supervisor's side of a ``serve --workers`` worker, as the worker's node sees it
    (``workers.py``)."""

    shared: dict[str, str]

    async def serve(
        self, run_console: Callable[[str], Awaitable[str]], stop: asyncio.Event
    ) -> None:
        """Report ready, run console lines until ``stop`` is set or the supervisor goes."""


class GenerationError(Exception):
    """A configuration could not be applied; the message says why."""


class LuaEnvironment(NamedTuple):
    """A Lua state as every script sees it, and the bindings that installed its APIs."""

    state: LuaState
    httpsrv: LuaHttpsrvBinding
    control: LuaControlBinding


def create_lua_environment(
    search_path: list[Path],
    print_sink: Callable[[str], None],
    warn: Callable[[str], None],
    gc_pause: int = 100,
    gc_stepmul: int = 400,
    mail_queue: MailQueue | None = None,
    policy_data: PolicyData | None = None,
    config: Configuration | None = None,
    limits: LuaLimits | None = None,
) -> LuaEnvironment:
    """A Lua state with everything Momentum scripts may use (msys.*, json, httpsrv,
    registerControl…): the one environment of loaded scripts, `lua` and Lua tests.
    ``mail_queue`` and ``policy_data`` are the node's, which outlive its generations;
    without a ``config``, what needs one (msys.config, binding look-ups) says so."""
    limits = limits or LuaLimits()
    state = LuaState(
        search_path, print_sink=print_sink, warn=warn, gc_pause=gc_pause,
        gc_stepmul=gc_stepmul, policy_data=policy_data,
        cpu_limit=limits.cpu_seconds, max_memory=limits.memory_bytes,
    )
    httpsrv = LuaHttpsrvBinding(state)
    control = LuaControlBinding(state, mail_queue or MailQueue(), config)
    if config is None:
        state.api.needs_configuration("config")
    else:
        state.bindings = BindingTable.from_config(config.root)
    return LuaEnvironment(state, httpsrv, control)


@dataclass(frozen=True)
class LuaLimits:
    """How long Lua may run without yielding and how much memory a state may hold:
    ``scriptlet { CPU_Time_Limit = seconds; Memory_Limit = megabytes }``, 0 for none."""

    cpu_seconds: float = DEFAULT_CPU_LIMIT
    memory_bytes: int = DEFAULT_MAX_MEMORY

    @classmethod
    def from_config(cls, scriptlet: ConfigScope | None) -> LuaLimits:
        if scriptlet is None:
            return cls()
        values = []
        for name, convert, default in (
            ("cpu_time_limit", "as_float", DEFAULT_CPU_LIMIT),
            ("memory_limit", "as_int", DEFAULT_MAX_MEMORY // 2**20),
        ):
            option = scriptlet.option(name)
            value = default if option is None else getattr(option, convert)()
            if option is not None and value < 0:
                raise ConfigValueError(option.location, f"{option.name} must be 0 or more")
            values.append(value)
        return cls(cpu_seconds=values[0], memory_bytes=int(values[1]) * 2**20)


def access_control(
    config: Configuration, httpsrv: LuaHttpsrvBinding, paniclog: Paniclog
) -> AccessControl:
    """The generation's IP ACL and authentication over its config tree
    (docs/request-lifecycle.md#access-control-and-authentication)."""
    return AccessControl(
        config.root, httpsrv.auth_registry, paniclog.error, config.directory,
        schemes=httpsrv.auth_schemes,
    )


@dataclass
class Generation:
    number: int
    config: Configuration
    lua: LuaState
    httpsrv: LuaHttpsrvBinding
    dispatch: Dispatcher
    control: LuaControlBinding
    scripts: list = field(default_factory=list)
    http_listens: list[tuple[str, ListenerSettings]] = field(default_factory=list)
    control_listens: list[ControlListenSpec] = field(default_factory=list)
    use: LuaStateUse = field(default_factory=lambda: LuaStateUse())


@dataclass
class LuaStateUse:
    """What runs on one Lua state: the requests and console commands not yet finished
    (each one is a ``with use:`` block). A state retired by a reload runs its ``deinit``
    once, when the last of them ends. Generations that ``config set`` makes on the same
    state share their predecessor's."""

    in_flight: int = 0
    _deinit_when_idle: Callable[[], None] | None = None

    def __enter__(self) -> None:
        self.in_flight += 1

    def __exit__(self, *exc_info: object) -> None:
        self.in_flight -= 1
        self._deinit_if_idle()

    def retire(self, deinit: Callable[[], None]) -> None:
        self._deinit_when_idle = deinit
        self._deinit_if_idle()

    def _deinit_if_idle(self) -> None:
        if self.in_flight == 0 and self._deinit_when_idle is not None:
            deinit, self._deinit_when_idle = self._deinit_when_idle, None
            deinit()


def read_configuration(path: Path) -> tuple[Configuration, list[ScriptSource]]:
    """Parse a configuration and read its scripts: only file work (a reload runs it in a
    thread, off the event loop). ConfigError, LuaScriptError or OSError."""
    config = load_config(path)
    return config, read_scripts(config, script_search_path(list(config.search_path)))


def build_generation(
    config: Configuration,
    number: int,
    paniclog: Paniclog,
    mail_queue: MailQueue | None = None,
    policy_data: PolicyData | None = None,
    sources: list[ScriptSource] | None = None,
) -> Generation:
    """Load scripts (``sources``: read beforehand), run ``init`` then ``rsrc_setup``;
    raise GenerationError on failure (ConfigError for listener options or addresses
    that cannot be used)."""
    listens, control_listens = http_listens(config), control_listen_specs(config)
    scriptlet = config.root.scope("scriptlet")
    state, binding, control = create_lua_environment(
        list(config.search_path),
        print_sink=paniclog.write,
        warn=paniclog.warn,
        gc_pause=scriptlet.get_int("gc_pause", 100) if scriptlet else 100,
        gc_stepmul=scriptlet.get_int("gc_stepmul", 400) if scriptlet else 400,
        mail_queue=mail_queue,
        policy_data=policy_data,
        config=config,
        limits=LuaLimits.from_config(scriptlet),
    )
    try:
        state.msys_async.pools.configure(config)  # threadpool stanzas
        for warning in state.datasources.configure(
            config.root.scopes("Datasource"), config.directory
        ):
            paniclog.warn(warning)
        try:
            scripts = load_scripts(state, config, sources)
        except LuaScriptError as error:
            paniclog.error(error.message, error.traceback)
            raise GenerationError(error.message) from error
        for hook in ("init", "rsrc_setup"):
            run_hook(state, hook, paniclog)
        access = access_control(config, binding, paniclog)
    except BaseException:
        state.msys_async.close()  # timers and jobs its scripts made end with the failure
        state.datasources.close()
        coverage.harvest(state)
        raise
    dispatch = Dispatcher(binding.registry, paniclog.error, access)
    return Generation(
        number, config, state, binding, dispatch, control, scripts,
        http_listens=listens, control_listens=control_listens,
    )


def run_hook(state: LuaState, hook: str, paniclog: Paniclog) -> None:
    """Call ``hook`` on every module; GenerationError if one fails (or ``init`` is not true)."""
    for result in state.call_hook(hook):
        if not result.ok:
            paniclog.error(str(result.value), result.traceback)
            raise GenerationError(str(result.value))
        if result.value is not True:
            message = f"module '{result.module}' {hook} did not return true"
            if hook == "init":
                paniclog.error(message)
                raise GenerationError(message)
            paniclog.warn(message)


def resetup_generation(generation: Generation, number: int, paniclog: Paniclog) -> Generation:
    """A generation on the same scripts and Lua state with fresh registries that every
    ``rsrc_setup`` filled again (``config set``/``unset``; docs/generations.md). On failure
    the old generation's registries are put back and GenerationError raised."""
    httpsrv, control, state = generation.httpsrv, generation.control, generation.lua
    old = httpsrv.registry, httpsrv.auth_registry, control.registry
    httpsrv.registry = EndpointRegistry(warn=state.warn)
    httpsrv.auth_registry = EndpointRegistry(warn=state.warn)
    control.registry = ControlRegistry(warn=state.warn)
    try:
        try:
            state.msys_async.pools.configure(generation.config)  # Concurrency changes
        except ConfigError as error:
            raise GenerationError(str(error)) from error
        run_hook(state, "rsrc_setup", paniclog)
    except GenerationError:
        httpsrv.registry, httpsrv.auth_registry, control.registry = old
        raise
    access = access_control(generation.config, httpsrv, paniclog)
    dispatch = Dispatcher(httpsrv.registry, paniclog.error, access)
    return Generation(
        number, generation.config, state, httpsrv, dispatch, control, generation.scripts,
        http_listens=generation.http_listens, control_listens=generation.control_listens,
        use=generation.use,
    )


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
        already running finish on the old one. ReconfigureError leaves everything as it was."""
        assert self.generation is not None and self.paniclog is not None, "start() first"
        try:
            # Files are read in a thread: a slow disk or a FIFO never holds up the loop.
            config, sources = await asyncio.to_thread(
                read_configuration, Path(path) if path else self.config_path
            )
            generation = build_generation(
                config, self._generations + 1, self.paniclog, self.mail_queue, self.policy_data,
                sources,
            )
        except (ConfigError, GenerationError, LuaScriptError, OSError) as error:
            self.paniclog.error(f"config reload failed: {error}")
            raise ReconfigureError(str(error)) from error
        for warning in config.warnings:
            self.paniclog.warn(str(warning))
        self._swap(generation)
        return generation

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
            old.use.retire(lambda: self._deinit(old))

    def _deinit(self, generation: Generation) -> None:
        """``deinit`` of a generation nothing runs on any more (its last request done)."""
        for result in generation.lua.call_hook("deinit"):
            if not result.ok and self.paniclog is not None:
                self.paniclog.error(str(result.value), result.traceback)
        generation.lua.msys_async.close()  # its timers and jobs end with it
        generation.lua.datasources.close()
        coverage.harvest(generation.lua)

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
        generation = self.generation
        assert generation is not None, "start() the node first"
        with generation.use:
            await generation.dispatch(request, sink)

    async def handle(self, request: Request) -> Response:
        """Run one request with no sockets; the same pipeline and HTTP rules as the
        listener's (``respond_offline``)."""
        return await respond_offline(self.dispatch, request)

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
                self.dispatch,
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
        loop = asyncio.get_running_loop()
        stopped_by: list[str] = []

        def on_signal(signum: int, frame: object) -> None:
            # A Python-level handler (not loop.add_signal_handler): it also runs while Lua
            # spins on the loop (the Lua hook polls Python) and ends that Lua work.
            stopped_by.append(signal.Signals(signum).name)
            interrupt_lua_work(f"interrupted: the server is stopping ({signal.strsignal(signum)})")
            loop.call_soon_threadsafe(stop.set)

        previous = {signum: signal.signal(signum, on_signal)
                    for signum in (signal.SIGINT, signal.SIGTERM)}
        if self.generation is not None:  # timers and jobs made during start-up
            self.generation.lua.msys_async.start()
        watcher = None
        try:
            if worker is not None:
                await self.start_listeners(http_parser, access_log, worker.shared)
                await worker.serve(self.run_console, stop)
                return
            for listener in await self.start_listeners(http_parser, access_log):
                scheme = "http" if listener.settings.ssl_context is None else "https"
                for address in listener.bound_addresses:
                    shown = address if isinstance(address, str) else _url_for(scheme, address)
                    announce(f"HTTP_Listener {listener.address!r}: listening on {shown}")
            for control in await self.start_control_listeners():
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
            if reload:
                watcher = asyncio.create_task(reload_on_change(self, announce, stop))
            await stop.wait()
            announce(f"shutting down ({stopped_by[0] if stopped_by else 'console shutdown'}): "
                     "closing listeners, then deinit")
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            clear_interrupt()
            if watcher is not None:
                watcher.cancel()
            await self.close_listeners()

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
            self._deinit(self.generation)
            self.generation = None
        if self.paniclog is not None:
            self.paniclog.close()


def _url_for(scheme: str, address: tuple[str, int]) -> str:
    host, port = address[0], address[1]
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"
