"""Momentum's thread pools as the emulator runs them: named job classes with a
concurrency limit, fed by ``msys.runInPool`` and reported by ``msys.threadpool.*`` and the
console's ``threads stats`` (README: Thread pools).

Lua runs on the event-loop thread only, so a pool does not own OS threads: a job is an
asyncio task that holds one of the pool's ``concurrency`` slots while it runs (a pool with
concurrency 0 has no limit, as Momentum's ``Close`` pool runs its work inline). Jobs over
the limit wait in the pool's FIFO queue, so ``queue_sz`` and saturation mean what they
mean on Momentum.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from ..config import Configuration, ConfigValueError

# Momentum's predefined pools and their default concurrency (config/ref-threadpool.md),
# in the documented order; their job class ids are their positions from 1.
STOCK_POOLS: tuple[tuple[str, int], ...] = (
    ("SwapOut", 5),
    ("SwapIn", 5),
    ("Unlink", 6),
    ("Batch_Unlink", 4),
    ("Close", 0),
    ("CPU", 4),
    ("IO", 50),
    ("SpoolIn", 1),
)
# The pool a job runs in (None: the scheduler); a job that calls runInPool on its own pool
# runs inline rather than waiting for a slot it may itself be holding.
current_pool: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_pool", default=None
)


@dataclass
class ThreadPool:
    """One pool: its limit and what it has run."""

    name: str
    job_class: int
    concurrency: int
    created: float = field(default_factory=time.monotonic)
    invocations: int = 0
    running: int = 0
    queued: int = 0
    wallclock_total: float = 0.0  # sum of finished jobs' run times
    busy_since: float | None = None  # when running last went from 0 to 1
    busy_total: float = 0.0  # time with at least one job running
    saturated_since: float | None = None
    saturated_total: float = 0.0  # time with every slot taken
    _taken: int = 0  # slots held (a nested job holds none)
    _waiters: deque[asyncio.Future[None]] = field(default_factory=deque)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Run the body as one job of this pool (waiting in FIFO order for a slot)."""
        nested = current_pool.get() == self.name
        if not nested:
            await self._acquire()
        token = current_pool.set(self.name)
        started = time.monotonic()
        self._started(started)
        try:
            yield
        finally:
            finished = time.monotonic()
            self._finished(finished, finished - started)
            current_pool.reset(token)
            if not nested:
                self._taken -= 1
                self.wake()

    def _free(self) -> bool:
        return self.concurrency <= 0 or self._taken < self.concurrency

    async def _acquire(self) -> None:
        if self._free() and not self._waiters:
            self._taken += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self.queued += 1
        try:
            await waiter  # wake() took the slot for us
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # woken, then cancelled
                self._taken -= 1
                self.wake()
            raise
        finally:
            self.queued -= 1

    def wake(self) -> None:
        """Hand free slots to waiting jobs in order (after a job ends or the pool's
        ``Concurrency`` changed)."""
        while self._waiters and self._free():
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._taken += 1
                waiter.set_result(None)

    def _started(self, now: float) -> None:
        self.invocations += 1
        if self.running == 0:
            self.busy_since = now
        self.running += 1
        if self.saturated_since is None and 0 < self.concurrency <= self.running:
            self.saturated_since = now

    def _finished(self, now: float, wallclock: float) -> None:
        self.running -= 1
        if self.saturated_since is not None and self.running < self.concurrency:
            self.saturated_total += now - self.saturated_since
            self.saturated_since = None
        self.wallclock_total += wallclock
        if self.running == 0 and self.busy_since is not None:
            self.busy_total += now - self.busy_since
            self.busy_since = None

    def stat(self) -> dict[str, object]:
        """``msys.threadpool.stat``'s fields (ref-msys-threadpool-stat.md)."""
        now = time.monotonic()
        busy = self.busy_total + (now - self.busy_since if self.busy_since is not None else 0)
        saturated = self.saturated_total + (
            now - self.saturated_since if self.saturated_since is not None else 0
        )
        running_time = self.wallclock_total  # finished jobs; running ones count when done
        finished = self.invocations - self.running
        threads = self.concurrency
        return {
            "name": self.name,
            "invocations": self.invocations,
            "avg_concurrency": running_time / busy if busy > 0 else 0.0,
            "saturation": 100.0 * saturated / (now - self.created) if now > self.created else 0.0,
            "avg_wallclock_time_per_op": 1000.0 * running_time / finished if finished else 0.0,
            "queue_sz": self.queued,
            "num_threads": threads,
            "num_active_threads": self.running,
            "num_inactive_threads": max(0, threads - self.running),
            "job_num_queued": self.queued,
            "job_num_running": self.running,
        }


