"""The debug hook of a Lua state: the CPU-time limit of Lua work and the way a signal
stops Lua that spins (hooks.lua).

Why a hook: Lua that never yields (``while true do end`` in a handler) never gives the
event loop back, so nothing else runs, not even the loop's signal handlers. Lua 5.1's
count hook runs a function every ``HOOK_COUNT`` VM instructions, on every coroutine that
has it. This is the one place that installs it:

* every entry from Python into the state (``api.start_task``, ``api.resume_task``,
  ``api.call_traced`` in prelude.lua) calls ``enter()``, which gives the work a fresh
  deadline of ``limit`` seconds of process CPU time (``os.clock``, read at the entry's
  first check, so an entry that ends sooner costs no clock read);
* every coroutine gets the hook when it is made (``install(co)``: task coroutines and the
  ones scripts make with ``coroutine.create``/``wrap``); the main thread gets it at entry;
* past the deadline the hook raises ``CPU time limit exceeded`` at the script's line, and
  from then on checks every instruction of that coroutine, so a ``pcall`` around the loop
  cannot swallow it; our own package frames (a traceback handler) are let through;
* every ``HOOK_POLL_EVERY`` checks the hook calls ``poll`` (Python): Python runs its
  pending signal handlers there, and a reason set by ``interrupt_lua_work`` (SIGTERM)
  ends the running work the same way.

Lua 5.1 allows one hook per coroutine, so other hooks join this one rather than replace
it: ``set_line_hook(fn)`` makes the same hook also call ``fn(line)`` on every line (Lua
line coverage uses it). Scripts cannot replace it: the sandbox's ``debug.sethook`` refuses.
"""

from __future__ import annotations

from pathlib import Path

from lupa import lua51

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # momentum_httpsrv/
# About 0.1-0.5 ms of Lua between checks: cheap, and a signal is seen within milliseconds.
HOOK_COUNT = 20000
HOOK_POLL_EVERY = 8
DEFAULT_CPU_LIMIT = 10.0  # seconds; scriptlet { CPU_Time_Limit = … }

_interrupt_reason: str | None = None


def interrupt_lua_work(reason: str) -> None:
    """End the Lua work running now (and the next to poll) with ``reason``: a signal
    handler calls this so that Lua spinning on the loop cannot keep the server up."""
    global _interrupt_reason
    _interrupt_reason = reason


def clear_interrupt() -> None:
    global _interrupt_reason
    _interrupt_reason = None


def _poll() -> str | None:
    """Called from the hook: the reason the running work must end, once."""
    global _interrupt_reason
    reason, _interrupt_reason = _interrupt_reason, None
    return reason


def trusted_chunk_prefix() -> str:
    """Chunk names of our own Lua files; the hook lets their frames finish."""
    return f"@{PACKAGE_ROOT}/"


class LuaHooks:
    """The hook functions of one state (hooks.lua's api): ``enter``, ``install``,
    ``set_limit``, ``set_line_hook``."""

    def __init__(self, lua: lua51.LuaRuntime, run_package_lua, cpu_limit: float) -> None:
        host = lua.table_from(
            {
                "poll": _poll,
                "trusted_prefix": trusted_chunk_prefix(),
                "count": HOOK_COUNT,
                "poll_every": HOOK_POLL_EVERY,
            }
        )
        self.api = run_package_lua(Path(__file__).with_name("hooks.lua"), host)
        self.set_cpu_limit(cpu_limit)

    def set_cpu_limit(self, seconds: float) -> None:
        """CPU seconds each entry into the state may use; 0 means no limit, and then no
        hook either (unless a line hook is set): nothing is checked, nothing is paid. A
        signal then cannot stop spinning Lua."""
        self.api.set_limit(float(seconds))
