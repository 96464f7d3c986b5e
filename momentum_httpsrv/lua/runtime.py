"""One Momentum Lua state: lupa's Lua 5.1 with the thrLua translator in front, the
``msys`` namespace, Momentum's ``print`` routing and module hooks.

All scripts of a configuration generation share one state, as they share one global
state in Momentum (docs/generations.md#building-one).

The lupa rule every binding follows (lupa 2.8 binds each Lua object to the ``lua_State``
it was created in, a coroutine's included, and reads the main state's stack wrongly while
a coroutine runs on it):

* A host function (Python called from Lua) uses its Lua arguments only during the call
  (indexing or calling them then is fine: they belong to the running coroutine) and does
  not read main-state objects kept from set-up (``api.*`` tables, module tables): reading
  one while a coroutine runs was seen to return wrong values (a ``(thread, value)`` tuple
  for a field). Two main-state uses are known to work there and are allowed: creating
  tables with ``table_from`` and running a library opener on first ``require``.
* What must outlive a host call — stream readers, pool jobs, timer callbacks, handler
  functions and closures — stays in a Lua table keyed by an integer id; Python keeps the
  id and later calls a trampoline of the main state (``api.*`` tables made when the state
  was set up), from Python code that is not itself inside a host call (the task runner,
  session completion, loop callbacks). ``boundary.py`` owns the id tables, their
  retirement and the check that a trampoline is not called inside a host call.
* Values a task yields or returns reach Python as results of a main-state call; they may
  be passed back into the state (``run_in_task``) but are not stored.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import traceback
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lupa import lua51

from . import coverage, dialect
from .boundary import BOUNDARY_LUA, LuaBoundary
from .chunknames import package_chunkname
from .datasource import Datasources
from .errors import LuaScriptError, trim_traceback
from .hooks import DEFAULT_CPU_LIMIT, hooks_host, trusted_chunk_prefix
from .lib import LIBRARY_OPENERS
from .lib.policy_data import PolicyData
from .msys_async import MsysAsync
from .msys_core import (
    CORE_CONSTANTS,
    CORE_HOST_FUNCTIONS,
    CORE_STRING_CONSTANTS,
    BindingTable,
)
from .msys_dns import dns_lookup_service
from .msys_http import http_request_service
from .oslib import PipedChildren, set_environment_variable
from .outside import WORLD, run_blocking
from .shipped import SHIPPED_LUA_DIR
from .thread_library import install_thread_library

PACKAGE_DIR = Path(__file__).resolve().parent


# Lua's collector as Momentum documents it (scriptlet { gc_pause, gc_stepmul }). Task
# coroutines are reused (prelude.lua), so a plain request allocates little and the heap
# of a one-endpoint site stays under 1 MB over 100,000 requests at these settings.
DEFAULT_GC_PAUSE = 200
DEFAULT_GC_STEPMUL = 200
DEFAULT_MAX_MEMORY = 1024 * 1024 * 1024  # bytes per Lua state; scriptlet { Memory_Limit }
MEMORY_ERROR = "not enough memory"  # Lua's message when an allocation fails

PrintSink = Callable[[str], None]
# A service answers what a task yielded (``coroutine.yield(kind, args…)``); its result
# is what the task resumes with.
YieldService = Callable[..., Coroutine[Any, Any, tuple]]


@dataclass(frozen=True)
class HookResult:
    """What one module's callout returned (``value``) or raised (``ok`` False)."""

    module: str
    ok: bool
    value: object
    traceback: str | None