def describe_pool(stat: dict[str, object]) -> str:
    """A pool as ``threads stats`` prints it (console-commands/threads.md): the heading,
    and, once the pool has run a job, its counters and thread counts."""
    name = str(stat["name"]).upper()
    lines = [f"{name} thread pool: concurrency {stat['num_threads']}"]
    if stat["invocations"]:
        lines += [
            f"{'Total invocations':>32}: {stat['invocations']}",
            f"{'Observed average concurrency':>32}: {stat['avg_concurrency']:.2f}",
            f"{'Thread pool saturation':>32}: {stat['saturation']:5.2f}%",
            f"{'Average wallclock time per op':>32}: {stat['avg_wallclock_time_per_op']:.2f}ms",
            f"{'Current thread count':>32}: {stat['num_active_threads']}",
            "  [inactive threads]",
            f"{'Current thread count':>32}: {stat['num_inactive_threads']}",
        ]
    return "".join(line + "\n" for line in lines)


class ThreadPools:
    """A generation's pools: the stock ones, changed or added by ``threadpool`` stanzas."""

    def __init__(self) -> None:
        self._by_name: dict[str, ThreadPool] = {}
        self._by_class: dict[int, ThreadPool] = {}
        for name, concurrency in STOCK_POOLS:
            self._add(name, concurrency)

    def _add(self, name: str, concurrency: int) -> ThreadPool:
        pool = ThreadPool(name, len(self._by_class) + 1, concurrency)
        self._by_name[name.lower()] = pool
        self._by_class[pool.job_class] = pool
        return pool

    def configure(self, config: Configuration) -> None:
        """Apply the configuration's ``threadpool "NAME" { Concurrency = N }`` stanzas
        (ConfigValueError at the option's place for a negative count).

        As Momentum's implicit ThreadPool settings, every stock pool has a stanza and every
        stanza a ``Concurrency`` (the stock value, else 1, where none is set, also after
        ``config unset``), so ``config get``/``eval``/``set`` name what the pools run with.
        """
        named = {stanza.name.lower() for stanza in config.root.scopes("threadpool") if stanza.name}
        for name, _ in STOCK_POOLS:
            if name.lower() not in named:
                config.ensure_scope(["ThreadPool", name])
        for stanza in config.root.scopes("threadpool"):
            if not stanza.name:
                continue
            option = stanza.option("concurrency")
            if option is None:
                default = dict((n.lower(), c) for n, c in STOCK_POOLS).get(stanza.name.lower(), 1)
                option = stanza.set_option_text("Concurrency", str(default))
            concurrency = option.as_int()
            if concurrency < 0:
                raise ConfigValueError(option.location, "Concurrency must be 0 or more threads")
            pool = self.find(stanza.name)
            if pool is None:
                self._add(stanza.name, concurrency)
            elif concurrency != pool.concurrency:
                pool.concurrency = concurrency  # "can be changed at runtime"
                pool.wake()

    def find(self, key: object) -> ThreadPool | None:
        """The pool named ``key`` (any case) or with job class id ``key``."""
        if isinstance(key, str):
            return self._by_name.get(key.lower())
        if isinstance(key, int | float) and not isinstance(key, bool) and float(key).is_integer():
            return self._by_class.get(int(key))
        return None

    def __iter__(self) -> Iterator[ThreadPool]:
        return iter(self._by_class.values())

    def __len__(self) -> int:
        return len(self._by_class)
