"""The one mechanism for Lua values crossing into Python: id tables, retirement and
checked trampolines (the lupa rule is written out in runtime.py's docstring).

* A Lua value that must outlive a host call lives in a Lua **id table** (``boundary.lua``)
  under an integer id; Python keeps the id (``LuaIdTable``).
* Python **retires** ids when the Python object naming them is collected (``watch``). The
  collector may run inside a host call, so retiring only queues; the queue reaches Lua
  either as a host call's return value (``retired``) or through ``release``.
* A **trampoline** is a main-state Lua function Python calls from code that is not itself
  inside a host call. ``LuaBoundary`` counts the host calls in progress (``host_function``)
  and a trampoline called inside one raises ``LuaBoundaryError`` instead of reading the
  main state's stack wrongly.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from lupa import lua51

BOUNDARY_LUA = Path(__file__).with_name("boundary.lua")
_P = ParamSpec("_P")
_R = TypeVar("_R")


class LuaBoundaryError(RuntimeError):
    """A rule of the Python/Lua boundary was broken (a programming error in a binding)."""


class LuaBoundary:
    """Per Lua state: which host calls are in progress, and the id tables of its bindings."""

    def __init__(self, lua: lua51.LuaRuntime, new_id_table: Any) -> None:
        """``new_id_table`` is what ``boundary.lua`` (``BOUNDARY_LUA``) returns."""
        self._lua = lua
        self._host_calls = 0
        self._new_id_table = new_id_table

    def host_function(self, function: Callable[_P, _R]) -> Callable[_P, _R]:
        """``function`` as a host function Lua calls: trampolines refuse to run during it."""

        def host_call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            self._host_calls += 1
            try:
                return function(*args, **kwargs)
            finally:
                self._host_calls -= 1

        return host_call

    def host_table(self, entries: Mapping[str, object]) -> Any:
        """A Lua table of host functions, each one counted while it runs; other values
        (Lua tables, strings) go in as they are."""
        return self._lua.table_from({
            name: self.host_function(value)
            if callable(value) and lua51.lua_type(value) is None else value
            for name, value in entries.items()
        })

    def trampoline(self, function: Any, name: str) -> Callable[..., Any]:
        """A main-state Lua ``function`` for Python to call outside host calls."""

        def call(*args: object) -> Any:
            if self._host_calls:
                raise LuaBoundaryError(
                    f"trampoline {name} called from inside a host call; call it from the "
                    "task runner or a loop callback"
                )
            return function(*args)

        return call

    def id_table(self, kind: str) -> LuaIdTable:
        """A new id table for values of ``kind`` (named in errors: "console command")."""
        return LuaIdTable(self, self._lua, kind)


class LuaIdTable:
    """Lua values of one kind held in Lua under integer ids, and the ids Python retired.

    ``lua_table`` is what the binding's Lua file uses (``put``, ``get``, ``forget``)."""

    def __init__(self, boundary: LuaBoundary, lua: lua51.LuaRuntime, kind: str) -> None:
        self._lua = lua
        self.kind = kind
        self.lua_table: Any = boundary._new_id_table(kind)
        self._retired_ids: list[int] = []
        self._forget = boundary.trampoline(self.lua_table.forget, f"{kind} forget")
        self._count = boundary.trampoline(self.lua_table.count, f"{kind} count")

    def watch(self, owner: object, ids: Iterable[int]) -> None:
        """Retire ``ids`` when ``owner`` is collected."""
        weakref.finalize(owner, self._retired_ids.extend, ids)

    def retired(self) -> object | None:
        """The queued ids as a Lua array for a host call to return (None when there are
        none); the queue is emptied. Allowed inside host calls."""
        if not self._retired_ids:
            return None
        taken, self._retired_ids[:] = list(self._retired_ids), []
        table: object = self._lua.table_from(taken)
        return table

    def release(self) -> None:
        """Make Lua forget the queued ids now (a trampoline: outside host calls only)."""
        if self._retired_ids:
            self._forget(self.retired())

    def count(self) -> int:
        """How many values Lua holds after releasing the queue (leak checks)."""
        self.release()
        return int(self._count())
