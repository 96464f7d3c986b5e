"""The debug hook of a Lua state (hooks.lua): the CPU-time limit of Lua work, the way a
signal stops Lua that spins, and the line hook coverage uses.

Why a hook: Lua that never yields (``while true do end`` in a handler) never gives the
event loop back, so nothing else runs, not even the loop's signal handlers. Lua 5.1's
count hook runs a function every ``HOOK_COUNT`` VM instructions, on every coroutine that
has it, and allows one hook per coroutine, so hooks.lua is the one place that installs
it and dispatches its events to every feature (line coverage: ``set_line``):

* every entry from Python into the state (``api.start_task``, ``api.resume_task``,
  ``api.call_traced`` in prelude.lua) calls ``enter()``, which gives the work a fresh
  deadline of ``limit`` seconds of process CPU time (``os.clock``, read at the entry's
  first check, so an entry that ends sooner costs no clock read);
* every coroutine gets the hook when it is made (``install(co)``: task coroutines and the
  ones scripts make with ``coroutine.create``/``wrap``); the main thread at entry;
* past the deadline the hook raises ``CPU time limit exceeded`` at the script's line, and
  from then on checks every instruction of that coroutine, so a ``pcall`` around the loop
  cannot swallow it; our own package frames (a traceback handler) are let through;
* a check that finds ``HOOK_POLL_INTERVAL`` CPU seconds gone since the last poll calls
  ``poll`` (Python): Python runs its pending signal handlers there, and a reason set by
  ``interrupt_lua_work`` (SIGTERM) ends the running work the same way, once on each OS
  thread running Lua (the loop's, and a reload's worker while it loads).

The clock is the process's CPU time, shared by the threads: while a reload's top level
or ``init`` computes on its worker thread, the CPU both threads use counts against the
loading code's limit and a running handler's alike, so the limit is then stricter, never
looser (docs/generations.md).

A script's own ``debug.sethook`` does not replace it: hooks.lua arms that thread with a
second dispatcher that serves both, and runs the script's hook function in a coroutine of
its own, which the limit covers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from lupa import lua51

from .chunknames import INTERNAL_MARK

# Each check costs about a microsecond (the hook call and os.clock, a system call); 100,000
# instructions are 0.3 ms of plain Lua and a few ms of Lua that allocates, so the check
# costs well under 1 % and a signal is seen within milliseconds. Lua whose instructions
# are each very long (concatenating megabyte strings) is checked more rarely in time, as
# is a long call into C (not interrupted at all).
HOOK_COUNT = 100_000
HOOK_POLL_INTERVAL = 0.01  # CPU seconds between two polls of Python
DEFAULT_CPU_LIMIT = 10.0  # seconds; scriptlet { CPU_Time_Limit = … }

# The latest interrupt: (its number, its reason or None once cleared), replaced whole so
# that a reader on another thread never sees half of it.
_interrupt: tuple[int, str | None] = (0, None)
# Per OS thread, the number of the last interrupt its Lua work was ended by. Lua runs on
# the loop thread and, while a reload loads, on the reload's worker thread: each must
# see the interrupt, or the one that polled first would take it from the other, which
# would spin on until its CPU-time limit (and hold up the stop).
_delivered = threading.local()


def interrupt_lua_work(reason: str) -> None:
    """End the Lua work running now (and the next to poll) on every thread with
    ``reason``: a signal handler calls this so that Lua spinning on the loop, or in a
    reload's worker thread, cannot keep the server up."""
    global _interrupt
    _interrupt = (_interrupt[0] + 1, reason)


def clear_interrupt() -> None:
    global _interrupt
    _interrupt = (_interrupt[0], None)


def _poll() -> str | None:
    """Called from the hook: the reason the running work must end, once per thread."""
    number, reason = _interrupt
    if reason is None or getattr(_delivered, "number", 0) >= number:
        return None
    _delivered.number = number
    return reason


def trusted_chunk_prefix() -> str:
    """Chunk names of our own Lua files; the hook lets their frames finish."""
    return f"={INTERNAL_MARK}/"


def hooks_host(lua: lua51.LuaRuntime, warn: Callable[[str], None]) -> object:
    """What hooks.lua is called with: the poll, the check intervals and where a failed
    `__gc` finalizer is reported."""
    return lua.table_from(
        {
            "poll": _poll,
            "warn": warn,
            "trusted_prefix": trusted_chunk_prefix(),
            "count": HOOK_COUNT,
            "poll_interval": HOOK_POLL_INTERVAL,
        }
    )
