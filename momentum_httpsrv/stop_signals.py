"""SIGINT and SIGTERM while ``serve`` runs: stop serving, and end Lua work that spins."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from .lua.hooks import clear_interrupt, interrupt_lua_work

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stopping_on_signals(stop: asyncio.Event) -> Iterator[list[str]]:
    """Within the block, SIGINT/SIGTERM set ``stop`` (from the running loop) and end the
    Lua work running then; yields the names of the signals received, in order. The
    previous handlers come back at the end.

    A Python-level handler, not ``loop.add_signal_handler``: it also runs while Lua spins
    on the loop (the Lua hook polls Python), and ends that Lua work."""
    loop = asyncio.get_running_loop()
    received: list[str] = []

    def on_signal(signum: int, frame: object) -> None:
        received.append(signal.Signals(signum).name)
        interrupt_lua_work(f"interrupted: the server is stopping ({signal.strsignal(signum)})")
        loop.call_soon_threadsafe(stop.set)

    previous = {signum: signal.signal(signum, on_signal) for signum in STOP_SIGNALS}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        clear_interrupt()