def lua_type_name(value: object) -> str:
    """The name Lua's ``type()`` gives a value that crossed into Python."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return lua51.lua_type(value) or "userdata"


def as_tuple(result: object) -> tuple:
    """lupa returns one Lua result bare and several as a tuple; always give a tuple."""
    return result if isinstance(result, tuple) else (result,)


def script_search_path(directories: Sequence[Path]) -> list[Path]:
    """Where a state finds scripts and modules: ``directories``, then what we ship."""
    return [Path(p) for p in directories] + [SHIPPED_LUA_DIR]


def lua_path_for(directories: Sequence[Path]) -> str:
    """``package.path`` for a directory list: ``dir/?.lua;dir/?/init.lua`` each."""
    return ";".join(f"{d}/?.lua;{d}/?/init.lua" for d in directories)


class LuaState:
    """A Lua 5.1 interpreter set up as Momentum's scriptlet environment."""

    def __init__(
        self,
        search_path: Sequence[Path] = (),
        *,
        print_sink: PrintSink | None = None,
        warn: Callable[[str], None] | None = None,
        gc_pause: int = DEFAULT_GC_PAUSE,
        gc_stepmul: int = DEFAULT_GC_STEPMUL,
        policy_data: PolicyData | None = None,
        cpu_limit: float = DEFAULT_CPU_LIMIT,
        max_memory: int = DEFAULT_MAX_MEMORY,
    ) -> None:
        """``cpu_limit``: CPU seconds one entry into the state may run without yielding
        (hooks.py); ``max_memory``: bytes the state may allocate (0: no limit), past which
        the allocating work fails with Lua's "not enough memory"."""
        self.lua = lua51.LuaRuntime(
            encoding="latin-1",
            unpack_returned_tuples=True,
            register_eval=False,
            register_builtins=False,
            max_memory=max_memory or None,
            attribute_filter=_no_python_attributes,
        )
        self._print_sink: PrintSink = print_sink or (lambda text: None)
        self.warn = warn or (lambda message: None)
        globals_ = self.lua.globals()
        globals_.python = None  # lupa's bridge is not part of Momentum's Lua
        self._plain_loadstring = globals_.loadstring  # before the prelude wraps it
        install = getattr(dialect, "install_dialect_runtime", None)
        if install is not None:
            install(self.lua)
        self.search_path = script_search_path(search_path)
        globals_.package.path = lua_path_for(self.search_path)
        globals_.collectgarbage("setpause", gc_pause)
        globals_.collectgarbage("setstepmul", gc_stepmul)
        self.boundary = LuaBoundary(self.lua, self.run_package_lua(BOUNDARY_LUA))
        self._piped_children = PipedChildren()
        # The files of every "@file" chunk loaded (scripts, required modules), in order.
        self.loaded_files: list[Path] = []
        self.hooks = self.run_package_lua(
            PACKAGE_DIR / "hooks.lua", hooks_host(self.lua, self.warn)
        )
        self.hooks.set_limit(float(cpu_limit))
        host = self.boundary.host_table(
            {
                "translate": dialect.translate_for_loader,
                "print": self._print,
                "warn": self.warn,
                "setenv": set_environment_variable,
                "popen_start": self._piped_children.start,
                "popen_opened": self._piped_children.opened,
                "popen_wait": self._piped_children.wait,
                "file_loaded": self._file_loaded,
                "syntax_error": dialect.readable_syntax_error,
                "hooks": self.hooks,
                "trusted_prefix": trusted_chunk_prefix(),
            }
        )
        self._task_ids = itertools.count(1)
        self.yield_services: dict[str, YieldService] = {"sleep": _sleep_service}
        self.api: Any = self.run_package_lua(PACKAGE_DIR / "prelude.lua", host)
        self._resume_task = self.api.resume_task  # per resumed yield: look it up once
        # The configuration's bindings; None where there is no configuration (`lua`).
        self.bindings: BindingTable | None = None
        core: Any
        core, self.core_internals = self.run_package_lua(
            PACKAGE_DIR / "msys_core.lua",
            self.boundary.host_table(
                {**CORE_HOST_FUNCTIONS, "binding_lookup": self._binding_lookup}
            ),
            self.lua.table_from(CORE_CONSTANTS),
            self.lua.table_from(CORE_STRING_CONSTANTS),
        )
        self.preload("msys.core", lambda: core)
        # msys.runInPool / runInInst / readfile / timer (msys_async.py, session API work).
        self.msys_async = MsysAsync(self, core)
        self._install_outside()
        # thrLua opens `thread` with the standard libraries: a global, and require-able.
        thread, self.thread_waits = install_thread_library(self, self.msys_async.spawn)
        globals_.thread = thread
        self.preload("thread", lambda: thread)
        self._recorded = self.run_package_lua(
            PACKAGE_DIR / "recorded_registrations.lua", self.api
        )  # msys.adaptive, msys.http_lua
        # msys.cidr, msys.audit_series, msys.gauge_cache, msys.counter: engine-side data.
        if policy_data is None:
            policy_data = PolicyData()
            policy_data.cidr.warn = self.warn
        self.policy_data = policy_data
        openers = {**LIBRARY_OPENERS, **self.policy_data.openers(self._db_row_columns)}
        for name, opener in openers.items():  # json, xml, msys.pcre, …
            self.preload(name, functools.partial(opener, self.lua))
        self.line_coverage = coverage.attach_if_active(self)
        # Last: scripts see Lua values only from here on (sandbox.lua).
        self.run_package_lua(
            PACKAGE_DIR / "sandbox.lua",
            _no_python_attributes,
            self.api,
            trusted_chunk_prefix(),
            self.hooks,
        )

    def run_package_lua(self, path: Path, *args: object) -> Any:
        """Run one of our own Lua files (plain Lua 5.1, not translated) with ``args``."""
        chunkname = package_chunkname(path.resolve().relative_to(PACKAGE_DIR.parent).as_posix())
        loaded = self._plain_loadstring(path.read_text(encoding="latin-1"), chunkname)
        if isinstance(loaded, tuple):  # (nil, message)
            raise LuaScriptError(loaded[1])
        return loaded(*args)

    def preload(self, name: str, opener: Callable[[], object], system: bool = True) -> None:
        """Make ``require(name)`` return ``opener()``; system packages also get their
        global path (``msys.core``, ``json``) as Momentum's autoloader gives them."""
        self.api.preload(name, opener, system)

    def _install_outside(self) -> None:
        """msys.dnsLookup, msys.http.client and msys.db (msys_outside.lua): each call is a yield
        served here, or run to its end by ``_block`` outside a task."""
        self.yield_services["dns_lookup"] = dns_lookup_service
        self.yield_services["http_request"] = http_request_service
        self.datasources = Datasources()  # the generation configures them
        self.yield_services["db"] = self.datasources.service
        outside = self.run_package_lua(
            PACKAGE_DIR / "msys_outside.lua",
            self.lua.table_from({"block": self._block}),
            self.api,
            self.core_internals.new_class,
        )
        http_client = outside.http_client
        self.preload("msys.http.client", lambda: http_client)
        http = self.lua.table_from({"client": http_client})
        self.preload("msys.http", lambda: http)
        db = outside.db
        self.preload("msys.db", lambda: db)
        self._db_row_columns = outside.row_columns  # a msys.db row's column names, in order
        datasource = self.lua.table_from({})
        self.preload("msys.datasource", lambda: datasource)

    def _block(self, kind: str, *args: object) -> tuple:
        """A suspending call made outside any task: run its service on a thread of its
        own and wait (Lua arguments are plain values, read before the thread starts)."""
        return run_blocking(self.yield_services[kind](*args))

    # -- running code -----------------------------------------------------------------

    def compile(self, source: str, chunkname: str) -> object:
        """Translate and compile a chunk; ``chunkname`` is Lua's (``@path`` or ``=name``)."""
        ok, chunk_or_error = as_tuple(self.api.load(source, chunkname))[:2]
        if not ok:
            raise LuaScriptError(chunk_or_error)
        return chunk_or_error

    def call(self, function: object, *args: object) -> tuple:
        """Call a Lua function under a traceback handler; raise LuaScriptError on error."""
        result = as_tuple(self.api.call_traced(function, *args))
        if result[0] is False:
            raise self._error(str(result[1]), result[2])
        return result[1:]

    def execute(self, source: str, chunkname: str, *args: object) -> tuple:
        """Compile and run a chunk; returns what it returned."""
        return self.call(self.compile(source, chunkname), *args)

    def execute_file(self, path: Path, chunkname: str | None = None, *args: object) -> tuple:
        """Run a script file; its errors name ``chunkname`` (default: the path as given)."""
        source = Path(path).read_bytes().decode("latin-1")
        return self.execute(source, "@" + (chunkname or str(path)), *args)

    def call_hook(self, hook: str) -> list[HookResult]:
        """Call a callout (``init``, ``rsrc_setup``, ``deinit``) on every module in order."""
        results = []
        for entry in self.api.call_hook(hook).values():
            name, ok, value, traceback = (entry[i] for i in range(1, 5))
            results.append(
                HookResult(name, bool(ok), value, trim_traceback(traceback) if traceback else None)
            )
        return results

    async def run_task(
        self,
        start: Callable[[int], object],
        on_suspend: Callable[[], object] | None = None,
        on_resume: Callable[[], object] | None = None,
    ) -> tuple:
        """Drive a coroutine task to its end, serving what it yields; ``start(task_id)``
        starts it (``api.start_task`` or a binding's wrapper). ``on_suspend`` and
        ``on_resume`` bracket each served yield (a session's suspend/resume). Returns
        what it returned."""
        task_id, result = self.begin_task(start)
        return await self.finish_task(task_id, result, on_suspend, on_resume)

    def begin_task(self, start: Callable[..., object], *args: object) -> tuple[int, tuple]:
        """The first step of a task: ``start(task_id, *args)`` runs it until it ends or
        first suspends; its id and what that step gave (``finish_task`` goes on, or
        ``task_result`` reads a task that ended)."""
        task_id = next(self._task_ids)
        return task_id, as_tuple(start(task_id, *args))

    async def finish_task(
        self,
        task_id: int,
        result: tuple,
        on_suspend: Callable[[], object] | None = None,
        on_resume: Callable[[], object] | None = None,
    ) -> tuple:
        """``run_task`` from a step's ``result`` on (``begin_task``)."""
        try:
            while result[0] == "yield":
                kind = result[1] if len(result) > 1 else None
                service = self.yield_services.get(str(kind))
                if service is None:
                    self.warn(f"a task yielded {kind!r}, which nothing serves; resumed")
                    values: tuple = ()
                else:
                    if on_suspend is not None:
                        on_suspend()
                    try:
                        serving: Awaitable[tuple] = service(*result[2:])
                        if asyncio.current_task() is None:
                            # Stepped outside any task (a request answered in the listener's
                            # protocol callback): libraries such as aiohttp need one.
                            serving = asyncio.ensure_future(serving)
                        values = await serving
                    except Exception as error:  # bad yield arguments: the task's error
                        raise LuaScriptError(
                            f"{kind}: {error}", traceback.format_exc()
                        ) from error
                    await resume_batches().turn()
                    if on_resume is not None:
                        on_resume()
                result = as_tuple(self._resume_task(task_id, *values))
        except BaseException:  # cancelled (its generation retired) or a service failed
            self.api.drop_task(task_id)
            raise
        return self.task_result(result)

    def task_result(self, result: tuple) -> tuple:
        """What an ended task returned; LuaScriptError when it failed."""
        if result[0] == "error":
            raise self._error(str(result[1]), result[2])
        return result[1:]

    def _error(self, message: str, traceback: str | None) -> LuaScriptError:
        """The LuaScriptError of failed work; work that ran out of memory leaves garbage
        as large as the limit, collected now so the process gives it back."""
        if message == MEMORY_ERROR:
            self.lua.gccollect()
        return LuaScriptError(message, traceback)

    async def run_in_task(
        self, function: object, *args: object, parent: int | None = None
    ) -> tuple:
        """Call a Lua function as a task, so it may suspend (msys.sleep). A ``parent``
        task id makes it part of that task's work: its jobs and console print capture."""
        return await self.run_task(
            lambda task_id: self.api.start_task(task_id, parent or 0, function, *args)
        )

    def module_names(self) -> list[str]:
        return list(self.api.module_names().values())

    def module_hooks(self) -> list[str]:
        """``name: hook, hook`` per registered module (the policy hooks it has)."""
        return list(self.api.module_hooks().values())

    def recorded_registrations(self) -> list[str]:
        """Lines for what scripts registered for the mail paths (adaptive rules, HTTP
        delivery modules), which is recorded, not run."""
        return list(self._recorded.summary().values())

    def _binding_lookup(self, what: str, key: object) -> tuple:
        if self.bindings is None:
            return False, (
                "needs a configuration (its Binding stanzas); there is none when"
                " `momentum-httpsrv lua` runs a file"
            )
        return True, self.bindings.lookup(what, key)

    # -- print routing (console replies are captured Lua-side, console/control.lua) ----

    def _print(self, text: str) -> None:
        self._print_sink(text)

    def _file_loaded(self, chunkname: str) -> None:
        path = Path(chunkname[1:])
        if path not in self.loaded_files:
            self.loaded_files.append(path)


