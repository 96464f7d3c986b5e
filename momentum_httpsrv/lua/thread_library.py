"""thrLua's ``thread`` library (``thread_library.lua``): the host half, where a task
waiting for a lock, a condition or a thread is parked until Lua notifies its key."""

from __future__ import annotations

import asyncio
import errno
import os
import time
from pathlib import Path

from .host import LuaHost

# The codes thrlib.c's lock calls report, with glibc's strerror texts.
_LOCK_ERRNOS = ("EDEADLK", "EPERM", "EBUSY", "EINVAL")


class ThreadWaits:
    """Tasks parked on a key until ``notify(key)``; every waiter re-checks its lock.
    A waiter that is cancelled (its generation retired) or times out leaves nothing
    behind."""

    def __init__(self) -> None:
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}

    def notify(self, key: float) -> None:
        for waiter in self._waiters.pop(int(key), ()):
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, key: float, timeout: float | None = None) -> tuple:
        """The ``thread_wait`` yield service: (True,) when notified, (False,) on timeout."""
        number = int(key)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(number, []).append(waiter)
        try:
            await asyncio.wait_for(waiter, None if timeout is None else max(0.0, float(timeout)))
        except TimeoutError:
            return (False,)
        finally:
            waiters = self._waiters.get(number)
            if waiters is not None and waiter in waiters:
                waiters.remove(waiter)
                if not waiters:
                    del self._waiters[number]
        return (True,)

    def parked(self) -> int:
        """How many tasks wait now (tests: nothing is left behind)."""
        return sum(len(waiters) for waiters in self._waiters.values())


def install_thread_library(state: LuaHost, spawn: object) -> tuple[object, ThreadWaits]:
    """Build the ``thread`` table in ``state`` (``spawn`` runs a Lua function later as
    a task) and serve its waits; returns the table and the waits."""
    waits = ThreadWaits()
    state.yield_services["thread_wait"] = waits.wait
    codes: dict[str, object] = {}
    for name in _LOCK_ERRNOS:
        code = getattr(errno, name)
        codes[name], codes[f"{name}_text"] = code, os.strerror(code)
    host = state.boundary.host_table(
        {
            "notify": waits.notify,
            "warn": state.warn,
            "block_sleep": time.sleep,
            "now": time.monotonic,
        }
    )
    thread = state.run_package_lua(
        Path(__file__).with_name("thread_library.lua"),
        host,
        state.api,
        state.core_internals.new_class,
        state.lua.table_from(codes),
        spawn,
    )
    return thread, waits
