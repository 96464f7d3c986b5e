"""Configuration generations: building one from a configuration (config → Lua state →
scripts → ``init`` → ``rsrc_setup``), building the next one off the event loop for a
reload, re-running ``rsrc_setup`` for ``config set``, and retiring one when nothing runs
on it any more (docs/generations.md).

A generation is everything one applied configuration owns: the config tree, a fresh Lua
state with every script loaded, and the endpoint registry that the modules' ``init`` and
``rsrc_setup`` callouts filled (docs/generations.md#what-a-generation-owns).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .config import ConfigError, Configuration, load_config
from .console.control import LuaControlBinding
from .console.mailqueue import MailQueue
from .console.registry import ControlRegistry
from .console.server import ControlListenSpec, control_listen_specs
from .httpsrv.auth import AccessControl
from .httpsrv.dispatch import Dispatcher
from .httpsrv.listener import ListenerSettings
from .httpsrv.lua_binding import LuaHttpsrvBinding
from .httpsrv.routing import EndpointRegistry
from .listener_config import http_listens
from .lua import coverage
from .lua.lib.policy_data import PolicyData
from .lua.runtime import LuaScriptError, LuaState, script_search_path
from .lua.scriptlet import ScriptSource, ScriptSpec, load_scripts, read_scripts
from .lua_environment import LuaLimits, create_lua_environment
from .paniclog import Paniclog


class GenerationError(Exception):
    """A configuration could not be applied; the message says why."""


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


@dataclass
class Generation:
    number: int
    config: Configuration
    lua: LuaState
    httpsrv: LuaHttpsrvBinding
    dispatch: Dispatcher
    control: LuaControlBinding
    scripts: list[ScriptSpec] = field(default_factory=list)
    http_listens: list[tuple[str, ListenerSettings]] = field(default_factory=list)
    control_listens: list[ControlListenSpec] = field(default_factory=list)
    use: LuaStateUse = field(default_factory=LuaStateUse)


def access_control(
    config: Configuration, httpsrv: LuaHttpsrvBinding, paniclog: Paniclog
) -> AccessControl:
    """The generation's IP ACL and authentication over its config tree
    (docs/request-lifecycle.md#access-control-and-authentication)."""
    return AccessControl(
        config.root, httpsrv.auth_registry, paniclog.error, config.directory,
        schemes=httpsrv.auth_schemes,
    )


def read_configuration(path: Path) -> tuple[Configuration, list[ScriptSource]]:
    """Parse a configuration and read its scripts: only file work. ConfigError,
    LuaScriptError or OSError."""
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
        _release(state)  # timers and jobs its scripts made end with the failure
        raise
    dispatch = Dispatcher(binding.registry, paniclog.error, access)
    return Generation(
        number, config, state, binding, dispatch, control, scripts,
        http_listens=listens, control_listens=control_listens,
    )


async def build_generation_off_loop(
    path: Path,
    number: int,
    paniclog: Paniclog,
    mail_queue: MailQueue,
    policy_data: PolicyData,
) -> Generation:
    """Read ``path`` and build generation ``number`` on a worker thread, so the event loop
    serves the running generation meanwhile (docs/generations.md#reload). The new Lua
    state is touched by that thread only until this returns; its timers and jobs start on
    the loop here. Errors the build logs are kept off the terminal echo: the caller reports
    the failure in one line. If the caller is cancelled, the generation built anyway is
    retired. GenerationError, ConfigError, LuaScriptError or OSError."""
    handover = _Handover()

    def build() -> Generation:
        with paniclog.holding_error_echo():
            config, sources = read_configuration(path)
            generation = build_generation(
                config, number, paniclog, mail_queue, policy_data, sources
            )
        if not handover.give(generation):
            retire_generation(generation, paniclog)
        return generation

    try:
        generation = await asyncio.to_thread(build)
    except asyncio.CancelledError:
        abandoned = handover.abandon()
        if abandoned is not None:
            retire_generation(abandoned, paniclog)
        raise
    generation.lua.msys_async.start()  # what top level, init and rsrc_setup scheduled
    return generation


class _Handover:
    """A generation passing from the building thread to the loop, or, when the waiting
    caller went away first, back to the thread to be retired: exactly one side owns it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._abandoned = False
        self._given: Generation | None = None

    def give(self, generation: Generation) -> bool:
        """The thread's side: False if nobody waits for it any more."""
        with self._lock:
            self._given = None if self._abandoned else generation
            return not self._abandoned

    def abandon(self) -> Generation | None:
        """The loop's side, cancelled: the generation already given, if any."""
        with self._lock:
            self._abandoned = True
            given, self._given = self._given, None
            return given


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


def retire_generation(generation: Generation, paniclog: Paniclog | None) -> None:
    """Run the ``deinit`` of a generation nothing runs on any more (its last request
    done), then end its timers, jobs and datasources."""
    for result in generation.lua.call_hook("deinit"):
        if not result.ok and paniclog is not None:
            paniclog.error(str(result.value), result.traceback)
    _release(generation.lua)


def _release(state: LuaState) -> None:
    state.msys_async.close()  # its timers and jobs end with it
    state.datasources.close()
    coverage.harvest(state)