def _no_python_attributes(obj: object, name: str, is_setting: bool) -> str:
    """lupa's attribute filter: Lua reaches no attribute of a Python object, so one that
    ever slipped through (a host error caught by ``pcall``) leads nowhere."""
    raise AttributeError(f"{name}: Python attributes are not reachable from Lua")


class ResumeBatches:
    """Resumptions of suspended tasks, at most ``per_turn`` per event-loop iteration.

    When many outside calls finish together (200 DNS answers or HTTP responses at once),
    resuming every waiting task in the same iteration runs all their Lua back to back and
    a request that arrives meanwhile waits for all of it. A batch per iteration lets the
    loop read and start new requests (a start is never held back) between batches; the
    work done is the same."""

    per_turn = 8

    def __init__(self) -> None:  # holds no reference to its loop: the loop is the key
        self._used = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._refill_scheduled = False

    async def turn(self) -> None:
        """Return when this iteration's batch has room for one more resumption."""
        if self._used < self.per_turn and not self._waiting:
            self._used += 1
            self._schedule_refill()
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        self._schedule_refill()
        await waiter  # a cancelled waiter is skipped by _refill

    def _schedule_refill(self) -> None:
        if not self._refill_scheduled:
            self._refill_scheduled = True
            asyncio.get_running_loop().call_soon(self._refill)

    def _refill(self) -> None:
        """Next iteration: a new batch, first to those waiting longest."""
        self._refill_scheduled = False
        self._used = 0
        while self._waiting and self._used < self.per_turn:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._used += 1
        if self._used:
            self._schedule_refill()


_resume_batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ResumeBatches] = (
    weakref.WeakKeyDictionary()
)


def resume_batches() -> ResumeBatches:
    """The running loop's batches (every state's tasks share them)."""
    loop = asyncio.get_running_loop()
    batches = _resume_batches.get(loop)
    if batches is None:
        batches = _resume_batches[loop] = ResumeBatches()
    return batches


async def _sleep_service(seconds: float) -> tuple:
    """``msys.sleep`` inside a task: suspend it, keep the event loop serving."""
    await WORLD.clock.sleep(max(0.0, float(seconds)))
    return ()
