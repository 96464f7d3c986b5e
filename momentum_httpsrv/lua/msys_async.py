"""``msys.runInPool``, ``msys.runInInst``, ``msys.readfile`` and ``msys.timer``: the
helpers that suspend a handler or run Lua later (docs/generations.md#jobs-and-timers).

Lua runs only on the event-loop thread (a lupa runtime is not thread-safe), so a "pool"
job is Lua run as its own task on the loop: it may suspend (``msys.sleep``,
``msys.readfile``) without blocking other connections, and what really blocks — file
reads — goes to the loop's thread-pool executor. Each job holds a slot of its pool
(``threadpools.py``) while it runs, so a pool's ``Concurrency`` limits its jobs.

Jobs and timers belong to the generation whose state made them. Made before any event
loop runs (script top level, ``init``, ``rsrc_setup`` during start-up) they wait, and
``start()`` arms them once the node serves; ``call`` and ``check`` never serve, so there
they never run. ``close()`` cancels them all when the generation is retired.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import time
from pathlib import Path

from .errors import LuaScriptError
from .host import LuaHost
from .msys_core import read_file
from .outside import WORLD, Cancellable
from .threadpools import ThreadPool, ThreadPools, describe_pool


class MsysAsync:
    """Installs the helpers into one Lua state and runs what they queue."""

    def __init__(self, state: LuaHost, core: object) -> None:
        self._state = state
        self.pools = ThreadPools()  # threadpool stanzas change and add pools (configure)
        self._warned_pools: set[str] = set()
        self._jobs: dict[int, set[asyncio.Task]] = {}  # owner root task id → running jobs
        self._timer_handles: dict[int, Cancellable] = {}
        self._timer_tasks: set[asyncio.Task] = set()
        self._timer_ids = itertools.count(1)
        # Made while no loop ran: timer id → monotonic deadline; (owner, job id).
        self._waiting_timers: dict[int, float] = {}
        self._waiting_jobs: list[tuple[int, int, ThreadPool | None]] = []
        self._closed = False
        host = state.boundary.host_table(
            {
                "check_pool": self._check_pool,
                "pool_count": lambda: len(self.pools),
                "pool_find": self._pool_find,
                "pool_stat": self._pool_stat,
                "pool_describe": self._pool_describe,
                "spawn": self._spawn,
                "read_file": read_file,
                "timer_schedule": self._timer_schedule,
                "timer_cancel": self._timer_cancel,
                "timer_id": lambda: next(self._timer_ids),
                "now": lambda: WORLD.clock.time(),
            }
        )
        self._api = state.run_package_lua(
            Path(__file__).with_name("msys_async.lua"),
            host,
            state.api,
            state.core_internals.new_class,
        )
        self._api.install_core(core)
        timer = self._api.timer
        state.preload("msys.timer", lambda: timer)
        threadpool = self._api.threadpool
        state.preload("msys.threadpool", lambda: threadpool)
        state.yield_services["run_in_pool"] = self._run_in_pool_service
        state.yield_services["readfile"] = _readfile_service

    @property
    def master_scheduler(self) -> object:
        """The Lua ``ec_scheduler_inst`` of the one event loop (for session bindings)."""
        return self._api.master

    @property
    def spawn(self) -> object:
        """The Lua function that runs a Lua function later as its own task."""
        return self._api.spawn

    def _pool(self, key: object) -> ThreadPool:
        """The pool a script named (by name or job class id); an unknown one is warned
        about once and its jobs run in IO."""
        pool = self.pools.find(key)
        if pool is not None:
            return pool
        name = str(key)
        if name not in self._warned_pools:
            self._warned_pools.add(name)
            self._state.warn(
                f"msys.runInPool: no thread pool named {name!r}; using IO"
            )
        found = self.pools.find("IO")
        assert found is not None
        return found

    def _check_pool(self, key: object) -> None:
        self._pool(key)

    def _pool_find(self, key: object) -> object:
        """``msys.threadpool.find``: a name gives its job class id, an id its name."""
        pool = self.pools.find(key)
        if pool is None:
            return None
        return pool.job_class if isinstance(key, str) else pool.name

    def _pool_describe(self, key: object) -> str:
        pool = self.pools.find(key)
        return "" if pool is None else describe_pool(pool.stat())

    def _pool_stat(self, key: object) -> object:
        pool = self.pools.find(key)
        return None if pool is None else self._state.lua.table_from(pool.stat())

    async def _run_in_pool_service(
        self, pool: object, function: object, parent: int | None = None
    ) -> tuple:
        """The synchronous form: the caller resumes with pcall-style results."""
        try:
            if pool is None:  # runInInst: the one event loop, no pool
                return (True, *await self._state.run_in_task(function, parent=parent))
            async with self._pool(pool).slot():
                return (True, *await self._state.run_in_task(function, parent=parent))
        except LuaScriptError as error:
            return False, error.message

    # -- jobs (runInPool's asynchronous forms) -------------------------------------------

    def _spawn(self, owner: int, job_id: int, pool: object | None) -> None:
        """Start job ``job_id`` in ``pool`` (None: in no pool, a thread.create thread)
        once the caller returns to the loop; the owner task's runner may wait for it
        (``wait_jobs``)."""
        if self._closed:
            return
        loop = _running_loop()
        job = (int(owner), int(job_id), None if pool is None else self._pool(pool))
        if loop is None:
            self._waiting_jobs.append(job)
        else:
            self._start_job(loop, *job)

    def _start_job(
        self, loop: asyncio.AbstractEventLoop, owner: int, job_id: int, pool: ThreadPool | None
    ) -> None:
        # A fresh context: a job queued by another pool's job is not nested in it.
        task = loop.create_task(self._job(owner, job_id, pool), context=contextvars.Context())
        self._jobs.setdefault(owner, set()).add(task)
        task.add_done_callback(lambda done: self._job_done(owner, done))

    def _job_done(self, owner: int, task: asyncio.Task) -> None:
        jobs = self._jobs.get(owner)
        if jobs is not None:
            jobs.discard(task)
            if not jobs:
                del self._jobs[owner]

    async def _job(self, owner: int, job_id: int, pool: ThreadPool | None) -> None:
        try:
            async with pool.slot() if pool is not None else contextlib.nullcontext():
                await self._state.run_task(
                    lambda task_id: self._api.start_job(task_id, owner, job_id)
                )
        except LuaScriptError as error:
            self._state.warn(
                f"a msys.runInPool job or thread failed: {error.message}"
            )

    def has_jobs(self, owner: int) -> bool:
        """Whether a task started asynchronous jobs that have not finished."""
        return owner in self._jobs

    async def wait_jobs(self, owner: int) -> None:
        """Wait for the asynchronous jobs a task started, and the jobs they started
        (deterministic handler and command ends)."""
        while jobs := self._jobs.get(owner):
            await asyncio.wait(set(jobs))
            jobs.difference_update([task for task in list(jobs) if task.done()])
        self._jobs.pop(owner, None)

    def pending_jobs(self) -> int:
        """Jobs started or waiting for the loop (tests: nothing is held for nothing)."""
        return sum(len(jobs) for jobs in self._jobs.values()) + len(self._waiting_jobs)

    # -- timers ----------------------------------------------------------------------------

    def _timer_schedule(self, timer_id: int, delay: float) -> None:
        if self._closed:
            return
        delay = max(0.0, float(delay))
        if WORLD.clock.needs_loop and _running_loop() is None:
            self._waiting_timers[int(timer_id)] = time.monotonic() + delay
        else:
            self._arm(int(timer_id), delay)

    def _arm(self, timer_id: int, delay: float) -> None:
        previous = self._timer_handles.pop(timer_id, None)
        if previous is not None:
            previous.cancel()
        self._timer_handles[timer_id] = WORLD.clock.call_later(
            delay, lambda: self._timer_due(timer_id)
        )

    def _timer_cancel(self, timer_id: int) -> None:
        self._waiting_timers.pop(int(timer_id), None)
        handle = self._timer_handles.pop(int(timer_id), None)
        if handle is not None:
            handle.cancel()

    def _timer_due(self, timer_id: int) -> None:
        self._timer_handles.pop(timer_id, None)
        task = asyncio.get_running_loop().create_task(self._fire(timer_id))
        self._timer_tasks.add(task)
        task.add_done_callback(self._timer_tasks.discard)

    async def _fire(self, timer_id: int) -> None:
        try:
            await self._state.run_in_task(self._api.fire, timer_id)
        except LuaScriptError as error:
            self._state.warn(f"msys.timer callback failed: {error.message}")

    # -- the generation's life -------------------------------------------------------------

    def start(self) -> None:
        """The node's loop runs (``serve``): arm the timers and start the jobs that were
        made before it did. Call it from that loop."""
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        for timer_id, deadline in self._waiting_timers.items():
            self._arm(timer_id, max(0.0, deadline - now))
        self._waiting_timers.clear()
        for owner, job_id, pool in self._waiting_jobs:
            self._start_job(loop, owner, job_id, pool)
        self._waiting_jobs.clear()

    def close(self) -> None:
        """The generation is retired: cancel its timers and jobs, so nothing runs in its
        Lua state any more and the state can be released."""
        self._closed = True
        for handle in self._timer_handles.values():
            handle.cancel()
        self._timer_handles.clear()
        self._waiting_timers.clear()
        self._waiting_jobs.clear()
        tasks = [*self._timer_tasks, *(task for jobs in self._jobs.values() for task in jobs)]
        for task in tasks:
            if not task.done() and not task.get_loop().is_closed():
                task.cancel()
        self._timer_tasks.clear()
        self._jobs.clear()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def _readfile_service(name: str) -> tuple:
    """``msys.readfile`` in a task: the read runs on a worker thread."""
    return await asyncio.to_thread(read_file, name)
