"""``msys.runInPool``, ``msys.runInInst``, ``msys.readfile`` and ``msys.timer``: the
helpers that suspend a handler or run Lua later (lua-runtime.md §4.6, §4.9).

Lua runs only on the event-loop thread (a lupa runtime is not thread-safe), so a "pool"
job is Lua run as its own task on the loop: it may suspend (``msys.sleep``,
``msys.readfile``) without blocking other connections, and what really blocks — file
reads — goes to the loop's thread-pool executor. Pool names are checked but all pools
share that one model.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .msys_core import read_file

if TYPE_CHECKING:
    from .runtime import LuaState

# Momentum's stock thread pools, and names scripts use for pools they configure.
KNOWN_POOLS = frozenset(
    {"SwapOut", "SwapIn", "Unlink", "Batch_Unlink", "Close", "CPU", "IO", "SpoolIn", "DNS", "gc"}
)


class MsysAsync:
    """Installs the helpers into one LuaState and runs what they queue."""

    def __init__(self, state: LuaState, core: object) -> None:
        self._state = state
        self.pools: set[str] = set(KNOWN_POOLS)  # threadpool stanzas add their names
        self._warned_pools: set[str] = set()
        self._jobs: dict[int, list[asyncio.Task]] = {}
        self._timer_handles: dict[int, asyncio.TimerHandle] = {}
        self._timer_tasks: set[asyncio.Task] = set()
        self._timer_ids = itertools.count(1)
        host = state.lua.table_from(
            {
                "check_pool": self._check_pool,
                "spawn": self._spawn,
                "read_file": read_file,
                "timer_schedule": self._timer_schedule,
                "timer_cancel": self._timer_cancel,
                "timer_id": lambda: next(self._timer_ids),
                "now": time.time,
            }
        )
        self._api = state.run_package_lua(
            Path(__file__).with_name("msys_async.lua"),
            host,
            state.api.current_task,
            state.core_internals.new_class,
        )
        self._api.install_core(core)
        timer = self._api.timer
        state.preload("msys.timer", lambda: timer)
        state.yield_services["run_in_pool"] = self._run_in_pool_service
        state.yield_services["readfile"] = _readfile_service

    @property
    def master_scheduler(self) -> object:
        """The Lua ``ec_scheduler_inst`` of the one event loop (for session bindings)."""
        return self._api.master

    def _check_pool(self, pool: object) -> None:
        name = str(pool)
        if not isinstance(pool, str) or name in self.pools or name in self._warned_pools:
            return
        self._warned_pools.add(name)
        self._state.warn(f"scriptlet: msys.runInPool: no thread pool named {name!r}; using IO")

    async def _run_in_pool_service(self, function: object) -> tuple:
        """The synchronous form: the caller resumes with pcall-style results."""
        from .runtime import LuaScriptError

        try:
            return (True, *await self._state.run_in_task(function))
        except LuaScriptError as error:
            return False, error.message

    def _spawn(self, owner: int, function: object, completion: object = None) -> None:
        """Fire-and-forget and completion forms: start once the caller returns to the
        loop; the owner task's runner may wait for them (``wait_jobs``)."""
        task = asyncio.get_running_loop().create_task(self._job(function, completion))
        jobs = self._jobs.setdefault(int(owner), [])
        jobs.append(task)

    async def _job(self, function: object, completion: object) -> None:
        from .runtime import LuaScriptError

        try:
            await self._state.run_in_task(function)
            if completion is not None:
                await self._state.run_in_task(completion)
        except LuaScriptError as error:
            self._state.warn(f"scriptlet: msys.runInPool job failed: {error.message}")

    async def wait_jobs(self, owner: int) -> None:
        """Wait for the asynchronous jobs a task started (deterministic handler ends)."""
        jobs = self._jobs.pop(owner, [])
        if jobs:
            await asyncio.gather(*jobs)

    def _timer_schedule(self, timer_id: int, delay: float) -> None:
        loop = asyncio.get_running_loop()
        handle = loop.call_later(max(0.0, float(delay)), self._timer_due, int(timer_id))
        self._timer_handles[int(timer_id)] = handle

    def _timer_cancel(self, timer_id: int) -> None:
        handle = self._timer_handles.pop(int(timer_id), None)
        if handle is not None:
            handle.cancel()

    def _timer_due(self, timer_id: int) -> None:
        self._timer_handles.pop(timer_id, None)
        task = asyncio.get_running_loop().create_task(self._fire(timer_id))
        self._timer_tasks.add(task)
        task.add_done_callback(self._timer_tasks.discard)

    async def _fire(self, timer_id: int) -> None:
        from .runtime import LuaScriptError

        try:
            await self._state.run_in_task(self._api.fire, timer_id)
        except LuaScriptError as error:
            self._state.warn(f"scriptlet: msys.timer callback failed: {error.message}")


async def _readfile_service(name: str) -> tuple:
    """``msys.readfile`` in a task: the read runs on a worker thread."""
    return await asyncio.to_thread(read_file, name)
