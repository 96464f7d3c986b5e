"""thrLua's ``thread`` library (``thread_library.lua``): the host half, where a task
waiting for a lock, a condition or a thread is parked until Lua notifies its key."""

from __future__ import annotations

import asyncio
import errno
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .runtime import LuaState

# The codes thrlib.c's lock calls report, with glibc's strerror texts.
_LOCK_ERRNOS = ("EDEADLK", "EPERM", "EBUSY", "EINVAL")


class ThreadWaits:
    """Tasks parked on a key until ``notify(key)``; every waiter re-checks its lock."""

    def __init__(self) -> None:
        self._events: dict[int, asyncio.Event] = {}

    def notify(self, key: float) -> None:
        event = self._events.pop(int(key), None)
        if event is not None:
            event.set()

    async def wait(self, key: float, timeout: float | None = None) -> tuple:
        """The ``thread_wait`` yield service: (True,) when notified, (False,) on timeout."""
        event = self._events.setdefault(int(key), asyncio.Event())
        if timeout is None:
            await event.wait()
            return (True,)
        try:
            await asyncio.wait_for(event.wait(), max(0.0, float(timeout)))
        except TimeoutError:
            return (False,)
        return (True,)


def install_thread_library(state: LuaState, spawn: object) -> object:
    """Build the ``thread`` table in ``state`` (``spawn`` runs a Lua function later as
    a task) and serve its waits."""
    waits = ThreadWaits()
    state.yield_services["thread_wait"] = waits.wait
    codes: dict[str, object] = {}
    for name in _LOCK_ERRNOS:
        code = getattr(errno, name)
        codes[name], codes[f"{name}_text"] = code, os.strerror(code)
    host = state.lua.table_from(
        {
            "notify": waits.notify,
            "warn": state.warn,
            "block_sleep": time.sleep,
            "now": time.monotonic,
        }
    )
    return state.run_package_lua(
        Path(__file__).with_name("thread_library.lua"),
        host,
        state.api,
        state.core_internals.new_class,
        state.lua.table_from(codes),
        spawn,
    )
